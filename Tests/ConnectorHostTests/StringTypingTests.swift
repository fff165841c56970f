import ConnectorProtocol
import Foundation
import Testing

@testable import ConnectorHost

/// Fivetran's typing of undeclared string values by their shape (PROTOCOL.md 6.6, `--string-types`).
@Suite("String typing")
struct StringTypingTests {
    @Test(
        "a string's shape gives the type fivetran debug 3.0.0 gives it",
        arguments: [
            ("true", DataType.boolean), ("TRUE", .boolean), ("t", .boolean), ("F", .boolean), ("yes", .string),
            ("123", .long), ("-5", .long), ("0", .long), ("-007", .long), ("007", .string), ("+5", .string),
            ("9223372036854775808", .string), ("0x1F", .string), (" 12", .string), ("1,000", .string),
            ("1.5", .double), ("-2.0e3", .double), ("1e5", .string), ("NaN", .string),
            ("2024-01-02", .naiveDate), ("2024-02-29", .naiveDate), ("2024-02-30", .string),
            ("2024-01-02T03:04:05", .naiveDateTime), ("2024-01-02 03:04:05", .naiveDateTime), ("2024-01-02t03:04:05", .string),
            ("2024-01-02T03:04", .string), ("2024-01-02T03:04:05.123456789", .naiveDateTime),
            ("2024-01-02T03:04:05Z", .utcDateTime), ("2024-01-02T03:04:05+05:30", .utcDateTime),
            ("2024-01-02 03:04:05Z", .string), ("2024-01-02T03:04:05+0530", .string), (#"{"a": 1}"#, .string), ("hello", .string),
        ])
    func shapes(_ text: String, _ expected: DataType) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBufferPointer { TypeRules.shapeType($0) } == expected, "\(text)")
    }

    static let connector = """
        from fivetran_connector_sdk import Connector, Operations as op

        def update(configuration, state):
            op.upsert("items", {"id": "1", "at": "2024-01-02T03:04:05Z", "day": "2024-01-02", "ok": "t", "n": "1.5", "s": "x"})
            op.upsert("items", {"id": "2", "at": "2024-01-02T04:00:00+01:00", "day": "2024-01-03", "ok": "false", "n": "2", "s": "7"})
            op.checkpoint({})

        connector = Connector(update=update)
        """

    @Test("a connector.py's undeclared strings are typed by their shape; --string-types string keeps them STRING")
    func endToEnd() throws {
        let folder = try ConnectorFixture(files: ["connector.py": Self.connector, "configuration.json": "{}"])
        let typed = try runCLI(["run", folder.path])
        #expect(typed.status == 0, "\(typed.stdout)\n\(typed.stderr)")
        #expect(
            try folder.rows(#"SELECT "column_name", "type" FROM "_connector_columns" WHERE "table_name" = 'items' ORDER BY "position""#)
                == [
                    ["id", "LONG"], ["at", "UTC_DATETIME"], ["day", "NAIVE_DATE"], ["ok", "BOOLEAN"], ["n", "DOUBLE"], ["s", "STRING"],
                ])
        #expect(
            try folder.rows(#"SELECT "id", "at", "ok", "n", "s" FROM "items" ORDER BY "id""#) == [
                ["1", "2024-01-02T03:04:05Z", "1", "1.5", "x"], ["2", "2024-01-02T03:00:00Z", "0", "2.0", "7"],
            ])

        let plain = try ConnectorFixture(files: ["connector.py": Self.connector, "configuration.json": "{}"])
        let text = try runCLI(["run", plain.path, "--string-types", "string"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(
            try plain.rows(#"SELECT DISTINCT "type" FROM "_connector_columns" WHERE "table_name" = 'items'"#) == [["STRING"]])
        let again = try runCLI(["run", plain.path, "--string-types", "fivetran"])
        #expect(again.status == 0)
        #expect(
            again.stderr.contains(
                "warning: --string-types fivetran is ignored: this warehouse keeps the string typing of its first sync (string); run `connector-host reset` to start over with another"
            ), "\(again.stderr)")
    }

    @Test("string typing on a PostgreSQL destination types the columns and stores the values as on SQLite, and is recorded there")
    func postgres() throws {
        guard TestPostgres.shouldRun else { return }
        let schema = try TestSchema("strings")
        let folder = try ConnectorFixture(files: ["connector.py": Self.connector, "configuration.json": "{}"])
        let typed = try runCLI(["run", folder.path, "--destination", schema.uri, "--schema", schema.name])
        #expect(typed.status == 0, "\(typed.stdout)\n\(typed.stderr)")
        #expect(
            try schema.rows(#"SELECT "column_name", "type" FROM "_connector_columns" WHERE "table_name" = 'items' ORDER BY "position""#)
                == [
                    ["id", "LONG"], ["at", "UTC_DATETIME"], ["day", "NAIVE_DATE"], ["ok", "BOOLEAN"], ["n", "DOUBLE"], ["s", "STRING"],
                ])
        #expect(
            try schema.rows(#"SELECT "id", "day", "ok", "n", "s" FROM "items" ORDER BY "id""#) == [
                ["1", "2024-01-02", "t", "1.5", "x"], ["2", "2024-01-03", "f", "2", "7"],
            ])
        #expect(try schema.rows(#"SELECT "value" FROM "_connector_settings" WHERE "key" = 'string_types'"#) == [["fivetran"]])
        let again = try runCLI(["run", folder.path, "--destination", schema.uri, "--schema", schema.name, "--string-types", "string"])
        #expect(again.status == 0)
        #expect(
            again.stderr.contains(
                "warning: --string-types string is ignored: this warehouse keeps the string typing of its first sync (fivetran); run `connector-host reset` to start over with another"
            ), "\(again.stderr)")
    }
}
