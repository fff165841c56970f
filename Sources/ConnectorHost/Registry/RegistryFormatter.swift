import ConnectorPackaging
import ConnectorProtocol

/// The text and JSON that `package` and `connection` commands print. Field names of the JSON are
/// those of Fivetran's REST resources where they have one (`id`, `created_at`, `file_sha256_hash`,
/// `connection_ids`, `paused`, `schedule_type`, `succeeded_at`, `failed_at`, `status.sync_state`).
public enum RegistryFormatter {
    // MARK: Packages

    /// What `connector-host package` printed: the archive's path, its SHA-256, what went in and what was left out.
    public static func text(_ built: BuiltPackage) -> String {
        var lines = [built.path, "sha256: \(built.sha256)"]
        let count = built.contents.files.count + 1
        lines.append("\(count) files (\(built.size) bytes, the metadata entry \(PackageMetadata.fileName) included)")
        if !built.contents.excluded.isEmpty {
            let left = built.contents.excluded.map { "\($0.path) (\($0.reason.rawValue))" }
            lines.append("left out: " + left.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ built: BuiltPackage) -> String {
        JSONWriter.string(
            [
                "path": .string(built.path), "file_sha256_hash": .string(built.sha256), "size": .number(JSONNumber(Int(built.size))),
                "files": .array(built.contents.files.map { .string($0.path) }),
                "excluded": .array(
                    built.contents.excluded.map { ["path": .string($0.path), "reason": .string($0.reason.rawValue)] }),
                "metadata": (try? JSONParser.parse(built.metadata.encoded())) ?? .null,
            ])
    }

    /// One package in detail.
    public static func text(_ package: PackageRecord) -> String {
        var lines = [
            "package:    \(package.id)",
            "sha256:     \(package.sha256)",
            "size:       \(package.size) bytes",
            "connector:  \(package.metadata.name.map { $0 + ", " } ?? "")\(package.metadata.language), starts with \(package.metadata.command.joined(separator: " "))",
            "created:    \(RegistryTime.text(package.createdAt)) by \(package.createdBy)",
            "updated:    \(RegistryTime.text(package.updatedAt)) by \(package.lastUpdatedBy)",
            "source:     \(package.source)",
        ]
        lines.append("used by:    " + (package.connectionIDs.isEmpty ? "no connection" : package.connectionIDs.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }

    public static func json(_ package: PackageRecord) -> String { JSONWriter.string(package.json) }

    /// The package list as a table, or a hint when there are none.
    public static func text(_ packages: [PackageRecord]) -> String {
        guard !packages.isEmpty else { return "no packages yet: connector-host package create DIR" }
        let rows = packages.map { package in
            [
                package.id, String(package.sha256.prefix(12)), "\(package.size)", RegistryTime.text(package.updatedAt),
                package.connectionIDs.isEmpty ? "-" : "\(package.connectionIDs.count)", package.source,
            ]
        }
        return table(["ID", "SHA256", "BYTES", "UPDATED", "CONNECTIONS", "SOURCE"], rows)
    }

    /// `{"items": [...]}`, as the REST list responses hold their items.
    public static func json(_ packages: [PackageRecord]) -> String {
        JSONWriter.string(["items": .array(packages.map(\.json))])
    }

    // MARK: Connections

    public static func statusJSON(_ status: ConnectionStatus) -> JSONValue {
        let connection = status.connection
        return [
            "id": .string(connection.id), "name": .string(connection.name), "package_id": .string(connection.packageID),
            "file_sha256_hash": status.package.map { .string($0.sha256) } ?? .null, "paused": .bool(connection.paused),
            "schedule_type": .string(connection.intervalSeconds == nil ? "manual" : "auto"),
            "sync_interval_seconds": connection.intervalSeconds.map { .number(JSONNumber(Int($0))) } ?? .null,
            "created_at": .string(RegistryTime.text(connection.createdAt)), "created_by": .string(connection.createdBy),
            "succeeded_at": status.succeededAt.map { .string(RegistryTime.text($0)) } ?? .null,
            "failed_at": status.failedAt.map { .string(RegistryTime.text($0)) } ?? .null,
            "next_sync_at": connection.nextSyncAt.map { .string(RegistryTime.text($0)) } ?? .null,
            "status": ["sync_state": .string(status.syncState), "syncing_pid": status.syncingPID.map(JSONValue.string) ?? .null],
            "failures": .number(JSONNumber(connection.failures)), "missed_syncs": .number(JSONNumber(connection.missedSyncs)),
            "last_sync": status.lastSync?.json ?? .null, "configuration": status.configuration,
            "warehouse": .string(status.destination?.location(connector: connection.name) ?? status.files.workspace.warehouse),
            "state": status.destination == nil ? .string(status.files.workspace.state) : .null,
            "destination": status.destination.map {
                ["uri": .string($0.address.description), "schema": .string($0.schemaName(connector: connection.name))]
            }
                ?? .null,
        ]
    }

    public static func json(_ status: ConnectionStatus) -> String { JSONWriter.string(statusJSON(status)) }

    public static func json(_ statuses: [ConnectionStatus]) -> String {
        JSONWriter.string(["items": .array(statuses.map(statusJSON))])
    }

    /// `every 15m`, or how a connection without a schedule runs.
    static func schedule(_ connection: ConnectionRecord) -> String {
        guard let interval = connection.intervalSeconds else { return "manual" }
        return "every " + duration(interval)
    }

    /// `1h30m`, `15m`, `45s`, `1d`.
    static func duration(_ seconds: Int64) -> String {
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text.isEmpty ? "0s" : text
    }

    static func syncSummary(_ sync: SyncRecord) -> String {
        var text = "\(sync.status) \(RegistryTime.text(sync.startedAt))"
        if let finished = sync.finishedAt { text += ", \(HumanText.seconds(Double(finished - sync.startedAt) / 1000))" }
        if let rows = sync.rowOperations { text += ", \(rows) row operations" }
        text += ", \(sync.trigger)"
        if sync.attempt > 1 { text += " (attempt \(sync.attempt))" }
        return text
    }

    /// One connection in detail.
    public static func text(_ status: ConnectionStatus) -> String {
        let connection = status.connection
        var state = status.syncState
        if let pid = status.syncingPID { state += " (pid \(pid))" }
        if state == "rescheduled" { state += " (after \(connection.failures) failed attempt\(connection.failures == 1 ? "" : "s"))" }
        var lines = [
            "connection:  \(connection.name) (\(connection.id))",
            "package:     \(connection.packageID)" + (status.package.map { " (sha256 \($0.sha256))" } ?? " (missing)"),
            "schedule:    \(schedule(connection))" + (connection.paused ? ", paused" : ""),
            "state:       \(state)",
        ]
        if let last = status.lastSync {
            lines.append("last sync:   \(syncSummary(last))")
            if let error = last.error, last.status != "succeeded" {
                lines.append("             " + (error.split(separator: "\n").first.map(String.init) ?? error))
            }
        } else {
            lines.append("last sync:   none yet")
        }
        if connection.intervalSeconds != nil, let next = connection.nextSyncAt {
            lines.append(
                "next sync:   \(RegistryTime.text(next))"
                    + (connection.paused ? " (paused: connector-host connection resume \(connection.name))" : ""))
        } else {
            lines.append("next sync:   when run: connector-host run --connection \(connection.name)")
        }
        if connection.missedSyncs > 0 { lines.append("missed:      \(connection.missedSyncs) due times skipped (a sync ran past them)") }
        lines += [
            "configuration: \(status.files.configuration) = \(JSONWriter.string(status.configuration))"
        ]
        if let destination = status.destination {
            lines.append("destination: \(destination.location(connector: connection.name)) (with the state)")
        } else {
            lines += ["warehouse:   \(status.files.workspace.warehouse)", "state:       \(status.files.workspace.state)"]
        }
        if status.recentSyncs.count > 1 {
            lines.append("recent syncs (newest first):")
            for sync in status.recentSyncs { lines.append("  #\(sync.id) \(syncSummary(sync))") }
        }
        return lines.joined(separator: "\n")
    }

    /// The connection list as a table, or a hint when there are none.
    public static func text(_ statuses: [ConnectionStatus]) -> String {
        guard !statuses.isEmpty else { return "no connections yet: connector-host connection create NAME --package ID" }
        let rows = statuses.map { status in
            [
                status.connection.name, status.connection.packageID, schedule(status.connection), status.syncState,
                status.lastSync.map { "\($0.status) \(RegistryTime.text($0.startedAt))" } ?? "-",
                status.connection.intervalSeconds != nil ? status.connection.nextSyncAt.map(RegistryTime.text) ?? "-" : "-",
            ]
        }
        return table(["NAME", "PACKAGE", "SCHEDULE", "STATE", "LAST SYNC", "NEXT SYNC"], rows)
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
