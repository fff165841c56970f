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

    /// The column limit of each destination, as its messages name it.
    private func limit(_ backend: Backend) -> (columns: Int, source: String) {
        backend == .sqlite
            ? (2000, "SQLite allows 2,000 columns per table (SQLITE_MAX_COLUMN)") : (1600, "PostgreSQL allows 1,600 columns per table")
    }

    @Test(
        "an operation that adds one column too many for the destination names its limit; the report does not list what was rolled back",
        arguments: Backend.all)
    func columnLimitInOperations(_ backend: Backend) throws {
        let (columns, source) = limit(backend)
        let data = JSONValue.object(JSONObject((0..<columns).map { (key: "c\($0)", value: JSONValue.number(JSONNumber($0))) }))
        let fixture = try ConnectorFixture.hostile(
            ["tables": [], "update": [["records": [["op": "upsert", "table": "wide", "data": data]]]]], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure?.kind == .invalidOperation)
        // Keyless: the host adds 3 columns and keeps 1 free, so column limit - 3 is the first too many.
        let first = columns - 4
        let shown = { (number: Int) in SyncReportFormatter.group(number) }
        #expect(
            report.failure?.message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "wide", column "c\#(first)": column "c\#(first)" would be column \#(shown(first + 1)) of table "wide", more than a table can have: \#(source), the host adds 3 of its own and keeps 1 free for widening, so a table holds at most \#(shown(first)) of the connector's columns. Send fewer columns, or nest them in a JSON column"#
            ) == true, "\(report.failure?.message.prefix(600) ?? "")")
        // Every change went with the rollback: counted, not listed.
        #expect(report.schemaChanges == ["(\(shown(first + 1)) more after the last checkpoint, rolled back with it)"])
        #expect(try !fixture.tableExists("wide"))
    }

    @Test("a declared table with more columns than the destination allows is a schema error naming its limit", arguments: Backend.all)
    func columnLimitInSchema(_ backend: Backend) throws {
        let (limit, source) = limit(backend)
        let columns = JSONObject((0..<2000).map { (key: "c\($0)", value: JSONValue.string("LONG")) })
        let fixture = try ConnectorFixture.hostile(["tables": [table("wide", primaryKey: ["c0"], columns: columns)]], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure?.kind == .invalidSchema)
        #expect(
            report.failure?.message
                == #"the schema does not fit the warehouse: table "wide": 2,000 columns are more than a table can have: \#(source), the host adds 2 of its own and keeps 1 free for widening, so a table holds at most \#(SyncReportFormatter.group(limit - 3)) of the connector's columns. Send fewer columns, or nest them in a JSON column"#
        )
    }

    @Test("a name longer than 4,096 bytes is refused, in the schema and in operations")
    func longNames() throws {
        let long = String(repeating: "n", count: 5000)
        let fixture = try ConnectorFixture.hostile([
            "tables": [], "update": [["records": [["op": "upsert", "table": "t", "data": [.init(long): 1]]]]],
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "t", column "\#(long)": column name "\#(String(repeating: "n", count: 40))"… is 5000 bytes long; names are at most 4096 bytes (UTF-8)"#
            ) == true, "\(report.failure?.message.prefix(300) ?? "")")
    }

    @Test("a primary-key column beyond the 64th column is still required (no row with a null key)")
    func wideTablePrimaryKey() throws {
        let columns = JSONObject((0..<70).map { (key: "c\($0)", value: JSONValue.string("LONG")) })
        let fixture = try ConnectorFixture.hostile([
            "tables": [table("wide", primaryKey: ["c69"], columns: columns)],
            "update": [["records": [["op": "upsert", "table": "wide", "data": ["c0": 1]]]]],
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "wide", column "c69": the primary-key column "c69" is missing; every upsert must carry the full primary key (c69)"#
            ) == true, "\(report.failure?.message ?? "")")
    }

    @Test("a STRING with a NUL character is refused, never stored cut")
    func nulInString() throws {
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                [
                    "raw": .string(
                        #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"items","data":{"id":4,"value":"a\u0000b"}}]}}"#
                            + "\n")
                ]
            ]
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "items", column "value": "a\u0000b" holds a NUL character (\u0000), which warehouse text cannot hold whole (SQLite's text functions and tools cut the text at it; PostgreSQL refuses it); remove it, or declare the column BINARY and send base64"#
            ) == true, "\(report.failure?.message ?? "")")
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("rows without primary key are hashed over their stored values: 1 and \"1\" in a STRING column are one row")
    func rowHashOverStoredValues() throws {
        let upsert = { (value: JSONValue) -> JSONValue in ["op": "upsert", "table": "loose", "data": ["a": value]] }
        let fixture = try ConnectorFixture.hostile([
            "tables": [],
            "update": [["records": [upsert(1), upsert("x"), upsert("1")]], ["checkpoint": ["c": 1]], ["reply": true]],
        ])
        #expect(fixture.sync().0.failure == nil)
        #expect(try fixture.rows(#"SELECT "a" FROM "loose" ORDER BY 1"#) == [["1"], ["x"]])
        // A later sync, and a delete by the value as sent another way.
        try fixture.script([
            "tables": [],
            "update": [
                ["records": [upsert(1), ["op": "delete", "table": "loose", "keys": ["a": "x"]]]], ["checkpoint": ["c": 2]], ["reply": true],
            ],
        ])
        #expect(fixture.sync().0.failure == nil)
        #expect(try fixture.rows(#"SELECT "a", "_connector_deleted" FROM "loose" ORDER BY 1"#) == [["1", "0"], ["x", "1"]])
    }

    @Test("a delete finds a row without primary key by its stored value: another spelling of the same instant matches")
    func rowHashNormalisedValues() throws {
        let fixture = try ConnectorFixture.hostile([
            "tables": [table("events", columns: ["at": "UTC_DATETIME", "n": "LONG"])],
            "update": [
                ["records": [["op": "upsert", "table": "events", "data": ["at": "2024-05-01T12:00:00+05:30", "n": "7"]]]],
                ["records": [["op": "delete", "table": "events", "keys": ["at": "2024-05-01T06:30:00Z", "n": 7]]]],
                ["checkpoint": ["c": 1]], ["reply": true],
            ],
        ])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        #expect(report.counts.noopDeletes == 0)
        #expect(try fixture.rows(#"SELECT "at", "n", "_connector_deleted" FROM "events""#) == [["2024-05-01T06:30:00Z", "7", "1"]])
    }

    @Test("a warehouse hashed by the old rule (values as sent) is rehashed once: the same row stays one row")
    func rowHashUpgrade() throws {
        let upsert: JSONValue = ["op": "upsert", "table": "loose", "data": ["a": 1, "b": "x"]]
        let fixture = try ConnectorFixture.hostile([
            "tables": [], "update": [["records": [upsert]], ["checkpoint": ["c": 1]], ["reply": true]],
        ])
        #expect(fixture.sync().0.failure == nil)
        // As an older host left it: an id over the values as sent, and user_version 0.
        #expect(
            shell(["sqlite3", fixture.warehousePath, #"UPDATE "loose" SET "_connector_id" = 'old-rule-id'; PRAGMA user_version = 0"#])
                .status == 0)
        try fixture.script(["tables": [], "update": [["records": [upsert]], ["checkpoint": ["c": 2]], ["reply": true]]])
        #expect(fixture.sync().0.failure == nil)
        #expect(try fixture.rows(#"SELECT count(*) FROM "loose""#) == [["1"]])
        #expect(try fixture.rows("PRAGMA user_version") == [["2"]])
    }

    @Test("tables seen for the first time are created with their columns in one statement each (no ALTER per column)")
    func oneStatementPerNewTable() throws {
        let ops: [JSONValue] = (0..<300).map { i in
            ["op": "upsert", "table": .string("t\(i)"), "data": ["id": .number(JSONNumber(i)), "v": "x", "w": 1.5]]
        }
        let fixture = try ConnectorFixture.hostile([
            "tables": [], "update": [["records": .array(ops)], ["checkpoint": ["c": 1]], ["reply": true]],
        ])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        // SQLite counts schema changes: 300 tables and the host's own few, not another 900 ALTERs.
        let version = try #require(Int(try fixture.rows("PRAGMA schema_version")[0][0]))
        #expect(version >= 300 && version < 320, "schema_version \(version)")
        #expect(report.schemaChanges.count == 1200)
        #expect(
            report.schemaChanges.prefix(4) == [
                "t0: table created (not in the schema: no primary key, columns inferred)", "t0.id: column added as LONG (inferred)",
                "t0.v: column added as STRING (inferred)", "t0.w: column added as DOUBLE (inferred)",
            ])
    }

    @Test("a new table created with its first columns in one statement types them by the ops' \"types\" hints too")
    func firstColumnsFollowHints() throws {
        let fixture = try ConnectorFixture.hostile([
            "tables": [],
            "update": [
                [
                    "records": [
                        ["op": "upsert", "table": "hinted", "data": ["id": 1, "day": "2024-01-02"], "types": ["day": "NAIVE_DATE"]],
                        ["op": "upsert", "table": "hinted", "data": ["id": 2, "n": "7"]],
                    ]
                ],
                ["checkpoint": ["c": 1]], ["reply": true],
            ],
        ])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            try fixture.rows(#"SELECT "column_name", "type" FROM "_connector_columns" WHERE "table_name" = 'hinted' ORDER BY "position""#)
                == [["id", "LONG"], ["day", "NAIVE_DATE"], ["n", "STRING"]])
    }

    @Test("a column called rowid (or oid) never redirects a widening: every row keeps its own value, with or without primary key")
    func columnNamedRowid() throws {
        // SQLite's rowid, _rowid_ and oid mean a column of that name when there is one: a widening
        // that rewrote rows "by rowid" then wrote one row's value into another and dropped others.
        let fixture = try ConnectorFixture.hostile([
            "tables": [table("keyed", primaryKey: ["id"], columns: ["id": "LONG", "rowid": "LONG"])],
            "update": [
                [
                    "records": [
                        ["op": "upsert", "table": "keyed", "data": ["id": 1, "d": 1.5]],
                        ["op": "upsert", "table": "keyed", "data": ["id": 2, "rowid": 5, "d": 2.5]],
                        ["op": "upsert", "table": "keyed", "data": ["id": 3, "rowid": 5, "d": 3.5]],
                        ["op": "upsert", "table": "loose", "data": ["oid": 1, "a": 1]],
                        ["op": "upsert", "table": "loose", "data": ["oid": 1, "a": 2]],
                        ["op": "upsert", "table": "loose", "data": ["oid": 2, "a": 3]],
                    ]
                ],
                ["checkpoint": ["c": 1]],
                [
                    "records": [
                        ["op": "upsert", "table": "keyed", "data": ["id": 4, "d": "x"]],
                        ["op": "upsert", "table": "loose", "data": ["oid": 1, "a": "x"]],
                    ]
                ],
                ["checkpoint": ["c": 2]], ["reply": true],
            ],
        ])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            try fixture.rows(#"SELECT "id", coalesce("rowid", ''), "d" FROM "keyed" ORDER BY "id""#) == [
                ["1", "", "1.5"], ["2", "5", "2.5"], ["3", "5", "3.5"], ["4", "", "x"],
            ])
        #expect(
            try fixture.rows(#"SELECT "oid", "a" FROM "loose" ORDER BY "a""#) == [["1", "1"], ["1", "2"], ["2", "3"], ["1", "x"]])
        #expect(try fixture.rows(#"SELECT count(DISTINCT "_connector_id") FROM "loose""#) == [["4"]])
    }

    @Test("a column that would make rowid, _rowid_ and oid all columns of a table is refused, in the schema and in operations")
    func allRowidAliases() throws {
        let reason =
            #"column "OID" would make rowid, _rowid_ and oid all columns of table "items", which leaves SQLite no name for its row id (the host rewrites rows by it when a column widens); rename one of the three"#
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [["records": [["op": "upsert", "table": "items", "data": ["id": 4, "rowid": 1, "_rowid_": 2, "OID": 3]]]]]
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "invalid operation: operation #1 (stdout line 3), table \"items\", column \"OID\": \(reason)\n"
                + #"  the operation: {"op":"upsert","table":"items","data":{"id":4,"rowid":1,"_rowid_":2,"OID":3}}"# + "\n"
                + "  Nothing after the last checkpoint was kept; fix the connector and run again.")
        #expect(try fixture.snapshot() == seededSnapshot)
        try fixture.script([
            "tables": [
                table(
                    "items", primaryKey: ["id"],
                    columns: ["id": "LONG", "value": "STRING", "rowid": "LONG", "_rowid_": "LONG", "OID": "LONG"])
            ]
        ])
        let (schema, _) = fixture.sync()
        #expect(
            schema.failure?.message
                == "the schema does not fit the warehouse: table \"items\": \(reason)", "\(schema.failure?.message ?? "")")
        #expect(try fixture.snapshot() == seededSnapshot)
    }
}
