import ConnectorPackaging
import ConnectorProtocol

/// A package in the registry, as Fivetran's `/v1/connector-sdk/packages` resource describes one.
public struct PackageRecord: Sendable, Equatable {
    /// `pkg_` and 16 hexadecimal digits.
    public var id: String
    /// SHA-256 of the package file (`file_sha256_hash`).
    public var sha256: String
    public var size: Int64
    public var metadata: PackageMetadata
    /// Milliseconds since 1970, UTC.
    public var createdAt: Int64
    public var createdBy: String
    public var updatedAt: Int64
    public var lastUpdatedBy: String
    /// The folder the package was last made from (informative).
    public var source: String
    /// The connections that run this package, by id.
    public var connectionIDs: [String] = []

    /// The REST resource's fields (`id`, `created_at`, `created_by`, `updated_at`, `last_updated_by`,
    /// `connection_id`, `connection_ids`, `file_sha256_hash`), then this registry's own
    /// (`size`, `source`, `metadata`). `connection_id` is the one connection when exactly one uses
    /// the package, else null; `connection_ids` lists them all.
    public var json: JSONValue {
        [
            "id": .string(id), "created_at": .string(RegistryTime.text(createdAt)), "created_by": .string(createdBy),
            "updated_at": .string(RegistryTime.text(updatedAt)), "last_updated_by": .string(lastUpdatedBy),
            "connection_id": connectionIDs.count == 1 ? .string(connectionIDs[0]) : .null,
            "connection_ids": .array(connectionIDs.map(JSONValue.string)), "file_sha256_hash": .string(sha256),
            "size": .number(JSONNumber(Int(size))), "source": .string(source),
            "metadata": (try? JSONParser.parse(metadata.encoded())) ?? .null,
        ]
    }
}

/// A connection: a package bound to a configuration, with its own warehouse and state, and
/// optionally a schedule.
public struct ConnectionRecord: Sendable, Equatable {
    /// `conn_` and 16 hexadecimal digits; also the name of its folder.
    public var id: String
    public var name: String
    public var packageID: String
    /// Seconds between the starts of scheduled syncs; `nil` for a connection run by hand (or by an
    /// orchestrator) only.
    public var intervalSeconds: Int64?
    public var paused: Bool
    /// When the next scheduled sync (or retry) starts, milliseconds since 1970; `nil` when not scheduled.
    public var nextSyncAt: Int64?
    /// The due time (a point of the schedule's grid) that sync is for; a retry keeps it.
    public var slotAt: Int64?
    public var createdAt: Int64
    public var createdBy: String
    /// Failed attempts in a row for the current due time.
    public var failures: Int
    /// Due times skipped because the connection was still syncing (or the scheduler was not running).
    public var missedSyncs: Int
}

/// One sync of a connection, as the registry's history keeps it.
public struct SyncRecord: Sendable, Equatable {
    public var id: Int64
    public var connectionID: String
    public var packageID: String
    public var sha256: String
    /// `manual` (`run --connection`) or `schedule`.
    public var trigger: String
    /// The due time a scheduled sync is for, milliseconds since 1970.
    public var scheduledFor: Int64?
    public var attempt: Int
    public var startedAt: Int64
    public var finishedAt: Int64?
    /// `running`, `succeeded`, `failed`, `cancelled` or `interrupted` (its process died).
    public var status: String
    /// The failure's message, secrets masked.
    public var error: String?
    public var rowOperations: Int64?
    public var pid: Int32

    public var json: JSONValue {
        [
            "id": .number(JSONNumber(Int(id))), "connection_id": .string(connectionID), "package_id": .string(packageID),
            "file_sha256_hash": .string(sha256), "trigger": .string(trigger),
            "scheduled_for": scheduledFor.map { .string(RegistryTime.text($0)) } ?? .null,
            "attempt": .number(JSONNumber(attempt)), "started_at": .string(RegistryTime.text(startedAt)),
            "finished_at": finishedAt.map { .string(RegistryTime.text($0)) } ?? .null, "status": .string(status),
            "error": error.map(JSONValue.string) ?? .null,
            "row_operations": rowOperations.map { .number(JSONNumber(Int($0))) } ?? .null,
        ]
    }
}

/// Times in the registry: integers of milliseconds since 1970 (UTC), shown as RFC 3339.
public enum RegistryTime {
    /// Now, in milliseconds since 1970.
    public static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// `2026-12-01T18:00:00.000Z`.
    public static func text(_ milliseconds: Int64) -> String { TemporalValues.format(epochMilliseconds: Int(milliseconds)) }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
