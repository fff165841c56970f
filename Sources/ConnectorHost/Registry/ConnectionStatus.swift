import ConnectorProtocol
import Foundation

/// Everything `connection show` tells about a connection: its schedule, its last and next sync,
/// and where its files are. The configuration is masked: values under secret-looking keys (and the
/// keys `__secrets` lists) are `********`.
public struct ConnectionStatus: Sendable {
    public var connection: ConnectionRecord
    public var package: PackageRecord?
    /// The most recent syncs, newest first.
    public var recentSyncs: [SyncRecord]
    /// When the last successful and the last failed sync ended.
    public var succeededAt: Int64?
    public var failedAt: Int64?
    /// The pid of the process syncing the connection now, if any.
    public var syncingPID: String?
    /// The configuration with its secrets masked.
    public var configuration: JSONValue
    public var files: ConnectorRegistry.ConnectionFiles
    /// The PostgreSQL destination, when the connection has one instead of its SQLite warehouse.
    public var destination: PostgresTarget?

    /// `syncing`, `paused`, `rescheduled` (a retry is due), `scheduled`, or `manual` (no schedule):
    /// the values of Fivetran's `status.sync_state`, plus `manual`.
    public var syncState: String {
        if syncingPID != nil { return "syncing" }
        if connection.paused { return "paused" }
        if connection.intervalSeconds == nil { return "manual" }
        return connection.failures > 0 ? "rescheduled" : "scheduled"
    }

    public var lastSync: SyncRecord? { recentSyncs.first }
}

extension ConnectorRegistry {
    /// The status of connection `name`, with its `recent` latest syncs.
    public func status(of name: String, recent: Int = 5) throws(RegistryError) -> ConnectionStatus {
        try status(of: connection(named: name), recent: recent)
    }

    public func status(of connection: ConnectionRecord, recent: Int = 5) throws(RegistryError) -> ConnectionStatus {
        let files = files(of: connection)
        let package = try? package(connection.packageID)
        let times = try query(
            "SELECT max(CASE WHEN status = 'succeeded' THEN finished_at END), max(CASE WHEN status = 'failed' THEN finished_at END) FROM syncs WHERE connection_id = ?1",
            [.text(connection.id)])
        var syncing: String?
        if FileLock.isHeld(files.lock) {
            let text = (try? String(contentsOfFile: files.lock, encoding: .utf8)) ?? ""
            syncing =
                text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "?" : text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let raw = (FileManager.default.contents(atPath: files.configuration)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let secrets = (try? JSONParser.parse(raw))?.objectValue.map(Redaction.secretValues(in:)) ?? []
        let masked = Redaction.maskedJSON(raw, secrets: secrets)
        return ConnectionStatus(
            connection: connection, package: package, recentSyncs: try syncs(of: connection, limit: recent),
            succeededAt: times.first?[0].integer, failedAt: times.first?[1].integer, syncingPID: syncing,
            configuration: (try? JSONParser.parse(masked)) ?? .object([:]), files: files, destination: try? destination(of: connection))
    }
}
