import ConnectorHost
import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `connector-host schedule`: run every due connection on its interval.
struct ScheduleCommandOptions: ParsableArguments {
    var once = false
    var maxParallel = 2
    var duration: Double?
    var retries = 3
    var retryDelay: Double = 30
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .flag("once", \.once, help: "run each connection due now once, wait for them, and exit (1 if one failed)"),
            .option(
                "max-parallel", "N", \.maxParallel, .integer(1...64, unit: "syncs"), help: "syncs running at once, at most (default 2)"),
            .option(
                "for", "DURATION", \.duration, .duration,
                help: "stop starting syncs after this long (30s, 15m, 1h), let running ones finish, exit"),
            .option(
                "retries", "N", \.retries, .integer(0...100, unit: "retries"),
                help: "retries of a failed sync before its due time is given up (default 3)"),
            .option(
                "retry-delay", "DURATION", \.retryDelay, .duration,
                help: "wait before the first retry; doubles each time, at most the interval (default 30s)"),
            .flag("json", \.json, help: "print one JSON object per event instead of text"),
        ]
    }
}

/// Prints the scheduler's events, one line each, on stdout.
final class ScheduleEventPrinter: ScheduleConsole {
    let json: Bool

    init(json: Bool) { self.json = json }

    func event(_ event: ScheduleEvent, at time: Int64) {
        // Straight to the descriptor, unbuffered: each event shows at once, also in a pipe or log file.
        let line = (json ? Self.json(event, at: time) : Self.text(event, at: time)) + "\n"
        try? LineWriter(fileDescriptor: 1).write(Array(line.utf8))
    }

    static func text(_ event: ScheduleEvent, at time: Int64) -> String {
        let stamp = RegistryTime.text(time)
        switch event {
        case .started(let maxParallel, let until):
            return "\(stamp) schedule started: at most \(maxParallel) syncs at once"
                + (until.map { ", until \(RegistryTime.text($0))" } ?? "")
        case .syncStarted(let connection, let scheduledFor, let attempt, let pid):
            return
                "\(stamp) \(connection): sync started (due \(RegistryTime.text(scheduledFor))\(attempt > 1 ? ", attempt \(attempt)" : ""), pid \(pid))"
        case .syncFinished(let connection, let status, _, let attempt, let error, let next, let retry, let missed):
            var line = "\(stamp) \(connection): \(status)"
            if attempt > 1 { line += " (attempt \(attempt))" }
            if let error, status != "succeeded" { line += ": " + (error.split(separator: "\n").first.map(String.init) ?? error) }
            if let next { line += retry ? "; retry at \(RegistryTime.text(next))" : "; next sync \(RegistryTime.text(next))" }
            if missed > 0 { line += " (\(missed) due time\(missed == 1 ? "" : "s") skipped)" }
            return line
        case .busy(let connection, let message):
            return "\(stamp) \(connection): busy, another process is syncing it; trying again shortly"
                + (message.isEmpty ? "" : " (\(message))")
        case .stopped(let reason):
            return "\(stamp) schedule stopped (\(reason))"
        }
    }

    static func json(_ event: ScheduleEvent, at time: Int64) -> String {
        var object: JSONObject = ["time": .string(RegistryTime.text(time))]
        switch event {
        case .started(let maxParallel, let until):
            object["event"] = "started"
            object["max_parallel"] = .number(JSONNumber(maxParallel))
            object["until"] = until.map { .string(RegistryTime.text($0)) } ?? .null
        case .syncStarted(let connection, let scheduledFor, let attempt, let pid):
            object["event"] = "sync_started"
            object["connection"] = .string(connection)
            object["scheduled_for"] = .string(RegistryTime.text(scheduledFor))
            object["attempt"] = .number(JSONNumber(attempt))
            object["pid"] = .number(JSONNumber(Int(pid)))
        case .syncFinished(let connection, let status, let scheduledFor, let attempt, let error, let next, let retry, let missed):
            object["event"] = "sync_finished"
            object["connection"] = .string(connection)
            object["status"] = .string(status)
            object["scheduled_for"] = .string(RegistryTime.text(scheduledFor))
            object["attempt"] = .number(JSONNumber(attempt))
            object["error"] = error.map(JSONValue.string) ?? .null
            object["next_sync_at"] = next.map { .string(RegistryTime.text($0)) } ?? .null
            object["retry"] = .bool(retry)
            object["missed"] = .number(JSONNumber(missed))
        case .busy(let connection, let message):
            object["event"] = "busy"
            object["connection"] = .string(connection)
            object["message"] = .string(message)
        case .stopped(let reason):
            object["event"] = "stopped"
            object["reason"] = .string(reason)
        }
        return JSONWriter.string(.object(object))
    }
}

extension CommandLineInterface {
    static var scheduleCommand: Command<ScheduleCommandOptions> {
        Command(
            name: "schedule", summary: "Run every connection on its interval until stopped (or --once, or --for).",
            details: """
                Runs each connection created with --every when it is due, as its own sync (a child process
                `connector-host run --connection NAME`, whose output goes to the connection's
                last-sync.log), at most --max-parallel at once. Due times are a grid from the connection's
                creation, start to start; a sync that runs past later due times skips them (counted as
                missed). A failed sync is retried after --retry-delay, doubling, --retries times. Paused
                connections are skipped. Ctrl-C or SIGTERM cancels the running syncs (each rolls back to
                its last checkpoint) and exits; started again, the schedule carries on from the due times in
                the registry, and a sync that was cancelled runs again. One scheduler per registry; one
                sync per connection at a time, also against cron or `run --connection`.
                """
        ) { options in
            let executable = currentExecutable()
            var scheduleOptions = ScheduleOptions(executable: executable)
            scheduleOptions.maxParallel = options.maxParallel
            scheduleOptions.once = options.once
            scheduleOptions.duration = options.duration
            scheduleOptions.retries = options.retries
            scheduleOptions.retryDelay = options.retryDelay
            let stop = CancellationSignal()
            // Ctrl-C, SIGTERM (systemd, Kubernetes) and SIGHUP stop the schedule; its syncs are cancelled.
            let interrupt = InterruptHandler(cancelling: stop)
            return withExtendedLifetime(interrupt) {
                withRegistry { registry throws(RegistryError) in
                    let scheduler = Scheduler(
                        registry: registry, options: scheduleOptions, console: ScheduleEventPrinter(json: options.json))
                    let summary = try scheduler.run(stop: stop)
                    if let reason = stop.reason { return reason.exitCode }
                    return summary.reason == "once" && summary.failures > 0 ? 1 : 0
                }
            }
        }
    }

    /// The path of this executable, for the scheduler's child processes.
    static func currentExecutable() -> String {
        let resources = HostResources.current
        return resources.executable ?? resources.invokedPath ?? FilePaths.absolute(CommandLine.arguments[0])
    }
}
