import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// One data type: the values a connector sends and exactly what SQLite holds afterwards; PostgreSQL
/// holds the same values in its native type (read back as SQLite would hold them, ``PostgresValues``).
struct RoundTripCase: Sendable, CustomTestStringConvertible {
    let type: JSONValue
    let sent: [JSONValue]
    let stored: [SQLiteValue]
    /// What PostgreSQL holds where its type keeps less than SQLite's text (nanoseconds).
    var storedInPostgres: [SQLiteValue]? = nil
    var testDescription: String { type.stringValue ?? JSONWriter.string(type) }

    static let all: [RoundTripCase] = [
        RoundTripCase(type: "BOOLEAN", sent: [true, false, nil], stored: [.integer(1), .integer(0), .null]),
        RoundTripCase(
            type: "SHORT", sent: [-32768, 32767, "123", "-7"], stored: [.integer(-32768), .integer(32767), .integer(123), .integer(-7)]),
        RoundTripCase(
            type: "INT", sent: [-2_147_483_648, 2_147_483_647, "42"],
            stored: [.integer(-2_147_483_648), .integer(2_147_483_647), .integer(42)]),
        RoundTripCase(
            type: "LONG",
            sent: [
                "9223372036854775807", "-9223372036854775808", .number(JSONNumber(literal: "9223372036854775807")), 9_007_199_254_740_993,
            ],
            stored: [.integer(.max), .integer(.min), .integer(.max), .integer(9_007_199_254_740_993)]),
        RoundTripCase(
            type: ["type": "DECIMAL", "precision": 38, "scale": 10],
            sent: [
                "1234567890123456789012345678.0123456789", "9999999999999999999999999999.9999999999", "-0.00000000005", "0.1",
                .number(JSONNumber(literal: "12.5")), "-0", "007.25",
            ],
            stored: [
                .text("1234567890123456789012345678.0123456789"), .text("9999999999999999999999999999.9999999999"),
                .text("-0.0000000001"), .text("0.1000000000"), .text("12.5000000000"), .text("0.0000000000"), .text("7.2500000000"),
            ]),
        RoundTripCase(
            type: ["type": "DECIMAL", "precision": 5, "scale": 0], sent: ["99999", "-12.5", "0.49"],
            stored: [.text("99999"), .text("-13"), .text("0")]),
        // FLOAT is stored as a 64-bit double: 0.1 stays 0.1, not 0.10000000149011612.
        RoundTripCase(
            type: "FLOAT", sent: [0.1, .number(JSONNumber(literal: "3.4028234663852886e38")), "2.5", 7],
            stored: [.real(0.1), .real(3.4028234663852886e38), .real(2.5), .real(7)]),
        RoundTripCase(
            type: "DOUBLE",
            sent: [
                0.1, .number(JSONNumber(literal: "1e308")), .number(JSONNumber(literal: "0.30000000000000004")),
                .number(JSONNumber(literal: "5e-324")), .number(JSONNumber(literal: "-1.7976931348623157e308")), "1e-9",
            ],
            stored: [
                .real(0.1), .real(1e308), .real(0.30000000000000004), .real(.leastNonzeroMagnitude), .real(-1.7976931348623157e308),
                .real(1e-9),
            ]),
        // The year 0000 is ISO 8601's year 0, 1 BC: PostgreSQL stores it as such.
        RoundTripCase(
            type: "NAIVE_DATE", sent: ["2024-02-29", "1999-12-31", "0000-02-29"],
            stored: [.text("2024-02-29"), .text("1999-12-31"), .text("0000-02-29")]),
        // PostgreSQL's timestamp holds microseconds: nanoseconds are rounded (the instant to the microsecond).
        RoundTripCase(
            type: "NAIVE_DATETIME", sent: ["2024-05-01T13:45:00", "2024-05-01 13:45:00.123456789", "0000-03-01T00:00:00"],
            stored: [.text("2024-05-01T13:45:00"), .text("2024-05-01T13:45:00.123456789"), .text("0000-03-01T00:00:00")],
            storedInPostgres: [.text("2024-05-01T13:45:00"), .text("2024-05-01T13:45:00.123457"), .text("0000-03-01T00:00:00")]),
        // PostgreSQL has no leap second: 23:59:60 is the next day's 00:00:00 there.
        RoundTripCase(
            type: "UTC_DATETIME",
            sent: [
                "2024-05-01T12:00:00+05:30", "2024-12-31T23:30:00-01:00", "2024-03-01T01:00:00.5+02:00", "2024-05-01T12:00:00Z",
                "0000-06-01T00:00:00Z", "2016-12-31T23:59:60Z",
            ],
            stored: [
                .text("2024-05-01T06:30:00Z"), .text("2025-01-01T00:30:00Z"), .text("2024-02-29T23:00:00.5Z"),
                .text("2024-05-01T12:00:00Z"), .text("0000-06-01T00:00:00Z"), .text("2016-12-31T23:59:60Z"),
            ],
            storedInPostgres: [
                .text("2024-05-01T06:30:00Z"), .text("2025-01-01T00:30:00Z"), .text("2024-02-29T23:00:00.5Z"),
                .text("2024-05-01T12:00:00Z"), .text("0000-06-01T00:00:00Z"), .text("2017-01-01T00:00:00Z"),
            ]),
        RoundTripCase(
            type: "BINARY", sent: ["aGVsbG8=", "", "AAEC/w=="],
            stored: [.blob(Array("hello".utf8)), .blob([]), .blob([0, 1, 2, 255])]),
        RoundTripCase(
            type: "XML", sent: [#"<item id="1"/>"#, "<a>é ✓\n</a>"], stored: [.text(#"<item id="1"/>"#), .text("<a>é ✓\n</a>")]),
        // STRING keeps strings as given and stores other JSON values as their JSON text.
        RoundTripCase(
            type: "STRING",
            sent: ["apple", "", "line1\nline2 \"quoted\" é 😀", 42, .number(JSONNumber(literal: "1.50")), false, ["a": [1, 2]]],
            stored: [
                .text("apple"), .text(""), .text("line1\nline2 \"quoted\" é 😀"), .text("42"), .text("1.50"), .text("false"),
                .text(#"{"a":[1,2]}"#),
            ]),
        // JSON stores every value as JSON text, so a string keeps its quotes; null is SQL NULL.
        RoundTripCase(
            type: "JSON", sent: [["a": [1, 2]], [1, "two", nil], "x", 42, true, [:], nil],
            stored: [.text(#"{"a":[1,2]}"#), .text(#"[1,"two",null]"#), .text(#""x""#), .text("42"), .text("true"), .text("{}"), .null]),
    ]
}

@Suite("Every data type round-trips exactly")
struct DataTypeRoundTripTests {
    @Test("values written by a connector read back exactly", arguments: RoundTripCase.all, Backend.all)
    func roundTrip(_ testCase: RoundTripCase, _ backend: Backend) throws {
        let steps: [JSONValue] =
            testCase.sent.enumerated().map { index, value in
                ["upsert": ["table": "t", "data": ["id": .number(JSONNumber(index)), "v": value]]]
            } + [["checkpoint": [:]]]
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": testCase.type])], steps: steps, backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        let expected = backend == .postgres ? testCase.storedInPostgres ?? testCase.stored : testCase.stored
        #expect(try fixture.column(#"SELECT "v" FROM "t" ORDER BY "id""#) == expected)
        // The declared type is kept in the metadata table.
        let typeName = testCase.type.stringValue ?? testCase.type["type"]?.stringValue ?? ""
        let precision: SQLiteValue = testCase.type["precision"]?.int64Value.map(SQLiteValue.integer) ?? .null
        let scale: SQLiteValue = testCase.type["scale"]?.int64Value.map(SQLiteValue.integer) ?? .null
        let metadata = try fixture.values(
            #"SELECT "type", "precision", "scale", "declared" FROM "_connector_columns" WHERE "table_name" = 't' AND "column_name" = 'v'"#)
        #expect(metadata == [[.text(typeName), precision, scale, .integer(1)]])
    }

    @Test("a 1 MiB BINARY value, base64 on one line, round-trips byte for byte", arguments: Backend.all)
    func largeBinary(_ backend: Backend) throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let fixture = try ConnectorFixture(
            schema: [table("files", primaryKey: ["id"], columns: ["id": "LONG", "content": "BINARY"])],
            steps: [
                ["upsert": ["table": "files", "data": ["id": 1, "content": .string(Data(bytes).base64EncodedString())]]],
                ["checkpoint": [:]],
            ], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(try fixture.column(#"SELECT "content" FROM "files""#) == [.blob(bytes)])
    }

    @Test("JSON values are stored compact, whatever whitespace the connector sent", arguments: Backend.all)
    func jsonCompaction(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            rawSchema: ["tables": [table("docs", primaryKey: ["id"], columns: ["id": "LONG", "doc": "JSON", "text": "STRING"])]],
            steps: [
                #"{"jsonrpc": "2.0", "method": "records", "params": {"ops": [{"op": "upsert", "table": "docs", "data": {"id": 1, "doc": { "a" : [1, 2, {"b": "x y", "q": "say \"hi there\" \\ "}] }, "text": [ "p q" , 3 ]}}]}}"#
            ], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            try fixture.values(#"SELECT "doc", "text" FROM "docs""#) == [
                [.text(#"{"a":[1,2,{"b":"x y","q":"say \"hi there\" \\ "}]}"#), .text(#"["p q",3]"#)]
            ])
    }
}
