import ConnectorProtocol
import ConnectorSDK

/// Syncs a parent table and a child table, each with its own cursor.
///
/// Customers and their orders change independently: an order can ship while its customer stays the
/// same. So each table has its own `updated_at` cursor, and the child sync walks *every* parent,
/// not just the parents that changed, asking each for the orders updated after the order cursor.
/// Each table checkpoints its cursor as soon as it is done.
@main
struct ParentChildCursors: Connector {
    var name: String { "parent-child-cursors" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "customer", primaryKey: ["id"],
                columns: [("id", ColumnType(.string)), ("name", ColumnType(.string)), ("updated_at", ColumnType(.utcDateTime))]),
            TableDefinition(
                name: "order", primaryKey: ["id"],
                columns: [
                    ("id", ColumnType(.string)), ("customer_id", ColumnType(.string)), ("status", ColumnType(.string)),
                    ("updated_at", ColumnType(.utcDateTime)),
                ]),
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        var state = state.objectValue ?? [:]
        let source = EmulatedShopAPI(day: Int(state["source_day"]?.int64Value ?? 0) + 1)

        // Parents: only those changed since the customer cursor.
        var customerCursor = state["customer_cursor"]?.stringValue ?? ""
        for customer in source.customers(updatedAfter: customerCursor) {
            try operations.upsert(
                "customer", ["id": .string(customer.id), "name": .string(customer.name), "updated_at": .string(customer.updatedAt)])
            customerCursor = max(customerCursor, customer.updatedAt)
        }
        state["customer_cursor"] = .string(customerCursor)
        try operations.checkpoint(.object(state))

        // Children: every parent, asked for its orders changed since the order cursor.
        var orderCursor = state["order_cursor"]?.stringValue ?? ""
        for customer in source.customers(updatedAfter: "") {
            for order in source.orders(of: customer.id, updatedAfter: orderCursor) {
                try operations.upsert(
                    "order",
                    [
                        "id": .string(order.id), "customer_id": .string(customer.id), "status": .string(order.status),
                        "updated_at": .string(order.updatedAt),
                    ])
                orderCursor = max(orderCursor, order.updatedAt)
            }
        }
        state["order_cursor"] = .string(orderCursor)
        state["source_day"] = .integer(source.day)
        try operations.checkpoint(.object(state))
    }
}

/// The emulated source: a shop API whose records change over three days. It advances one day per
/// sync; having no server to remember the day, it keeps it in the state as `source_day`.
struct EmulatedShopAPI {
    struct Customer {
        var id, name, updatedAt: String
    }
    struct Order {
        var id, customerID, status, updatedAt: String
    }

    let day: Int

    /// Every version of every record; the API serves the latest version visible on `day`.
    static let customerVersions = [
        Customer(id: "C1", name: "Ada", updatedAt: "2024-03-01T10:00:00Z"),
        Customer(id: "C2", name: "Bob", updatedAt: "2024-03-01T11:00:00Z"),
        Customer(id: "C3", name: "Cy", updatedAt: "2024-03-03T09:00:00Z"),
        Customer(id: "C1", name: "Ada Lovelace", updatedAt: "2024-03-03T10:00:00Z"),
    ]
    static let orderVersions = [
        Order(id: "O1", customerID: "C1", status: "placed", updatedAt: "2024-03-01T12:00:00Z"),
        Order(id: "O2", customerID: "C2", status: "placed", updatedAt: "2024-03-02T08:00:00Z"),
        Order(id: "O2", customerID: "C2", status: "shipped", updatedAt: "2024-03-02T16:00:00Z"),
        Order(id: "O3", customerID: "C3", status: "placed", updatedAt: "2024-03-03T09:30:00Z"),
        Order(id: "O1", customerID: "C1", status: "delivered", updatedAt: "2024-03-03T11:00:00Z"),
    ]

    /// The end of the emulated `day` (1 = 2024-03-01); ISO 8601 UTC strings compare in time order.
    private var now: String { "2024-03-0\(min(day, 3))T23:59:59Z" }

    func customers(updatedAfter cursor: String) -> [Customer] {
        latest(Self.customerVersions, id: \.id, updatedAt: \.updatedAt).filter { $0.updatedAt > cursor }
    }

    func orders(of customerID: String, updatedAfter cursor: String) -> [Order] {
        latest(Self.orderVersions, id: \.id, updatedAt: \.updatedAt).filter { $0.customerID == customerID && $0.updatedAt > cursor }
    }

    private func latest<Record>(_ versions: [Record], id: (Record) -> String, updatedAt: (Record) -> String) -> [Record] {
        var byID: [String: Record] = [:]
        for version in versions where updatedAt(version) <= now { byID[id(version)] = version }
        return byID.values.sorted { updatedAt($0) < updatedAt($1) }
    }
}
