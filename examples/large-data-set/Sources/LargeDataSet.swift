import ConnectorProtocol
import ConnectorSDK

/// Reads a large source page by page and checkpoints after every page.
///
/// The state holds the last id read (a keyset cursor), so an interrupted sync resumes at the
/// page after the last checkpoint instead of starting over, and a later sync reads only the rows
/// added since. Rows are written with the `upsert(_:fields:)` fast path.
@main
struct LargeDataSet: Connector {
    var name: String { "large-data-set" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "item", primaryKey: ["id"],
                columns: [
                    ("id", ColumnType(.long)), ("name", ColumnType(.string)), ("quantity", ColumnType(.int)),
                    ("unit_price", ColumnType(.double)), ("created_at", ColumnType(.utcDateTime)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let source = EmulatedItemsAPI(totalRows: try configuration.int("total_rows", default: 10_000))
        let pageSize = try configuration.int("page_size", default: 500)
        var afterID = state["after_id"]?.int64Value ?? 0
        var pages = 0
        while true {
            let page = source.items(after: afterID, limit: pageSize)
            guard let last = page.last else { break }
            for item in page {
                try operations.upsert("item") { row in
                    row.field("id", item.id)
                    row.field("name", item.name)
                    row.field("quantity", item.quantity)
                    row.field("unit_price", item.unitPrice)
                    row.field("created_at", item.createdAt)
                }
            }
            afterID = last.id
            try operations.checkpoint(["after_id": .integer(afterID)])  // Everything up to here is durable.
            pages += 1
        }
        Log.info("read \(pages) pages; the cursor is after id \(afterID)")
    }
}

/// The emulated source: `totalRows` generated items, served in id order like a keyset-paginated API.
struct EmulatedItemsAPI {
    struct Item {
        var id: Int64
        var name: String
        var quantity: Int
        var unitPrice: Double
        var createdAt: String
    }

    let totalRows: Int

    func items(after id: Int64, limit: Int) -> [Item] {
        guard id < totalRows else { return [] }
        return (id + 1...min(id + Int64(limit), Int64(totalRows))).map { id in
            let second = Int(id % 86_400)
            return Item(
                id: id, name: "item \(id)", quantity: Int(id % 100), unitPrice: Double(id % 1000) / 4,
                createdAt: "2024-01-01T\(Self.twoDigits(second / 3600)):\(Self.twoDigits(second / 60 % 60)):\(Self.twoDigits(second % 60))Z"
            )
        }
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
