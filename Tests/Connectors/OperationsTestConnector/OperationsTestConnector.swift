import ConnectorProtocol
import ConnectorSDK

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A connector scripted by its configuration, for end-to-end tests of the host.
///
/// `configuration.schema` is returned as the schema's tables; `configuration.steps` is a list of
/// steps run in order by `update`, each an object with one key:
/// `{"upsert": {"table": T, "data": {...}}}`, `{"update": ...}`, `{"delete": {"table": T, "keys": {...}}}`,
/// `{"truncate": T}`, `{"checkpoint": STATE}`, `{"log": TEXT}`, `{"stderr": TEXT}`, `{"exit": CODE}`
/// (flushes pending records first), `{"abort": true}` (SIGABRT), `{"fail": MESSAGE}` (throws),
/// `{"sleep": SECONDS}`, `{"rows": {"table": T, "count": N, "start": S, "checkpointEvery": K}}`
/// (upserts rows {id, value} with checkpoints {"cursor": id}). It selects tables (`run --tables`):
/// an upsert step of a table not selected is not sent.
@main
struct OperationsTestConnector: Connector {
    var name: String { "operations-test" }
    /// It honours `run --tables`: upserts of a table not selected are not sent.
    var selectsTables: Bool { true }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        guard let tables = configuration["schema"]?.arrayValue else { return [] }
        return try tables.map { value in
            guard let table = value.objectValue, let name = table["table"]?.stringValue else {
                throw ConnectorError.configuration("schema entries need a table name")
            }
            let columns: [(name: String, type: ColumnType)] = (table["columns"]?.objectValue ?? [:]).map { member in
                let typeName = member.value.stringValue ?? member.value["type"]?.stringValue ?? "STRING"
                return (
                    member.key,
                    ColumnType(
                        DataType(rawValue: typeName) ?? .string, precision: member.value["precision"]?.int64Value.map(Int.init),
                        scale: member.value["scale"]?.int64Value.map(Int.init))
                )
            }
            return TableDefinition(
                name: name, primaryKey: table["primaryKey"]?.arrayValue?.compactMap(\.stringValue) ?? [], columns: columns)
        }
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        for step in configuration["steps"]?.arrayValue ?? [] {
            guard let (kind, argument) = step.objectValue?.members.first else { continue }
            switch kind {
            case "upsert" where !operations.isSelected(argument["table"]?.stringValue ?? ""): continue
            case "upsert": try operations.upsert(argument["table"]?.stringValue ?? "", argument["data"]?.objectValue ?? [:])
            case "update": try operations.update(argument["table"]?.stringValue ?? "", argument["data"]?.objectValue ?? [:])
            case "delete": try operations.delete(argument["table"]?.stringValue ?? "", keys: argument["keys"]?.objectValue ?? [:])
            case "truncate": try operations.truncate(argument.stringValue ?? "")
            case "checkpoint": try operations.checkpoint(argument)
            case "log": Log.info(argument.stringValue ?? "")
            case "stderr": print(argument.stringValue ?? "")
            case "state": Log.info("state: \(JSONWriter.string(state, sortedKeys: true))")
            case "exit":
                try operations.flushForTesting()
                exit(Int32(argument.int64Value ?? 1))
            case "abort":
                try operations.flushForTesting()
                abort()
            case "fail": throw ConnectorError(.sourceError, argument.stringValue ?? "failed")
            case "sleep": usleep(UInt32((argument.doubleValue ?? 0) * 1_000_000))
            case "rows":
                let table = argument["table"]?.stringValue ?? "rows"
                let count = argument["count"]?.int64Value ?? 0
                let start = argument["start"]?.int64Value ?? (state["cursor"]?.int64Value ?? 0) + 1
                let every = argument["checkpointEvery"]?.int64Value ?? 0
                if count > 0 {
                    for id in start..<(start + count) {
                        try operations.upsert(table) { row in
                            row.field("id", id)
                            row.field("value", "row \(id)")
                        }
                        if every > 0 && (id - start + 1) % every == 0 { try operations.checkpoint(["cursor": .number(JSONNumber(id))]) }
                    }
                }
            default:
                throw ConnectorError.configuration("unknown step \(kind)")
            }
        }
    }
}
