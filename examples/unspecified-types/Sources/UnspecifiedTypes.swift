import ConnectorProtocol
import ConnectorSDK

/// Declares a table without column types and lets the host infer them from the data.
///
/// JSON true/false becomes BOOLEAN, an integer LONG, any other number DOUBLE, a string STRING, an
/// object or array JSON. A null gives no type yet: the column takes the type of its first non-null
/// value. Strings stay strings even when they look like dates; declare a column's type when it matters.
@main
struct UnspecifiedTypes: Connector {
    var name: String { "unspecified-types" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        // Only the table and its key: every column is created on first sight.
        [TableDefinition(name: "unspecified", primaryKey: ["id"])]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        try operations.upsert(
            "unspecified",
            [
                "id": 1, "flag": true, "count": 42, "ratio": 0.25, "label": "first", "seen_on": "2024-05-01",
                "tags": ["a", "b"], "details": ["source": "sensor-7"], "comment": nil,
            ])
        try operations.upsert(
            "unspecified",
            [
                "id": 2, "flag": false, "count": -7, "ratio": 1e-3, "label": "second", "seen_on": "2024-05-02",
                "tags": [], "details": [:], "comment": "filled in later",
            ])
        try operations.checkpoint(["done": true])
    }
}
