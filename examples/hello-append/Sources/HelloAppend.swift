import ConnectorProtocol
import ConnectorSDK

/// Appends greetings to a table that has no primary key.
///
/// Without a primary key the host identifies each row by a hash of its values (`_connector_id`):
/// a new row is appended, and sending exactly the same row again changes nothing. Every run appends
/// one greeting that names the run, and re-sends the same "hello, world", which stays a single row.
@main
struct HelloAppend: Connector {
    var name: String { "hello-append" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        // No primary key: rows are keyed by the hash of all their values.
        [TableDefinition(name: "greeting", columns: [("message", ColumnType(.string)), ("run", ColumnType(.int))])]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let run = (state["runs"]?.int64Value ?? 0) + 1
        try operations.upsert("greeting", ["message": "hello, world", "run": nil])
        try operations.upsert("greeting", ["message": .string("hello from run \(run)"), "run": .integer(run)])
        try operations.checkpoint(["runs": .integer(run)])
    }
}
