import ConnectorProtocol
import ConnectorSDK

/// Replays a change feed as upserts, updates and deletes, all in one sync.
///
/// - `upsert` writes a whole row (columns left out become NULL),
/// - `update` changes only the columns it names and must carry the primary key,
/// - `delete` marks the row deleted (a soft delete: `_connector_deleted` becomes 1).
@main
struct ThreeOperations: Connector {
    var name: String { "three-operations" }
    var version: String { "1.0.0" }

    /// The emulated source: a change feed of support tickets, in order.
    enum Change {
        case created(id: Int, title: String, status: String, priority: Int)
        case statusChanged(id: Int, status: String)
        case removed(id: Int)
    }

    static let feed: [Change] = [
        .created(id: 1, title: "printer jammed", status: "open", priority: 2),
        .created(id: 2, title: "vpn down", status: "open", priority: 1),
        .created(id: 3, title: "coffee machine empty", status: "open", priority: 3),
        .statusChanged(id: 2, status: "resolved"),
        .removed(id: 3),
    ]

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "ticket", primaryKey: ["id"],
                columns: [
                    ("id", ColumnType(.long)), ("title", ColumnType(.string)), ("status", ColumnType(.string)),
                    ("priority", ColumnType(.int)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let position = Int(state["position"]?.int64Value ?? 0)
        for change in Self.feed.dropFirst(position) {
            switch change {
            case .created(let id, let title, let status, let priority):
                try operations.upsert(
                    "ticket", ["id": .integer(id), "title": .string(title), "status": .string(status), "priority": .integer(priority)])
            case .statusChanged(let id, let status):
                try operations.update("ticket", ["id": .integer(id), "status": .string(status)])  // title and priority stay
            case .removed(let id):
                try operations.delete("ticket", keys: ["id": .integer(id)])
            }
        }
        try operations.checkpoint(["position": .integer(Self.feed.count)])
    }
}
