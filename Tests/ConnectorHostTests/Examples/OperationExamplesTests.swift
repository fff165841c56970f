import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The examples about keys and operations: upsert, update, delete, truncate.
@Suite("Examples: keys and operations")
struct OperationExamplesTests {
    @Test("three-operations applies upserts, a partial update and a soft delete in one sync; the next sync sends nothing")
    func threeOperations() throws {
        let fixture = try ConnectorFixture.example("three-operations")
        let counts = fixture.syncExpectingSuccess().counts
        #expect([counts.upserts, counts.updates, counts.deletes, counts.checkpoints] as [Int] == [3, 1, 1, 1])
        let rows = #"SELECT "id", "title", "status", "priority", "_connector_deleted" FROM "ticket" ORDER BY "id""#
        let expected = [
            ["1", "printer jammed", "open", "2", "0"], ["2", "vpn down", "resolved", "1", "0"],
            ["3", "coffee machine empty", "open", "3", "1"],
        ]
        #expect(try fixture.rows(rows) == expected)
        #expect(fixture.stateFile() == #"{"position":5}"#)
        #expect(fixture.syncExpectingSuccess().counts.rowOperations == 0)
        #expect(try fixture.rows(rows) == expected)
    }

    @Test("composite-primary-key updates and deletes rows by both key columns, leaving the student's other course alone")
    func compositePrimaryKey() throws {
        let fixture = try ConnectorFixture.example("composite-primary-key")
        fixture.syncExpectingSuccess()
        let counts = fixture.syncExpectingSuccess().counts
        #expect([counts.upserts, counts.updates, counts.deletes, counts.noopUpdates, counts.noopDeletes] as [Int] == [1, 1, 1, 0, 0])
        #expect(
            try fixture.rows(#"SELECT "student_id", "course", "term", "grade", "_connector_deleted" FROM "enrollment" ORDER BY 1, 2"#) == [
                ["1", "MATH101", "2024-fall", "A", "0"], ["1", "PHYS201", "2024-fall", "NULL", "0"],
                ["2", "CHEM110", "2024-fall", "NULL", "0"], ["2", "MATH101", "2024-fall", "NULL", "1"],
            ])
        #expect(fixture.stateFile() == #"{"next_batch":2}"#)
    }

    @Test("hashed-primary-key keys hits by a stable hash of their identity, so a corrected hit replaces the stored one")
    func hashedPrimaryKey() throws {
        let fixture = try ConnectorFixture.example("hashed-primary-key")
        fixture.syncExpectingSuccess()
        let query = #"SELECT "hit_key", "session", "url", "at", "duration_ms" FROM "page_hit" ORDER BY "at""#
        let firstKeys = try fixture.rows(query).map { $0[0] }
        fixture.syncExpectingSuccess()
        let rows = try fixture.rows(query)
        #expect(
            rows.map { Array($0.dropFirst()) } == [
                ["s-1", "/home", "2024-06-01T10:00:00Z", "1200"], ["s-1", "/pricing", "2024-06-01T10:00:05Z", "4500"],
                ["s-2", "/home", "2024-06-01T10:01:00Z", "300"], ["s-2", "/docs", "2024-06-01T10:02:00Z", "2100"],
            ])
        // The keys are the same in every process (unlike hashValue) and are 16 hex digits.
        #expect(Array(rows.prefix(3).map { $0[0] }) == firstKeys)
        #expect(rows.map { $0[0] } == ["6ddd04144d48c7f4", "2ef5542befb867c2", "10f92a3b71de26a0", "06f49d8edb939469"])
        #expect(fixture.stateFile() == #"{"next_export":2}"#)
    }

    @Test("first-seen-timestamp keeps each product's first-seen time across runs while last-seen moves on")
    func firstSeenTimestamp() throws {
        let fixture = try ConnectorFixture.example("first-seen-timestamp")
        for _ in 1...3 { fixture.syncExpectingSuccess() }
        #expect(
            try fixture.rows(#"SELECT "sku", "name", "price_cents", "first_seen_at", "last_seen_at" FROM "product" ORDER BY "sku""#) == [
                ["A-1", "kettle", "2200", "2024-03-01T09:00:00Z", "2024-03-02T09:00:00Z"],
                ["B-2", "toaster", "3900", "2024-03-01T09:00:00Z", "2024-03-03T09:00:00Z"],
                ["C-3", "blender", "6000", "2024-03-02T09:00:00Z", "2024-03-03T09:00:00Z"],
            ])
        #expect(
            fixture.stateFile()
                == #"{"first_seen":{"A-1":"2024-03-01T09:00:00Z","B-2":"2024-03-01T09:00:00Z","C-3":"2024-03-02T09:00:00Z"},"next_snapshot":3}"#
        )
    }

    @Test("truncate-and-reload soft-deletes the rows missing from the new snapshot and keeps the others live")
    func truncateAndReload() throws {
        let fixture = try ConnectorFixture.example("truncate-and-reload")
        fixture.syncExpectingSuccess()
        let counts = fixture.syncExpectingSuccess().counts
        #expect([counts.truncates, counts.upserts] as [Int] == [1, 3])
        #expect(
            try fixture.rows(#"SELECT "id", "city", "open_on_sundays", "_connector_deleted" FROM "branch" ORDER BY "id""#) == [
                ["1", "Berlin Mitte", "0", "0"], ["2", "Paris", "1", "1"], ["3", "Rome", "1", "0"], ["4", "Oslo", "0", "0"],
            ])
        #expect(fixture.stateFile() == #"{"loads":2}"#)
    }
}
