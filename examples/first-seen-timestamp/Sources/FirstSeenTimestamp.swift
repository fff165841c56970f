import ConnectorProtocol
import ConnectorSDK

/// Gives records without a created-at field a first-seen timestamp that survives later syncs.
///
/// The emulated catalog API returns its products without any creation time. The connector stamps
/// each product with the time it first appeared and keeps those stamps in the state (`first_seen`,
/// by SKU), so later syncs, which upsert the whole row, write the same first-seen time again.
@main
struct FirstSeenTimestamp: Connector {
    var name: String { "first-seen-timestamp" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "product", primaryKey: ["sku"],
                columns: [
                    ("sku", ColumnType(.string)), ("name", ColumnType(.string)), ("price_cents", ColumnType(.long)),
                    ("first_seen_at", ColumnType(.utcDateTime)), ("last_seen_at", ColumnType(.utcDateTime)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let snapshotIndex = Int(state["next_snapshot"]?.int64Value ?? 0)
        let snapshot = EmulatedCatalogAPI.products(snapshot: snapshotIndex)
        var firstSeen = state["first_seen"]?.objectValue ?? [:]
        for product in snapshot.products {
            // The server's response time, not the local clock: it is the same for every record of the response.
            let seen = firstSeen[product.sku]?.stringValue ?? snapshot.fetchedAt
            firstSeen[product.sku] = .string(seen)
            try operations.upsert(
                "product",
                [
                    "sku": .string(product.sku), "name": .string(product.name), "price_cents": .integer(product.priceCents),
                    "first_seen_at": .string(seen), "last_seen_at": .string(snapshot.fetchedAt),
                ])
        }
        try operations.checkpoint(["first_seen": .object(firstSeen), "next_snapshot": .integer(snapshotIndex + 1)])
    }
}

/// The emulated source: the catalog as it looks on three successive days (and stays after that).
enum EmulatedCatalogAPI {
    typealias Product = (sku: String, name: String, priceCents: Int)

    static let days: [(fetchedAt: String, products: [Product])] = [
        ("2024-03-01T09:00:00Z", [("A-1", "kettle", 2500), ("B-2", "toaster", 4000)]),
        ("2024-03-02T09:00:00Z", [("A-1", "kettle", 2200), ("B-2", "toaster", 4000), ("C-3", "blender", 6000)]),
        ("2024-03-03T09:00:00Z", [("B-2", "toaster", 3900), ("C-3", "blender", 6000)]),
    ]

    static func products(snapshot: Int) -> (fetchedAt: String, products: [Product]) { days[min(snapshot, days.count - 1)] }
}
