import ConnectorProtocol
import ConnectorSDK

/// Reloads a whole table every sync: truncate, then upsert the current snapshot.
///
/// For sources that cannot say what changed (no cursor, no deletes), the full snapshot is the
/// truth. `truncate` marks every row written before it deleted; the upserts that follow revive the
/// rows still present. Rows missing from the snapshot stay, marked `_connector_deleted = 1`.
@main
struct TruncateAndReload: Connector {
    var name: String { "truncate-and-reload" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "branch", primaryKey: ["id"],
                columns: [("id", ColumnType(.long)), ("city", ColumnType(.string)), ("open_on_sundays", ColumnType(.boolean))])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let load = Int(state["loads"]?.int64Value ?? 0)
        let branches = EmulatedBranchList.snapshot(load)
        try operations.truncate("branch")
        for branch in branches {
            try operations.upsert(
                "branch", ["id": .integer(branch.id), "city": .string(branch.city), "open_on_sundays": .bool(branch.openOnSundays)])
        }
        // Truncate and reload commit together: no reader of the warehouse ever sees the table empty.
        try operations.checkpoint(["loads": .integer(load + 1)])
    }
}

/// The emulated source: a branch list without change tracking; it changes once, after the first load.
enum EmulatedBranchList {
    static func snapshot(_ load: Int) -> [(id: Int, city: String, openOnSundays: Bool)] {
        if load == 0 { return [(1, "Berlin", false), (2, "Paris", true), (3, "Rome", false)] }
        return [(1, "Berlin Mitte", false), (3, "Rome", true), (4, "Oslo", false)]
    }
}
