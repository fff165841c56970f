import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `--naming fivetran|source` and the system-column profile, end to end with a real connector.
@Suite("Naming and system columns in the warehouse")
struct NamingEndToEndTests {
    static let schema: JSONValue = [
        "tables": [
            ["table": "Orders", "primaryKey": ["orderId"], "columns": ["amountDue": "DOUBLE"]],
            ["table": "items", "schema": "Other Schema", "primaryKey": ["id"]],
        ]
    ]
    static let ops: [JSONValue] = [
        ["op": "upsert", "table": "Orders", "data": ["orderId": 1, "amountDue": 1.5, "createdAt": "2024-01-01T00:00:00Z", "val1": 12]],
        ["op": "upsert", "table": "items", "schema": "Other Schema", "data": ["id": "a", "v": 1]],
        ["op": "upsert", "table": "_Hidden", "data": ["x": 1]],
    ]

    func tables(_ fixture: ConnectorFixture) throws -> [[String]] {
        try fixture.rows(
            #"SELECT "name" FROM "sqlite_master" WHERE "type" = 'table' AND "name" NOT LIKE '\_connector\_%' ESCAPE '\' AND "name" <> 'sqlite_sequence' ORDER BY "name""#
        )
    }

    func columns(_ fixture: ConnectorFixture, _ table: String) throws -> [String] {
        try fixture.rows("SELECT \"name\" FROM pragma_table_info('\(table)')").map { $0[0] }
    }

    @Test("--naming fivetran names tables, columns and schemas as Fivetran does, with Fivetran's system columns")
    func fivetranNaming() throws {
        let fixture = try ConnectorFixture(rawSchema: Self.schema, steps: [.array(Self.ops), ["checkpoint": ["n": 1]]])
        let (report, _) = fixture.sync { $0.naming = .fivetran }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        let names = try tables(fixture)
        #expect(names == [["hidden"], ["orders"], ["other_schema.items"]])
        #expect(
            try columns(fixture, "orders") == ["amount_due", "order_id", "_fivetran_synced", "_fivetran_deleted", "created_at", "val_1"])
        let hidden = try columns(fixture, "hidden")
        // An undeclared table is created with the columns its first records line gives it (one CREATE TABLE).
        #expect(hidden == ["_fivetran_id", "x", "_fivetran_synced", "_fivetran_deleted"])
        #expect(
            try fixture.rows(#"SELECT "order_id", "amount_due", "val_1", "_fivetran_deleted" FROM "orders""#) == [["1", "1.5", "12", "0"]])
        #expect(try fixture.rows(#"SELECT "id", "v" FROM "other_schema.items""#) == [["a", "1"]])
        #expect(
            try fixture.rows(#"SELECT "name", "schema" FROM "_connector_tables" WHERE "schema" IS NOT NULL"#) == [
                ["other_schema.items", "other_schema"]
            ])
        #expect(
            try fixture.rows(#"SELECT "key", "value" FROM "_connector_settings" ORDER BY "key""#) == [
                ["naming", "fivetran"], ["string_types", "string"], ["system_columns", "fivetran"],
            ])
    }

    @Test("the first sync's naming is kept: a later --naming is ignored with a warning that says how to change it")
    func namingIsKept() throws {
        let fixture = try ConnectorFixture(rawSchema: Self.schema, steps: [.array(Self.ops)])
        #expect(fixture.sync { $0.naming = .fivetran }.0.failure == nil)
        let (report, console) = fixture.sync { $0.naming = .source }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            console.all.contains(
                "warning: --naming source is ignored: this warehouse keeps the naming of its first sync (fivetran); run `connector-host reset` to start over with another"
            ), "\(console.all)")
        let names = try tables(fixture)
        #expect(names == [["hidden"], ["orders"], ["other_schema.items"]])
    }

    @Test("names are kept as sent by default for a connector that is not a connector.py, with connector-host's system columns")
    func sourceNamingByDefault() throws {
        let fixture = try ConnectorFixture(rawSchema: Self.schema, steps: [.array(Self.ops)])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        let names = try tables(fixture)
        #expect(names == [["Orders"], ["Other Schema.items"], ["_Hidden"]])
        #expect(try columns(fixture, "Orders") == ["amountDue", "orderId", "_connector_synced", "_connector_deleted", "createdAt", "val1"])
    }

    @Test("two source names that Fivetran naming makes one: one table or column, the first value wins, said once")
    func collisions() throws {
        let fixture = try ConnectorFixture(
            rawSchema: ["tables": []],
            steps: [
                [
                    ["op": "upsert", "table": "A", "data": ["userId": 1, "user_id": 2]],
                    ["op": "upsert", "table": "a", "data": ["userId": 3, "user_id": 4]],
                ]
            ])
        let (report, console) = fixture.sync { $0.naming = .fivetran }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(try fixture.rows(#"SELECT "user_id" FROM "a" ORDER BY 1"#) == [["1"], ["3"]])
        let warnings = console.all.filter { $0.hasPrefix("warning: ") && !$0.contains("was not in the schema") }
        #expect(
            warnings == [
                #"warning: columns "userId" and "user_id" of table "a" both become "user_id" under Fivetran naming: a row keeps only the value of the first"#,
                #"warning: tables "A" and "a" both become "a" under Fivetran naming: their rows are written to one table"#,
            ])
    }

    @Test("a value sent for a Fivetran system column is not stored: the host's value wins, said once per table")
    func systemColumnValueIgnored() throws {
        let fixture = try ConnectorFixture(
            rawSchema: ["tables": [["table": "t", "primaryKey": ["id"]]]],
            steps: [
                [
                    ["op": "upsert", "table": "t", "data": ["id": 1, "_fivetran_synced": "2000-01-01T00:00:00", "_fivetran_batch": "b1"]],
                    ["op": "upsert", "table": "t", "data": ["id": 2, "_fivetran_synced": "2000-01-01T00:00:00", "_fivetran_batch": "b1"]],
                ]
            ])
        let (report, console) = fixture.sync { $0.naming = .fivetran }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(try fixture.rows(#"SELECT count(*) FROM "t" WHERE "_fivetran_synced" LIKE '2000%'"#) == [["0"]])
        #expect(try columns(fixture, "t") == ["id", "_fivetran_synced", "_fivetran_deleted", "_fivetran_batch"])
        #expect(
            console.all.filter { $0.contains("system column") } == [
                #"warning: table "t": column "_fivetran_synced" is a system column of this warehouse; the value the connector sends for it is not stored (the host sets it)"#
            ])
    }

    @Test("a warehouse made before the naming was recorded keeps names as sent and connector-host's columns")
    func legacyWarehouse() throws {
        let fixture = try ConnectorFixture(rawSchema: Self.schema, steps: [.array(Self.ops)])
        #expect(fixture.sync().0.failure == nil)
        let database = try SQLiteDatabase(path: fixture.warehousePath)
        try database.execute(#"DELETE FROM "_connector_settings""#)
        let (report, console) = fixture.sync { $0.naming = .fivetran }
        #expect(report.failure == nil)
        #expect(
            console.all.contains(
                "warning: --naming fivetran is ignored: this warehouse was made before the naming was recorded and keeps names as sent; run `connector-host reset` to start over with fivetran naming"
            ), "\(console.all)")
        #expect(try fixture.rows(#"SELECT "value" FROM "_connector_settings" WHERE "key" = 'naming'"#) == [["source"]])
    }

    @Test("an op's schema must be a string, and a schema name cannot hold a dot")
    func schemaRules() throws {
        let fixture = try ConnectorFixture(
            rawSchema: ["tables": []], steps: [[["op": "upsert", "table": "t", "schema": 7, "data": ["id": 1]]]])
        #expect(
            fixture.sync().0.failure?.message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "t": "schema" must be a string naming the destination schema, not 7"#
            )
                == true)
        try fixture.write(
            "configuration.json",
            JSONWriter.string(["schema": ["tables": []], "steps": [[["op": "upsert", "table": "t", "schema": "a.b", "data": ["id": 1]]]]]))
        #expect(
            fixture.sync().0.failure?.message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "t": schema name "a.b" contains a ".", which separates the schema from the table in the warehouse's table names"#
            ) == true)
    }
}
