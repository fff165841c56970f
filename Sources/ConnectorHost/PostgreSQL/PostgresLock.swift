import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The lock of one connection in a PostgreSQL database: a session-level advisory lock whose key
/// is derived from the schema, so a second run of the same connection, from this machine or any
/// other, is refused while different connections (schemas) sync at once.
///
/// The lock belongs to the database session: it is released when the host disconnects, and when
/// the host dies (the kernel closes its socket, the server ends the session; a machine that
/// vanishes is noticed by the TCP keepalives the destination turns on, within about a minute).
struct PostgresLock {
    /// The advisory lock key.
    let key: Int64
    /// Who holds it: this host, as `pg_stat_activity` and the sync history show it.
    let holder: String

    /// The lock key of `schema`: the first 64 bits of a stable hash of "connector-host", the
    /// schema's name. Stable across machines and versions (``StableHasher``), unlike Swift's `Hasher`.
    static func key(schema: String) -> Int64 {
        var hasher = StableHasher()
        hasher.combine("connector-host")
        hasher.combine(schema)
        return Int64(bitPattern: UInt64(hasher.hexDigest.prefix(16), radix: 16) ?? 0)
    }

    /// The session's `application_name`: what a refused host is told about the holder.
    static func applicationName(connector: String) -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // PostgreSQL keeps the first 63 bytes; the pid and host come first so they survive.
        let text = "connector-host pid \(getpid()) on \(host) (\(connector))"
        return String(decoding: Array(text.utf8.prefix(63)), as: UTF8.self)
    }

    /// Takes the lock of `schema` on `connection`, or fails at once naming the host that holds it.
    static func acquire(on connection: PostgresConnection, schema: String, location: String) throws -> PostgresLock {
        let key = key(schema: schema)
        let holder = ((try? connection.scalar("SELECT current_setting('application_name')")) ?? nil) ?? "connector-host"
        // A host killed a moment ago may still hold the lock until the server has seen its socket
        // close: a refusal is final only after a second of asking.
        let deadline = monotonicSeconds() + 1
        while try connection.scalar("SELECT pg_try_advisory_lock($1::bigint)", [String(key)]) != "t" {
            guard monotonicSeconds() < deadline else {
                throw SyncFailure(.warehouse, refusal(on: connection, key: key, location: location))
            }
            usleep(100_000)
        }
        return PostgresLock(key: key, holder: holder)
    }

    /// The message for a lock another session holds: who (application name, client address, since
    /// when), and what to do.
    private static func refusal(on connection: PostgresConnection, key: Int64, location: String) -> String {
        let bits = UInt64(bitPattern: key)
        let rows = try? connection.query(
            """
            SELECT a.application_name, coalesce(host(a.client_addr), 'a local socket'), to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), a.pid
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1
            """, [String(bits >> 32), String(bits & 0xFFFF_FFFF)])
        let holder: String
        if let row = rows?.first {
            let name = (row[0] ?? "").isEmpty ? "a session without application name" : row[0]!
            holder = "\(name), connected from \(row[1] ?? "?") since \(row[2] ?? "?"), server process \(row[3] ?? "?")"
        } else {
            holder = "a session that ended just now, or that this user may not see"
        }
        return
            "another connector-host is syncing this connection into \(location): \(holder). Wait for it to finish or stop it; a host that was killed releases the lock when its connection closes"
    }
}
