import ConnectorProtocol
import ConnectorSDK

/// The smallest useful connector: one table, a cursor in the state, three new rows per run.
///
/// Run it with `swift run connector-host run connectors/hello`; run it again and the warehouse
/// gains the next three rows while `files/state.json` advances.
@main
struct Hello: Connector {
    var name: String { "hello" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "greeting",
                primaryKey: ["id"],
                columns: [
                    ("id", ColumnType(.long)),
                    ("message", ColumnType(.string)),
                    ("created_at", ColumnType(.utcDateTime)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let greeting = try configuration.string("greeting", default: "hello")
        let rowsPerRun = try configuration.int("rows_per_run", default: 3)
        let cursor = state["cursor"]?.int64Value ?? 0
        Log.info("starting after cursor \(cursor)")
        for id in (cursor + 1)...(cursor + Int64(rowsPerRun)) {
            try operations.upsert(
                "greeting",
                [
                    "id": .number(JSONNumber(id)),
                    "message": .string("\(greeting) #\(id)"),
                    "created_at": .string(Hello.timestamp(forRow: id)),
                ])
        }
        try operations.checkpoint(["cursor": .number(JSONNumber(cursor + Int64(rowsPerRun)))])
        Log.info("synced \(rowsPerRun) rows; cursor is now \(cursor + Int64(rowsPerRun))")
    }

    /// A deterministic timestamp per row, so runs are reproducible: one minute apart from 2024-01-01.
    static func timestamp(forRow id: Int64) -> String {
        let minutes = id - 1
        let day = 1 + minutes / 1440
        let hour = (minutes / 60) % 24
        let minute = minutes % 60
        func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "2024-01-\(pad(min(day, 31)))T\(pad(hour)):\(pad(minute)):00Z"
    }
}
