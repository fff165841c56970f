import ConnectorProtocol
import ConnectorSDK

/// Syncs one row per run and remembers where it stopped: a cursor in the state.
///
/// The first run sees an empty state and starts at the beginning; each checkpoint stores the
/// position of the next row, so the next run continues from there. Once the source is exhausted a
/// run sends nothing and keeps the state as it is.
@main
struct ThreeStepCursor: Connector {
    var name: String { "three-step-cursor" }
    var version: String { "1.0.0" }

    /// The emulated source: three rows, read one at a time.
    static let sourceRows: [(id: Int, message: String)] = [(10, "Hello world"), (20, "Hello again"), (30, "Good bye")]

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [TableDefinition(name: "hello_world", primaryKey: ["id"], columns: [("id", ColumnType(.int)), ("message", ColumnType(.string))])]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let cursor = Int(state["cursor"]?.int64Value ?? 0)
        guard cursor < Self.sourceRows.count else {
            Log.info("all \(Self.sourceRows.count) source rows are synced; nothing to do")
            return
        }
        let row = Self.sourceRows[cursor]
        try operations.upsert("hello_world", ["id": .integer(row.id), "message": .string(row.message)])
        // Durable together with the row above: a crash before this line replays the same row next time.
        try operations.checkpoint(["cursor": .integer(cursor + 1)])
        Log.info("synced row \(cursor + 1) of \(Self.sourceRows.count)")
    }
}
