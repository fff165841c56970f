import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// Names that look alike, values SQLite cannot keep exactly, and SQLite's own limits.
@Suite("Names and values: compared and stored as SQLite does, limits named")
struct NameAndValueAttackTests {
    static let composed = "n\u{E9}"  // NFC "né"
    static let decomposed = "ne\u{301}"  // NFD "né": canonically equivalent, other bytes

    static let collisionReason =
        #"column "ne\u{301}" is the existing column "n\u{E9}" written with other Unicode code points (another normalization, or letter case too); SQLite compares names byte for byte, so they would be two columns that look alike. Send one form (NFC) everywhere"#

    @Test("two column names that are canonically equivalent but not the same bytes are a collision, never merged")
    func canonicallyEquivalentColumns() throws {
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                ["records": [["op": "upsert", "table": "items", "data": ["id": 4, .init(Self.composed): 1, .init(Self.decomposed): 2]]]]
            ]
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == #"invalid operation: operation #1 (stdout line 3), table "items", column "\#(Self.decomposed)": \#(Self.collisionReason)"#
                + "\n" + #"  the operation: {"op":"upsert","table":"items","data":{"id":4,"\#(Self.composed)":1,"\#(Self.decomposed)":2}}"#
                + "\n"
                + "  Nothing after the last checkpoint was kept; fix the connector and run again.")
        #expect(try fixture.snapshot() == seededSnapshot)

        // The same across operations (the column exists from an earlier one) and in the schema.
        try fixture.script([
            "update": [
                ["records": [["op": "upsert", "table": "items", "data": ["id": 4, .init(Self.composed): 1]]]],
                ["records": [["op": "upsert", "table": "items", "data": ["id": 5, .init(Self.decomposed): 2]]]],
            ]
        ])
        #expect(fixture.sync().0.failure?.message.contains(Self.collisionReason) == true)
        #expect(try fixture.snapshot() == seededSnapshot)
        try fixture.script([
            "tables": [
                table("items", primaryKey: ["id"], columns: ["id": "LONG", .init(Self.composed): "STRING", .init(Self.decomposed): "LONG"])
            ]
        ])
        let (schema, _) = fixture.sync()
        #expect(
            schema.failure?.message
                == "the connector's schema has 1 problem:\n  - tables[0].columns[\"\(Self.decomposed)\"]: \(Self.collisionReason)\n  Fix schema() in the connector; nothing was written."
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a table name canonically equivalent to an existing one is a collision too; the same bytes are the same table")
    func canonicallyEquivalentTables() throws {
        let fixture = try ConnectorFixture.hostile([
            "tables": [table("caf\u{E9}", primaryKey: ["id"], columns: ["id": "LONG"])],
            "update": [
                ["records": [["op": "upsert", "table": "caf\u{E9}", "data": ["id": 1]]]], ["checkpoint": ["c": 1]],
                ["records": [["op": "upsert", "table": "cafe\u{301}", "data": ["id": 2]]]],
            ],
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message.hasPrefix(
                #"invalid operation: operation #2 (stdout line 5), table "cafe\#u{301}": table "cafe\u{301}" is the existing table "caf\u{E9}" written with other Unicode code points"#
            ) == true, "\(report.failure?.message ?? "")")
        #expect(try fixture.rows("SELECT id FROM \"caf\u{E9}\"") == [["1"]])
    }
}
