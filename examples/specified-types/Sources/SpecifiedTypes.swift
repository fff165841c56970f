import ConnectorProtocol
import ConnectorSDK

/// Declares a column of each of the fourteen data types and sends a value of each.
///
/// Values travel as JSON: booleans and numbers as JSON natives, DECIMAL as a string (exact),
/// dates and times as ISO 8601 strings, BINARY as base64, integers beyond 2^53 as strings or exact
/// literals. The host checks every value against its declared type and stores it so that it reads
/// back exactly.
@main
struct SpecifiedTypes: Connector {
    var name: String { "specified-types" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "specified", primaryKey: ["id"],
                columns: [
                    ("id", ColumnType(.int)),
                    ("_boolean", ColumnType(.boolean)),
                    ("_short", ColumnType(.short)),
                    ("_int", ColumnType(.int)),
                    ("_long", ColumnType(.long)),
                    ("_decimal", ColumnType(.decimal, precision: 38, scale: 10)),
                    ("_float", ColumnType(.float)),
                    ("_double", ColumnType(.double)),
                    ("_naive_date", ColumnType(.naiveDate)),
                    ("_naive_datetime", ColumnType(.naiveDateTime)),
                    ("_utc_datetime", ColumnType(.utcDateTime)),
                    ("_binary", ColumnType(.binary)),
                    ("_xml", ColumnType(.xml)),
                    ("_string", ColumnType(.string)),
                    ("_json", ColumnType(.json)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        try operations.upsert(
            "specified",
            [
                "id": 1,
                "_boolean": true,
                "_short": 15,
                "_int": 42,
                "_long": .number(JSONNumber(literal: "9223372036854775807")),  // 2^63-1, exact as a literal
                "_decimal": "1234567890123456789012345678.0123456789",  // 38 digits: a string, so no binary rounding
                "_float": 1.5,
                "_double": 0.1,
                "_naive_date": "2024-02-29",
                "_naive_datetime": "2024-02-29T13:45:30.123456",
                "_utc_datetime": "2024-02-29T18:15:30+05:30",  // stored normalised to UTC
                "_binary": "AAEC/w==",  // base64 of the bytes 00 01 02 FF
                "_xml": "<note><to>Ada</to></note>",
                "_string": "naïve café ☕",
                "_json": ["tags": ["a", "b"], "nested": ["n": 1]],
            ])
        // Every column but the key may be null.
        try operations.upsert("specified", ["id": 2])
        try operations.checkpoint(["done": true])
    }
}
