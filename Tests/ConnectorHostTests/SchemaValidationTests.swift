import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// One broken schema and the exact problem the validator reports for it.
struct SchemaProblemCase: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let tables: JSONValue
    let problems: [InvalidSchema.Problem]

    init(_ description: String, _ tables: JSONValue, _ problems: [(String, String)]) {
        testDescription = description
        self.tables = tables
        self.problems = problems.map { InvalidSchema.Problem(path: $0.0, message: $0.1) }
    }

    static let all: [SchemaProblemCase] = [
        SchemaProblemCase(
            "duplicate table", [table("a"), table("b"), table("a")],
            [("tables[2].table", #"duplicate table "a" (already declared at tables[0])"#)]),
        SchemaProblemCase(
            "tables differing only in case", [table("Items"), table("items")],
            [("tables[1].table", #"table "items" differs from "Items" (tables[0]) only in letter case; SQLite names are case-insensitive"#)]
        ),
        SchemaProblemCase(
            "columns differing only in case", [table("t", columns: ["id": "LONG", "ID": "STRING"])],
            [("tables[0].columns.ID", #"column "ID" differs from "id" only in letter case; SQLite names are case-insensitive"#)]),
        SchemaProblemCase(
            "primary key naming a declared column in another case", [table("t", primaryKey: ["ID"], columns: ["id": "LONG"])],
            [
                (
                    "tables[0].primaryKey[0]",
                    #"primary-key column "ID" differs from the declared column "id" only in letter case; SQLite names are case-insensitive, so use "id""#
                )
            ]),
        SchemaProblemCase(
            "primary key listing a column twice", [table("t", primaryKey: ["id", "id"], columns: ["id": "LONG"])],
            [("tables[0].primaryKey[1]", #"column "id" is listed twice"#)]),
        SchemaProblemCase(
            "unknown type name", [table("t", columns: ["amount": "MONEY"])],
            [
                (
                    "tables[0].columns.amount",
                    #"unknown type "MONEY"; use one of BOOLEAN, SHORT, INT, LONG, DECIMAL, FLOAT, DOUBLE, NAIVE_DATE, NAIVE_DATETIME, UTC_DATETIME, BINARY, XML, STRING, JSON"#
                )
            ]),
        SchemaProblemCase(
            "DECIMAL without precision", [table("t", columns: ["amount": "DECIMAL"])],
            [("tables[0].columns.amount", #"DECIMAL needs precision and scale: {"type": "DECIMAL", "precision": 10, "scale": 2}"#)]),
        SchemaProblemCase(
            "DECIMAL precision out of range", [table("t", columns: ["amount": ["type": "DECIMAL", "precision": 39, "scale": 2]])],
            [("tables[0].columns.amount", "DECIMAL precision must be an integer from 1 to 38, got 39")]),
        SchemaProblemCase(
            "DECIMAL scale above precision", [table("t", columns: ["amount": ["type": "DECIMAL", "precision": 5, "scale": 6]])],
            [("tables[0].columns.amount", "DECIMAL scale must be an integer from 0 to the precision (5), got 6")]),
        SchemaProblemCase(
            "DECIMAL scale missing", [table("t", columns: ["amount": ["type": "DECIMAL", "precision": 5]])],
            [("tables[0].columns.amount", "DECIMAL scale must be an integer from 0 to the precision (5), got nothing")]),
        SchemaProblemCase(
            "reserved table name", [table("_Connector_tables")],
            [("tables[0].table", #"table name "_Connector_tables" uses the reserved prefix _connector_ (in any letter case)"#)]),
        SchemaProblemCase(
            "reserved column name", [table("t", columns: ["_connector_synced": "STRING"])],
            [
                (
                    "tables[0].columns._connector_synced",
                    #"column name "_connector_synced" uses the reserved prefix _connector_ (in any letter case)"#
                )
            ]),
        SchemaProblemCase("empty table name", [table("")], [("tables[0].table", "empty table name")]),
        SchemaProblemCase("empty column name", [table("t", columns: ["": "STRING"])], [(#"tables[0].columns[""]"#, "empty column name")]),
        SchemaProblemCase(
            "control character in a name", [table("t", columns: ["a\tb": "STRING", "c\u{85}": "LONG"])],
            [
                (#"tables[0].columns["a\tb"]"#, #"column name "a\tb" contains a control character"#),
                (#"tables[0].columns["c\#u{85}"]"#, "column name \"c\u{85}\" contains a control character"),
            ]),
        SchemaProblemCase(
            "FLOAT primary key", [table("t", primaryKey: ["x"], columns: ["x": "DOUBLE"])],
            [("tables[0].columns.x", "a primary-key column cannot be DOUBLE; use an integer, DECIMAL, STRING or date/time type")]),
        SchemaProblemCase(
            "table that is not an object", ["t"],
            [("tables[0]", #"a table must be an object like {"table": "name", "primaryKey": [...], "columns": {...}}"#)]),
        SchemaProblemCase("table without a name", [["columns": [:]]], [("tables[0].table", "missing table name (a string)")]),
        SchemaProblemCase(
            "columns that are not an object", [["table": "t", "columns": ["a", "b"]]],
            [("tables[0].columns", "columns must be an object mapping names to types")]),
    ]
}

@Suite("Schema validation reports every problem at once")
struct SchemaValidationTests {
    @Test("each broken rule is reported with its path and an exact message", arguments: SchemaProblemCase.all)
    func problem(_ testCase: SchemaProblemCase) throws {
        #expect(throws: InvalidSchema(problems: testCase.problems)) {
            try SchemaValidator.tables(from: ["tables": testCase.tables])
        }
    }

    @Test("type names are read in any letter case and in the object form, as Fivetran's SDK accepts them")
    func lenientTypeNames() throws {
        let tables = try SchemaValidator.tables(from: [
            "tables": [["table": "t", "primary_key": ["id"], "columns": ["id": "long", "v": ["type": "Utc_DateTime"]]]]
        ])
        #expect(
            tables == [
                TableDefinition(name: "t", primaryKey: ["id"], columns: [("id", ColumnType(.long)), ("v", ColumnType(.utcDateTime))])
            ])
    }

    @Test("a schema with several problems fails the sync with one message listing them all")
    func allAtOnce() throws {
        let fixture = try ConnectorFixture(
            rawSchema: [
                "tables": [
                    table(
                        "orders", primaryKey: ["id"], columns: ["id": "LONG", "amount": ["type": "DECIMAL", "precision": 40, "scale": 2]]),
                    table("orders"),
                    table("items", primaryKey: ["sku"], columns: ["name": "TEXT", "_connector_id": "STRING"]),
                ]
            ], steps: [])
        let (report, _) = fixture.sync()
        let failure = try #require(report.failure)
        #expect(failure.kind == .invalidSchema)
        #expect(
            failure.message == """
                the connector's schema has 4 problems:
                  - tables[0].columns.amount: DECIMAL precision must be an integer from 1 to 38, got 40
                  - tables[1].table: duplicate table "orders" (already declared at tables[0])
                  - tables[2].columns.name: unknown type "TEXT"; use one of BOOLEAN, SHORT, INT, LONG, DECIMAL, FLOAT, DOUBLE, NAIVE_DATE, NAIVE_DATETIME, UTC_DATETIME, BINARY, XML, STRING, JSON
                  - tables[2].columns._connector_id: column name "_connector_id" uses the reserved prefix _connector_ (in any letter case)
                  Fix schema() in the connector; nothing was written.
                """)
        let tables = try fixture.rows(#"SELECT count(*) FROM "_connector_tables""#)
        #expect(tables == [["0"]])
        let history = try fixture.rows(#"SELECT "status", substr("error", 1, 38) FROM "_connector_syncs""#)
        #expect(history == [["failed", "the connector's schema has 4 problems:"]])
    }

    @Test("a declared table differing from an existing one only in case is refused on the next run")
    func tableCaseAcrossRuns() throws {
        let fixture = try ConnectorFixture(schema: [table("Items", primaryKey: ["id"], columns: ["id": "LONG"])], steps: [])
        #expect(fixture.sync().0.failure == nil)
        try fixture.script(schema: [table("items", primaryKey: ["id"], columns: ["id": "LONG"])], steps: [])
        #expect(
            fixture.sync().0.failure?.message
                == #"the schema does not fit the warehouse: table "items": table "items" differs from the existing table "Items" only in letter case; SQLite names are case-insensitive, so use "Items" everywhere"#
        )
    }
}
