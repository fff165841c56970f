import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How `connector-host schedule` runs.
public struct ScheduleOptions: Sendable {
    /// The `connector-host` executable each sync runs in (`run --connection NAME`).
    public var executable: String
    /// Syncs running at once, at most.
    public var maxParallel = 2
    /// Run each connection due now once, wait for them, and stop.
    public var once = false
    /// Stop starting syncs after this many seconds, let the running ones finish, and stop.
    public var duration: Double?
    /// Retries of a failed sync before its due time is given up (the next one still comes).
    public var retries = 3
    /// Seconds before the first retry; each further retry waits twice as long, never longer than
    /// the connection's interval.
    public var retryDelay: Double = 30
    /// Seconds before trying again a connection that another process is syncing.
    public var busyDelay: Double = 2
    /// Options passed to every `run --connection` (timeouts, `--pass-env`).
    public var runArguments: [String] = []

    public init(executable: String) { self.executable = executable }
}

/// What the scheduler reports as it goes.
public enum ScheduleEvent: Sendable, Equatable {
    case started(maxParallel: Int, until: Int64?)
    case syncStarted(connection: String, scheduledFor: Int64, attempt: Int, pid: Int32)
    /// A sync ended; `nextSyncAt` is when the connection is due again, `retry` whether that is a retry.
    case syncFinished(
        connection: String, status: String, scheduledFor: Int64, attempt: Int, error: String?, nextSyncAt: Int64?, retry: Bool,
        missed: Int)
    /// Another process (a cron job, `run --connection`, a scheduler killed earlier whose sync is still
    /// stopping) is syncing the connection; tried again shortly.
    case busy(connection: String, message: String)
    case stopped(reason: String)
}

/// Where the scheduler reports events. Called on the scheduler's thread.
public protocol ScheduleConsole: Sendable {
    func event(_ event: ScheduleEvent, at time: Int64)
}

/// Runs every due connection on its interval, each sync as a child process `connector-host run
/// --connection NAME`, at most ``ScheduleOptions/maxParallel`` at once.
///
/// **Why child processes, not threads.** A sync that crashes (a Swift runtime trap, SIGSEGV in a
/// native library, memory exhaustion) takes down only its own process: the scheduler records the
/// failure and goes on, and the other syncs are untouched. Each sync gets its own signal handling,
/// file descriptors and memory, all freed when it ends, and is exactly what cron or an orchestrator
/// would run, so the per-connection lock and the history behave the same either way. The cost, one
/// `connector-host` process per running sync (a few MB and milliseconds to start), is small next to
/// the connector process each sync starts anyway.
///
/// **The schedule.** A connection's due times form a grid: its first due time (its creation) plus
/// multiples of its interval, measured start to start. A sync that ends after later grid points
/// passed does not run them all: the next sync is the next grid point in the future, and the skipped
/// ones are counted as missed. A failed sync is retried after ``ScheduleOptions/retryDelay``,
/// doubling; after ``ScheduleOptions/retries`` retries its due time is given up.
///
/// **State lives in the registry.** The due time (`next_sync_at`, `slot_at`) and the failure count
/// are in `registry.db`, and a sync's outcome is applied to them in one transaction with marking
/// its history row handled. A scheduler killed at any point and started again carries on from the
/// registry: a sync cancelled or interrupted by the stop runs again (none is lost), an outcome
/// recorded but not yet applied is applied, and the per-connection lock keeps a sync still
/// stopping from running twice. The `run --connection` processes watch their stdin, a pipe from the
/// scheduler: when the scheduler dies (even by SIGKILL) they see EOF, cancel and roll back.
///
/// Not Sendable: confined to the thread that calls ``run(stop:)``.
public final class Scheduler {
    private let registry: ConnectorRegistry
    private let options: ScheduleOptions
    private let console: any ScheduleConsole

    private struct Running {
        let connection: ConnectionRecord
        let scheduledFor: Int64
        let attempt: Int
        let process: ChildProcess
        let output: [StderrCollector]
        let log: Int32
    }

    private var running: [String: Running] = [:]
    /// Connections not to start before a time (busy elsewhere, or failed before recording a sync).
    private var notBefore: [String: Int64] = [:]
    private var finishedCount = 0
    private var failedCount = 0

    public init(registry: ConnectorRegistry, options: ScheduleOptions, console: any ScheduleConsole) {
        self.registry = registry
        self.options = options
        self.console = console
    }

    /// The outcome of a scheduler run.
    public struct Summary: Sendable, Equatable {
        /// Syncs that ended (any status) while it ran.
        public var syncs: Int
        /// Of those, the ones that failed.
        public var failures: Int
        /// `deadline`, `once` or `stopped`.
        public var reason: String
    }

    /// Runs until `stop` is signalled (Ctrl-C, SIGTERM), the duration passes, or, with `once`,
    /// the connections due at the start have synced once. On `stop`, running syncs are cancelled
    /// (each rolls back to its last checkpoint) and awaited.
    /// - Throws: ``RegistryError`` when another scheduler runs on this registry, or the registry fails.
    public func run(stop: CancellationSignal) throws(RegistryError) -> Summary {
        let lock: FileLock
        switch try FileLock.acquire(registry.home.schedulerLock) {
        case .success(let held): lock = held
        case .failure(let holder):
            throw RegistryError(
                .busy,
                "another connector-host schedule (pid \(holder.pid)) is running on \(registry.home.path); one scheduler per registry. Stop it first, or use another CONNECTOR_HOST_HOME"
            )
        }
        return try withExtendedLifetime(lock) { () throws(RegistryError) -> Summary in
            let start = RegistryTime.now()
            let deadline = options.duration.map { start + Int64($0 * 1000) }
            console.event(.started(maxParallel: options.maxParallel, until: deadline), at: start)
            try reconcile()
            let onceSet: Set<String>? = options.once ? Set(try dueConnections(at: start).map(\.id)) : nil
            var started: Set<String> = []
            var reason = "stopped"
            while true {
                try reap()
                try reconcile()
                let now = RegistryTime.now()
                if stop.isCancelled { break }
                // Past the deadline, only syncs due before it still start; then the loop ends when all are done.
                let pastDeadline = deadline.map { now >= $0 } ?? false
                let horizon = pastDeadline ? deadline! - 1 : now
                var due = try dueConnections(at: horizon).filter { running[$0.id] == nil && (notBefore[$0.id] ?? 0) <= now }
                if pastDeadline && due.isEmpty && running.isEmpty {
                    reason = "deadline"
                    break
                }
                if let onceSet {
                    due = due.filter { onceSet.contains($0.id) && !started.contains($0.id) }
                    if due.isEmpty && running.isEmpty && onceSet.isSubset(of: started) {
                        reason = "once"
                        break
                    }
                }
                for connection in due where running.count < options.maxParallel {
                    if try launch(connection) { started.insert(connection.id) }
                }
                // Wake for the next due time (so a sync starts on time), a child's end, or a stop.
                var sleep: Int64 = running.isEmpty ? 500 : 100
                if let next = try nextDueTime(), next > now { sleep = min(sleep, next - now) }
                if let deadline, deadline > now { sleep = min(sleep, deadline - now) }
                wait(stop: stop, milliseconds: Int32(max(1, sleep)))
            }
            if stop.isCancelled {
                cancelRunning(signal: stop.reason?.signal ?? SIGTERM)
                try reap()
                try reconcile()
            }
            console.event(.stopped(reason: reason), at: RegistryTime.now())
            return Summary(syncs: finishedCount, failures: failedCount, reason: reason)
        }
    }

    // MARK: Starting and reaping syncs

    /// Connections with a schedule, not paused, due at `time`, soonest first.
    private func dueConnections(at time: Int64) throws(RegistryError) -> [ConnectionRecord] {
        try registry.query(
            """
            SELECT \(ConnectorRegistry.connectionColumns) FROM connections
            WHERE interval_seconds IS NOT NULL AND paused = 0 AND next_sync_at <= ?1 ORDER BY next_sync_at, name
            """, [.integer(time)]
        ).map(ConnectorRegistry.connectionRecord)
    }

    /// The earliest due time of a scheduled, unpaused connection that is not syncing.
    private func nextDueTime() throws(RegistryError) -> Int64? {
        let rows = try registry.query(
            "SELECT id, next_sync_at FROM connections WHERE interval_seconds IS NOT NULL AND paused = 0 AND next_sync_at IS NOT NULL")
        return rows.compactMap { row -> Int64? in
            guard let id = row[0].text, running[id] == nil, let next = row[1].integer else { return nil }
            return max(next, notBefore[id] ?? 0)
        }.min()
    }

    /// Starts `run --connection` for a due connection; false when it could not be started.
    private func launch(_ connection: ConnectionRecord) throws(RegistryError) -> Bool {
        let slot = connection.slotAt ?? connection.nextSyncAt ?? RegistryTime.now()
        let attempt = connection.failures + 1
        let files = registry.files(of: connection)
        try ConnectorHostHome.makeFolder(files.folder)
        let log = open(files.lastLog, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
        var environment = ProcessInfo.processInfo.environment
        environment["CONNECTOR_HOST_HOME"] = registry.home.path
        environment[ScheduledRun.environmentVariable] = ScheduledRun(scheduledFor: slot, attempt: attempt).encoded
        let process: ChildProcess
        do {
            process = try ChildProcess(
                arguments: [options.executable, "run", "--connection", connection.name] + options.runArguments, directory: nil,
                environment: environment.map { "\($0.key)=\($0.value)" }.sorted())
        } catch {
            if log >= 0 { close(log) }
            notBefore[connection.id] = RegistryTime.now() + Int64(options.retryDelay * 1000)
            console.event(
                .syncFinished(
                    connection: connection.name, status: "failed", scheduledFor: slot, attempt: attempt,
                    error: "cannot start \(options.executable): \(error)", nextSyncAt: notBefore[connection.id], retry: true, missed: 0),
                at: RegistryTime.now())
            return false
        }
        let sink: @Sendable (String) -> Void = { line in
            guard log >= 0 else { return }
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(log, $0.baseAddress, $0.count) }
        }
        let output = [
            StderrCollector(fileDescriptor: process.output, tailLimit: 20, sink: sink),
            StderrCollector(fileDescriptor: process.errorOutput, tailLimit: 20, sink: sink),
        ]
        running[connection.id] = Running(
            connection: connection, scheduledFor: slot, attempt: attempt, process: process, output: output, log: log)
        console.event(
            .syncStarted(connection: connection.name, scheduledFor: slot, attempt: attempt, pid: process.pid), at: RegistryTime.now())
        return true
    }

    /// Collects the syncs whose process ended.
    private func reap() throws(RegistryError) {
        for (id, sync) in running {
            guard let status = sync.process.wait(timeout: 0) else { continue }
            running[id] = nil
            for collector in sync.output { collector.waitUntilFinished(timeout: 5) }
            if sync.log >= 0 { close(sync.log) }
            let tail = (sync.output[0].lastLines + sync.output[1].lastLines).suffix(5).joined(separator: " | ")
            if status == .exited(75) {
                notBefore[id] = RegistryTime.now() + Int64(options.busyDelay * 1000)
                console.event(.busy(connection: sync.connection.name, message: tail), at: RegistryTime.now())
                continue
            }
            // The history row its process wrote; still `running` when the process died abruptly.
            let rows = try registry.query(
                "SELECT id, status FROM syncs WHERE connection_id = ?1 AND pid = ?2 AND trigger = 'schedule' ORDER BY id DESC LIMIT 1",
                [.text(id), .integer(Int64(sync.process.pid))])
            if let row = rows.first, let syncID = row[0].integer {
                if row[1].text == "running" {
                    try registry.run(
                        "UPDATE syncs SET status = 'failed', finished_at = ?2, error = ?3 WHERE id = ?1",
                        [
                            .integer(syncID), .integer(RegistryTime.now()),
                            .text("the sync's process \(status)" + (tail.isEmpty ? "" : ": \(tail)")),
                        ])
                }
            } else if try registry.connectionRow(id: id) != nil {
                // It ended before recording a sync (the registry failed, the package is gone): try later.
                notBefore[id] = RegistryTime.now() + Int64(options.retryDelay * 1000)
                finishedCount += 1
                failedCount += 1
                console.event(
                    .syncFinished(
                        connection: sync.connection.name, status: "failed", scheduledFor: sync.scheduledFor, attempt: sync.attempt,
                        error: "run --connection \(status)" + (tail.isEmpty ? "" : ": \(tail)"), nextSyncAt: notBefore[id], retry: true,
                        missed: 0), at: RegistryTime.now())
            }
        }
    }

    /// Applies to the schedule every scheduled sync that ended and is not applied yet, whoever ran
    /// it (this scheduler, or one killed before it could), and marks syncs left `running` by a
    /// process that is gone as interrupted.
    private func reconcile() throws(RegistryError) {
        let stale = try registry.query(
            "SELECT s.id, s.connection_id, s.pid FROM syncs s WHERE s.trigger = 'schedule' AND s.handled = 0 AND s.status = 'running'")
        for row in stale {
            guard let syncID = row[0].integer, let connectionID = row[1].text, running[connectionID] == nil else { continue }
            let lockPath = registry.home.connectionFolder(id: connectionID) + "/sync.lock"
            if !FileLock.isHeld(lockPath) {
                try registry.run(
                    "UPDATE syncs SET status = 'interrupted', finished_at = ?2, error = ?3 WHERE id = ?1 AND status = 'running'",
                    [
                        .integer(syncID), .integer(RegistryTime.now()),
                        .text("its process (pid \(row[2].integer ?? 0)) ended before the sync did (the scheduler or the machine stopped)"),
                    ])
            }
        }
        let finished = try registry.query(
            """
            SELECT id, connection_id, status, scheduled_for, attempt, error, finished_at FROM syncs
            WHERE trigger = 'schedule' AND handled = 0 AND status != 'running' ORDER BY id
            """)
        for row in finished {
            guard let syncID = row[0].integer, let connectionID = row[1].text, let status = row[2].text else { continue }
            let scheduledFor = row[3].integer ?? 0
            let attempt = Int(row[4].integer ?? 1)
            let event = try registry.transaction { () throws(RegistryError) -> ScheduleEvent? in
                try registry.run("UPDATE syncs SET handled = 1 WHERE id = ?1", [.integer(syncID)])
                guard let connection = try registry.connectionRow(id: connectionID), let interval = connection.intervalSeconds,
                    connection.slotAt == scheduledFor
                else { return nil }
                let now = RegistryTime.now()
                // The next due time is the first grid point after the sync ended (not after now, which
                // may be much later when a restarted scheduler applies an old outcome).
                let ended = row[6].integer ?? now
                var next = connection.nextSyncAt
                var slot = connection.slotAt ?? scheduledFor
                var failures = connection.failures
                var missed = 0
                var retry = false
                switch status {
                case "succeeded":
                    (slot, missed) = Self.nextGridPoint(after: scheduledFor, interval: interval, now: ended)
                    next = slot
                    failures = 0
                case "failed":
                    if failures < options.retries {
                        failures += 1
                        let delay = min(options.retryDelay * pow(2, Double(failures - 1)), Double(interval))
                        next = now + Int64(delay * 1000)
                        retry = true
                    } else {
                        (slot, missed) = Self.nextGridPoint(after: scheduledFor, interval: interval, now: ended)
                        next = slot
                        failures = 0
                    }
                default:
                    // Cancelled or interrupted by a stop: the due time stands, so the sync runs again.
                    break
                }
                try registry.run(
                    "UPDATE connections SET next_sync_at = ?2, slot_at = ?3, failures = ?4, missed_syncs = missed_syncs + ?5 WHERE id = ?1",
                    [
                        .text(connectionID), next.map(SQLiteValue.integer) ?? .null, .integer(slot), .integer(Int64(failures)),
                        .integer(Int64(missed)),
                    ])
                return .syncFinished(
                    connection: connection.name, status: status, scheduledFor: scheduledFor, attempt: attempt, error: row[5].text,
                    nextSyncAt: next, retry: retry, missed: missed)
            }
            if let event {
                finishedCount += 1
                if status == "failed" { failedCount += 1 }
                console.event(event, at: RegistryTime.now())
            }
        }
    }

    /// The first point of the grid `slot + k × interval` (k ≥ 1) after `now`, and how many grid
    /// points were skipped on the way.
    static func nextGridPoint(after slot: Int64, interval: Int64, now: Int64) -> (Int64, Int) {
        let step = interval * 1000
        let k = max(1, (now - slot) / step + 1)
        return (slot + k * step, Int(k - 1))
    }

    // MARK: Waiting and stopping

    /// Sleeps up to `milliseconds`, waking at once when `stop` is signalled.
    private func wait(stop: CancellationSignal, milliseconds: Int32) {
        var descriptor = pollfd(fd: stop.wakeDescriptor, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, milliseconds)
    }

    /// Cancels every running sync with the signal that stopped the scheduler (each rolls back, as
    /// `run` does on Ctrl-C) and waits for them.
    private func cancelRunning(signal number: Int32) {
        for sync in running.values {
            sync.process.closeInput()
            sync.process.signal(number)
        }
        let deadline = monotonicSeconds() + 60
        for sync in running.values {
            if sync.process.wait(timeout: max(0, deadline - monotonicSeconds())) == nil {
                sync.process.signal(SIGKILL)
                sync.process.wait()
            }
        }
    }
}

@available(*, unavailable)
extension Scheduler: Sendable {}

/// What the scheduler tells a `run --connection` it starts, through the environment: the due time
/// and attempt (for the history), and that its stdin is a pipe from the scheduler whose EOF means
/// "stop" (the scheduler ended, even by SIGKILL).
public struct ScheduledRun: Sendable, Equatable {
    public static let environmentVariable = "CONNECTOR_HOST_SCHEDULED_RUN"

    public var scheduledFor: Int64
    public var attempt: Int

    public init(scheduledFor: Int64, attempt: Int) {
        self.scheduledFor = scheduledFor
        self.attempt = attempt
    }

    var encoded: String { "scheduled-for=\(scheduledFor);attempt=\(attempt)" }

    /// The value set by the scheduler, if any.
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let text = environment[Self.environmentVariable] else { return nil }
        var values: [String: Int64] = [:]
        for part in text.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2, let value = Int64(pair[1]) { values[String(pair[0])] = value }
        }
        guard let scheduledFor = values["scheduled-for"], let attempt = values["attempt"] else { return nil }
        self.init(scheduledFor: scheduledFor, attempt: Int(attempt))
    }
}
