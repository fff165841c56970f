import ConnectorProtocol
import ConnectorSDK

/// Sends data whose shape grows from run to run: new columns, and values of wider types.
///
/// No column types are declared, so the host infers them and widens a column when a value does not
/// fit: BOOLEAN < SHORT < INT < LONG < FLOAT < DOUBLE, and any other mix becomes STRING. Stored
/// values are converted, never lost.
@main
struct WideningSchema: Connector {
    var name: String { "widening-schema" }
    var version: String { "1.0.0" }

    /// The emulated source: a sensor whose firmware changes between syncs.
    static let batches: [[JSONObject]] = [
        [["id": 1, "reading": 7, "ok": true]],  // reading LONG, ok BOOLEAN
        [["id": 2, "reading": 7.5, "ok": 1, "unit": "cm"]],  // reading -> DOUBLE, ok -> LONG, new column unit
        [["id": 3, "reading": "n/a", "ok": 0, "unit": "mm"]],  // reading -> STRING
    ]

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [TableDefinition(name: "measurement", primaryKey: ["id"])]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let batch = Int(state["next_batch"]?.int64Value ?? 0)
        guard batch < Self.batches.count else {
            Log.info("the sensor has sent everything")
            return
        }
        for row in Self.batches[batch] { try operations.upsert("measurement", row) }
        try operations.checkpoint(["next_batch": .integer(batch + 1)])
    }
}
