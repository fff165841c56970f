import ConnectorProtocol
import Foundation

/// How `run --connection` was started, for the history.
public struct ConnectionTrigger: Sendable, Equatable {
    /// `manual` (a person, cron, an orchestrator) or `schedule`.
    public var kind: String
    /// The due time a scheduled sync is for (milliseconds since 1970).
    public var scheduledFor: Int64?
    /// 1 for the first try at a due time, 2 for the first retry, ...
    public var attempt: Int

    public static let manual = ConnectionTrigger(kind: "manual", scheduledFor: nil, attempt: 1)

    public init(kind: String, scheduledFor: Int64?, attempt: Int) {
        self.kind = kind
        self.scheduledFor = scheduledFor
        self.attempt = attempt
    }
}

/// What `run --connection` did.
public struct ConnectionRunOutcome: Sendable {
    public var connection: ConnectionRecord?
    public var package: PackageRecord?
    /// The sync's report, when a sync started.
    public var report: SyncReport?
    /// Why no sync ran (unknown connection, busy, tampered package, unpack or build failure).
    public var refusal: RegistryError?
    /// The registry's history row.
    public var syncID: Int64?

    /// The exit code of `connector-host run --connection`: 0, 1, 130 (cancelled), 75 (busy).
    public var exitCode: Int32 {
        if let refusal { return refusal.kind == .busy ? 75 : 1 }
        return report?.failure?.exitCode ?? 0
    }
}

/// Runs one sync of a connection: the package's verified code, the connection's configuration,
/// its own warehouse and state, recorded in the registry's history (and the warehouse's, with the
/// package id and hash).
///
/// Holds the connection's lock (`connections/<id>/sync.lock`) from before anything is read to the
/// end, so a connection never syncs twice at once, whoever starts it: `schedule`, cron, a Kubernetes
/// CronJob or an Airflow task calling `connector-host run --connection NAME`. A second run finds the
/// lock held and does nothing (exit 75).
public enum ConnectionRunner {
    /// Runs connection `name`. Blocks the calling thread for the whole sync.
    /// - Parameters:
    ///   - tune: adjusts the sync's options (timeouts, grace, passed environment) before it starts.
    public static func run(
        _ name: String, registry: ConnectorRegistry, trigger: ConnectionTrigger = .manual, console: any SyncConsole,
        cancellation: CancellationSignal = CancellationSignal(), tune: (inout SyncOptions) -> Void = { _ in }
    ) -> ConnectionRunOutcome {
        var outcome = ConnectionRunOutcome()
        do throws(RegistryError) {
            let connection = try registry.connection(named: name)
            outcome.connection = connection
            let files = registry.files(of: connection)
            try ConnectorHostHome.makeFolder(files.folder)
            let lock: FileLock
            switch try FileLock.acquire(files.lock) {
            case .success(let held): lock = held
            case .failure(let holder):
                throw RegistryError(
                    .busy,
                    "connection \"\(name)\" is already syncing (pid \(holder.pid), which holds \(files.lock)); a connection never syncs twice at once, so this run did nothing"
                )
            }
            try withExtendedLifetime(lock) { () throws(RegistryError) in
                try registry.markInterrupted(connection)
                let package = try registry.package(connection.packageID)
                outcome.package = package
                // Read before the sync is recorded: a destination file changed by hand is a refusal.
                let destination = try registry.destination(of: connection)
                let syncID = try registry.beginSync(
                    connection, package: package, trigger: trigger.kind, scheduledFor: trigger.scheduledFor, attempt: trigger.attempt)
                outcome.syncID = syncID
                let secrets =
                    Redaction.secretValues(in: (try? registry.configuration(of: connection)) ?? [:]) + (destination?.address.secrets ?? [])
                do throws(RegistryError) {
                    let packageFile = try registry.verifiedPackageFile(package)
                    let folder = try PackageCache.prepare(
                        packageFile: packageFile, sha256: package.sha256, label: "package \(package.id)", home: registry.home,
                        cancellation: cancellation,
                        log: { console.note(Redaction.redact($0, secrets: secrets)) })
                    var options = SyncOptions(directory: folder, configurationPath: files.configuration, files: files.workspace)
                    options.build = false
                    // Into PostgreSQL the database holds the state: no file mirror (as for `run --destination`).
                    options.postgres = destination
                    options.provenance = SyncProvenance(packageID: package.id, packageSHA256: package.sha256, connection: connection.name)
                    tune(&options)
                    let report = SyncRunner.run(options, console: console, cancellation: cancellation)
                    outcome.report = report
                    let status =
                        switch report.failure?.kind {
                        // A sample sync (`--limit`) is not a whole one: recorded as the warehouse records it.
                        case nil: report.limitedAt != nil ? "limited" : "succeeded"
                        case .cancelled?: "cancelled"
                        default: "failed"
                        }
                    try registry.finishSync(
                        syncID, status: status, error: report.failure?.message, rowOperations: Int64(report.counts.rowOperations))
                } catch {
                    let message = Redaction.redact(error.message, secrets: secrets)
                    try? registry.finishSync(
                        syncID, status: cancellation.isCancelled ? "cancelled" : "failed", error: message, rowOperations: nil)
                    throw RegistryError(error.kind, message)
                }
            }
        } catch {
            outcome.refusal = error
        }
        return outcome
    }
}

extension ConnectorRegistry {
    /// Marks the connection's syncs still `running` as `interrupted`: called with the connection's
    /// lock held, so their processes are gone (killed, or the machine stopped).
    func markInterrupted(_ connection: ConnectionRecord) throws(RegistryError) {
        try run(
            "UPDATE syncs SET status = 'interrupted', finished_at = ?2, error = 'its process ended before the sync did (killed, or the machine stopped)' WHERE connection_id = ?1 AND status = 'running'",
            [.text(connection.id), .integer(RegistryTime.now())])
    }
}
