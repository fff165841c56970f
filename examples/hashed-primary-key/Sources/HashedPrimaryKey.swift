import ConnectorProtocol
import ConnectorSDK

/// Computes a primary key as a hash of the fields that identify a record.
///
/// The emulated analytics export has no ids: a page hit is identified by its session, URL and time,
/// while its duration may be corrected in a later export. Hashing only the identifying fields gives a
/// short, stable key, so a corrected hit replaces the stored one instead of adding a second row
/// (which is what a table without primary key would do, as its key is a hash of every value).
@main
struct HashedPrimaryKey: Connector {
    var name: String { "hashed-primary-key" }
    var version: String { "1.0.0" }

    struct Hit {
        var session: String
        var url: String
        var at: String
        var durationMs: Int
    }

    /// The emulated source: each sync reads the next export; the second corrects a duration.
    static let exports: [[Hit]] = [
        [
            Hit(session: "s-1", url: "/home", at: "2024-06-01T10:00:00Z", durationMs: 1200),
            Hit(session: "s-1", url: "/pricing", at: "2024-06-01T10:00:05Z", durationMs: 800),
            Hit(session: "s-2", url: "/home", at: "2024-06-01T10:01:00Z", durationMs: 300),
        ],
        [
            Hit(session: "s-1", url: "/pricing", at: "2024-06-01T10:00:05Z", durationMs: 4500),
            Hit(session: "s-2", url: "/docs", at: "2024-06-01T10:02:00Z", durationMs: 2100),
        ],
    ]

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "page_hit", primaryKey: ["hit_key"],
                columns: [
                    ("hit_key", ColumnType(.string)), ("session", ColumnType(.string)), ("url", ColumnType(.string)),
                    ("at", ColumnType(.utcDateTime)), ("duration_ms", ColumnType(.long)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let export = Int(state["next_export"]?.int64Value ?? 0)
        guard export < Self.exports.count else {
            Log.info("no new export")
            return
        }
        for hit in Self.exports[export] {
            try operations.upsert(
                "page_hit",
                [
                    "hit_key": .string(Self.key(hit.session, hit.url, hit.at)), "session": .string(hit.session), "url": .string(hit.url),
                    "at": .string(hit.at), "duration_ms": .integer(hit.durationMs),
                ])
        }
        try operations.checkpoint(["next_export": .integer(export + 1)])
    }

    /// A stable key for the identifying fields: 64-bit FNV-1a of the fields joined by a separator
    /// that cannot occur in them, as 16 hex digits.
    ///
    /// Never use `hashValue` or `Hasher` for keys: Swift seeds them randomly per process, so the
    /// same record would get a different key on every run. For very large tables, prefer a wider
    /// hash such as SHA-256 to make collisions negligible.
    static func key(_ fields: String...) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in fields.joined(separator: "\u{1F}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
