import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The examples about sync strategies: several cursors, paging, priority-first.
@Suite("Examples: sync strategies")
struct SyncStrategyExamplesTests {
    @Test("parent-child-cursors advances the order cursor on a day when no customer changed")
    func parentChildCursors() throws {
        let fixture = try ConnectorFixture.example("parent-child-cursors")
        fixture.syncExpectingSuccess()
        #expect(
            fixture.stateFile() == #"{"customer_cursor":"2024-03-01T11:00:00Z","order_cursor":"2024-03-01T12:00:00Z","source_day":1}"#)
        let dayTwo = fixture.syncExpectingSuccess().counts
        #expect([dayTwo.upserts, dayTwo.checkpoints] as [Int] == [1, 2])
        #expect(
            fixture.stateFile() == #"{"customer_cursor":"2024-03-01T11:00:00Z","order_cursor":"2024-03-02T16:00:00Z","source_day":2}"#)
        fixture.syncExpectingSuccess()
        #expect(
            fixture.stateFile() == #"{"customer_cursor":"2024-03-03T10:00:00Z","order_cursor":"2024-03-03T11:00:00Z","source_day":3}"#)
        #expect(
            try fixture.rows(#"SELECT "id", "name", "updated_at" FROM "customer" ORDER BY "id""#) == [
                ["C1", "Ada Lovelace", "2024-03-03T10:00:00Z"], ["C2", "Bob", "2024-03-01T11:00:00Z"],
                ["C3", "Cy", "2024-03-03T09:00:00Z"],
            ])
        #expect(
            try fixture.rows(#"SELECT "id", "customer_id", "status", "updated_at" FROM "order" ORDER BY "id""#) == [
                ["O1", "C1", "delivered", "2024-03-03T11:00:00Z"], ["O2", "C2", "shipped", "2024-03-02T16:00:00Z"],
                ["O3", "C3", "placed", "2024-03-03T09:30:00Z"],
            ])
    }

    @Test("large-data-set checkpoints after every page and a later sync reads only the rows added since")
    func largeDataSet() throws {
        let fixture = try ConnectorFixture.example("large-data-set", configuration: ["total_rows": "1000", "page_size": "100"])
        let first = fixture.syncExpectingSuccess().counts
        #expect([first.upserts, first.checkpoints] as [Int] == [1000, 10])
        #expect(fixture.stateFile() == #"{"after_id":1000}"#)
        try fixture.configure(["total_rows": "1250", "page_size": "100"])
        let second = fixture.syncExpectingSuccess().counts
        #expect([second.upserts, second.checkpoints] as [Int] == [250, 3])
        #expect(fixture.stateFile() == #"{"after_id":1250}"#)
        #expect(try fixture.rows(#"SELECT count(*), min("id"), max("id") FROM "item""#) == [["1250", "1", "1250"]])
        #expect(
            try fixture.rows(
                #"SELECT "id", "name", "quantity", "unit_price", "created_at" FROM "item" WHERE "id" IN (1, 1250) ORDER BY "id""#)
                == [["1", "item 1", "1", "0.25", "2024-01-01T00:00:01Z"], ["1250", "item 1250", "50", "62.5", "2024-01-01T00:20:50Z"]])
    }

    @Test("priority-first-sync brings the newest day first, then three days of history per sync until it is complete")
    func priorityFirstSync() throws {
        let fixture = try ConnectorFixture.example("priority-first-sync")
        func ids() throws -> [Int] { try fixture.rows(#"SELECT "id" FROM "event" ORDER BY "id""#).map { Int($0[0])! } }
        func state(forward: String, backward: String, day: Int) -> String {
            #"{"forward_cursor":"2024-03-\#(forward)T00:00:00Z","backward_cursor":"2024-03-\#(backward)T00:00:00Z","history_start":"2024-03-01T00:00:00Z","source_day":\#(day)}"#
        }

        #expect(fixture.syncExpectingSuccess().counts.checkpoints == 4)  // the newest day, then three days of history
        #expect(try ids() == Array(21...36))
        #expect(fixture.stateFile() == state(forward: "10", backward: "06", day: 1))

        fixture.syncExpectingSuccess()
        #expect(try ids() == Array(9...40))
        #expect(fixture.stateFile() == state(forward: "11", backward: "03", day: 2))

        #expect(fixture.syncExpectingSuccess().counts.checkpoints == 3)  // the history ends after two more days
        #expect(try ids() == Array(1...44))
        #expect(fixture.stateFile() == state(forward: "12", backward: "01", day: 3))

        let incremental = fixture.syncExpectingSuccess().counts
        #expect([incremental.upserts, incremental.checkpoints] as [Int] == [4, 1])
        #expect(
            try fixture.rows(#"SELECT "id", "occurred_at", "value" FROM "event" WHERE "id" IN (1, 48) ORDER BY "id""#) == [
                ["1", "2024-03-01T06:00:00Z", "7"], ["48", "2024-03-13T00:00:00Z", "36"],
            ])
    }
}
