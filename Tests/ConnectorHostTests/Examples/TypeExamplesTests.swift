import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The examples about data types: declared, inferred and widened.
@Suite("Examples: types")
struct TypeExamplesTests {
    @Test("specified-types stores a value of each of the fourteen declared types exactly, and a row of nulls")
    func specifiedTypes() throws {
        let fixture = try ConnectorFixture.example("specified-types")
        fixture.syncExpectingSuccess()
        let columns = [
            "_boolean", "_short", "_int", "_long", "_decimal", "_float", "_double", "_naive_date", "_naive_datetime", "_utc_datetime",
            "_binary", "_xml", "_string", "_json",
        ]
        let values = try fixture.rows(
            "SELECT \(columns.map { $0 == "_binary" ? #"hex("_binary")"# : "\"\($0)\"" }.joined(separator: ", ")) FROM \"specified\" WHERE \"id\" = 1"
        )
        #expect(
            values == [
                [
                    "1", "15", "42", "9223372036854775807", "1234567890123456789012345678.0123456789", "1.5", "0.1", "2024-02-29",
                    "2024-02-29T13:45:30.123456", "2024-02-29T12:45:30Z", "000102FF", "<note><to>Ada</to></note>", "naïve café ☕",
                    #"{"tags":["a","b"],"nested":{"n":1}}"#,
                ]
            ])
        let storage = try fixture.rows(
            "SELECT \(columns.map { "typeof(\"\($0)\")" }.joined(separator: ", ")) FROM \"specified\" WHERE \"id\" = 1")
        #expect(
            storage == [
                [
                    "integer", "integer", "integer", "integer", "text", "real", "real", "text", "text", "text", "blob", "text", "text",
                    "text",
                ]
            ])
        #expect(
            try fixture.rows(
                #"SELECT count(*) FROM "specified" WHERE "id" = 2 AND coalesce(\#(columns.map { "\"\($0)\"" }.joined(separator: ", "))) IS NULL"#
            ) == [["1"]])
        let declared = try fixture.rows(
            #"SELECT "column_name", "type", coalesce("precision", ''), coalesce("scale", ''), "declared" FROM "_connector_columns" WHERE "table_name" = 'specified' ORDER BY "position""#
        )
        #expect(
            declared.map { $0.joined(separator: " ") } == [
                "id INT   1", "_boolean BOOLEAN   1", "_short SHORT   1", "_int INT   1", "_long LONG   1", "_decimal DECIMAL 38 10 1",
                "_float FLOAT   1", "_double DOUBLE   1", "_naive_date NAIVE_DATE   1", "_naive_datetime NAIVE_DATETIME   1",
                "_utc_datetime UTC_DATETIME   1", "_binary BINARY   1", "_xml XML   1", "_string STRING   1", "_json JSON   1",
            ])
    }

    @Test("unspecified-types infers BOOLEAN, LONG, DOUBLE, STRING and JSON, and types a null column by its first value")
    func unspecifiedTypes() throws {
        let fixture = try ConnectorFixture.example("unspecified-types")
        fixture.syncExpectingSuccess()
        #expect(
            try fixture.rows(
                #"SELECT "column_name", "type", "declared" FROM "_connector_columns" WHERE "table_name" = 'unspecified' ORDER BY "position""#
            ) == [
                ["id", "LONG", "0"], ["flag", "BOOLEAN", "0"], ["count", "LONG", "0"], ["ratio", "DOUBLE", "0"], ["label", "STRING", "0"],
                ["seen_on", "STRING", "0"], ["tags", "JSON", "0"], ["details", "JSON", "0"], ["comment", "STRING", "0"],
            ])
        #expect(
            try fixture.rows(
                #"SELECT "id", "flag", "count", "ratio", "label", "seen_on", "tags", "details", "comment" FROM "unspecified" ORDER BY "id""#
            ) == [
                ["1", "1", "42", "0.25", "first", "2024-05-01", #"["a","b"]"#, #"{"source":"sensor-7"}"#, "NULL"],
                ["2", "0", "-7", "0.001", "second", "2024-05-02", "[]", "{}", "filled in later"],
            ])
    }

    @Test("widening-schema widens LONG to DOUBLE to STRING and BOOLEAN to LONG over three runs, keeping every value")
    func wideningSchema() throws {
        let fixture = try ConnectorFixture.example("widening-schema")
        func columnTypes() throws -> [String] {
            try fixture.rows(
                #"SELECT "column_name" || ' ' || "type" FROM "_connector_columns" WHERE "table_name" = 'measurement' ORDER BY "position""#
            ).map { $0[0] }
        }
        let query = #"SELECT "id", "reading", typeof("reading"), "ok", "unit" FROM "measurement" ORDER BY "id""#

        #expect(fixture.syncExpectingSuccess().counts.schemaChanges == 4)  // the table and its three columns
        #expect(try columnTypes() == ["id LONG", "reading LONG", "ok BOOLEAN"])
        #expect(try fixture.rows(#"SELECT "id", "reading", "ok" FROM "measurement""#) == [["1", "7", "1"]])

        #expect(
            fixture.syncExpectingSuccess().schemaChanges == [
                "measurement.reading: widened from LONG to DOUBLE (inferred)", "measurement.ok: widened from BOOLEAN to LONG (inferred)",
                "measurement.unit: column added as STRING (inferred)",
            ])
        #expect(try columnTypes() == ["id LONG", "reading DOUBLE", "ok LONG", "unit STRING"])
        #expect(try fixture.rows(query) == [["1", "7.0", "real", "1", "NULL"], ["2", "7.5", "real", "1", "cm"]])

        #expect(fixture.syncExpectingSuccess().counts.schemaChanges == 1)  // reading widened to STRING
        #expect(try columnTypes() == ["id LONG", "reading STRING", "ok LONG", "unit STRING"])
        #expect(
            try fixture.rows(query) == [
                ["1", "7.0", "text", "1", "NULL"], ["2", "7.5", "text", "1", "cm"], ["3", "n/a", "text", "0", "mm"],
            ])
        #expect(fixture.stateFile() == #"{"next_batch":3}"#)
    }
}
