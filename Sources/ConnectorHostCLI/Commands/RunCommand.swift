import ConnectorHost
import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `connector-host run DIR`: sync a connector into its local warehouse.
struct RunOptions: ParsableArguments {
    var directory: String?
    var connection: String?
    var connector = ConnectorOptions()
    var files = FileOptions()
    var destination = DestinationOptions()
    var idleTimeout: Double?
    var handshakeTimeout: Double?
    var grace: Double?
    var maximumLineBytes: Int?
    var passEnvironment: [String] = []
    var naming: NamingStrategy?
    var stringTypes: StringTyping?
    var logLevel = LogLevel.info
    var json = false
    var quiet = false
    var attach: AttachedConnector?
    var tables: [String]?
    var limit: Int?
    var record: String?

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "DIR", \.directory, noun: "the connector directory (or --connection NAME)", example: "connectors/hello",
                help: "the connector directory (a connector.json manifest or a connector.py; default: the current folder)"),
            .option(
                "connection", "NAME", \.connection, .text,
                help:
                    "sync a connection of the registry instead of DIR: its package's verified code, its configuration, warehouse and state"),
            .lifted(ConnectorOptions.configuration, into: \.connector),
            .lifted(FileOptions.warehouse, into: \.files),
            .lifted(FileOptions.state, into: \.files),
        ] + .group(\.destination) + [
            .lifted(ConnectorOptions.noBuild, into: \.connector),
            .option(
                "tables", "NAMES", \.tables, .tableNames,
                help:
                    "sync only these tables (comma-separated, as the schema declares them): only their operations are applied, the rest counted as skipped"
            ),
            .option(
                "limit", "N", \.limit, .integer(1...1_000_000_000, unit: "operations"),
                help:
                    "a sample sync: stop the connector after N operations and keep them (the state stays at the last checkpoint before; recorded as limited)"
            ),
            .option(
                "record", "FILE", \.record, .text,
                help:
                    "write the whole exchange (the host's requests, the connector's messages; secrets masked) to FILE, for `connector-host replay FILE`"
            ),
            .option(
                "idle-timeout", "SECONDS", \.idleTimeout, .seconds,
                help: "stop a connector silent for this long during update (default 600)"),
            .option("handshake-timeout", "SECONDS", \.handshakeTimeout, .seconds, help: "limit for initialize and schema (default 60)"),
            .option(
                "grace", "SECONDS", \.grace, .seconds, help: "wait between close of stdin, SIGTERM and SIGKILL when stopping (default 5)"),
            // At most 512 MiB: one value of a longer line could exceed SQLite's 1e9-byte limit on a value.
            .option(
                "max-line-bytes", "BYTES", \.maximumLineBytes, .integer(1024...(1 << 29), unit: "bytes"),
                help: "longest protocol line accepted (default 67108864)"),
            .option(
                "pass-env", "NAMES", \.passEnvironment, .commaSeparated,
                help: "comma-separated host variables to pass although they look secret (withheld by default)"),
            .option(
                "naming", "NAMING", \.naming, .choice("fivetran or source", NamingStrategy.init(argument:)),
                help:
                    "fivetran or source: names in a new warehouse, Fivetran's (createdAt -> created_at) or as sent (default fivetran for a connector.py, else source; a warehouse keeps its first)"
            ),
            .option(
                "string-types", "TYPING", \.stringTypes, .choice("fivetran or string", StringTyping.init(argument:)),
                help:
                    "fivetran or string: whether a string that reads as a number, boolean, date or timestamp types its undeclared column so, as fivetran debug does (default fivetran for a connector.py, else string; a warehouse keeps its first)"
            ),
            .option(
                "log-level", "LEVEL", \.logLevel, .choice("debug, info, warning or error", LogLevel.init(wireName:)),
                help: "least severe connector log shown: debug, info, warning, error (default info)"),
            .flag("json", \.json, help: "print the report as one JSON object instead of the table"),
            .flag("quiet", \.quiet, help: "show only errors while syncing"),
            .option(
                "attach", "FD_IN,FD_OUT", \.attach, .descriptorPair,
                help:
                    "serve a connector that is already running (connector.debug() of the Python SDK starts the host so): read its messages from descriptor FD_IN, write requests to FD_OUT; nothing is built or started"
            ),
        ]
    }

    func validate(command: String) throws(UsageError) {
        try destination.validate(command: command, files: files)
        if connection != nil {
            if let directory {
                throw UsageError("`\(command)` takes DIR or --connection NAME, not both (got \(directory) and --connection \(connection!))")
            }
            let misplaced = [
                connector.configuration.map { _ in "--configuration" }, files.warehouse.map { _ in "--warehouse" },
                files.state.map { _ in "--state" }, destination.destination.map { _ in "--destination" },
                destination.schema.map { _ in "--schema" }, connector.noBuild ? "--no-build" : nil, attach.map { _ in "--attach" },
            ].compactMap { $0 }
            if let first = misplaced.first {
                throw UsageError(
                    "\(first) does not go with --connection: a connection has its own configuration, warehouse and state, and its package is built once (connector-host connection show \(connection!))"
                )
            }
        }
    }

    /// The library's options for this command line.
    var syncOptions: SyncOptions {
        let directory = self.directory ?? "."
        let absolute = FilePaths.absolute(directory)
        var options = SyncOptions(
            directory: directory, configurationPath: connector.configuration, files: files.workspace(directory: absolute))
        options.build = !connector.noBuild
        tune(&options)
        options.attached = attach
        destination.apply(to: &options)
        // With PostgreSQL the database holds the state; --state asks for a file mirror as well.
        if files.state != nil { options.mirrorsState = true }
        return options
    }

    /// The timeouts and environment of this command line, for any sync.
    func tune(_ options: inout SyncOptions) {
        if let idleTimeout { options.idleTimeout = idleTimeout }
        if let handshakeTimeout { options.handshakeTimeout = handshakeTimeout }
        if let grace { options.gracePeriod = grace }
        if let maximumLineBytes { options.maximumLineLength = maximumLineBytes }
        options.passEnvironment = passEnvironment
        options.naming = naming
        options.tables = tables
        options.limit = limit
        options.recordPath = record
        options.stringTypes = stringTypes
    }
}

extension CommandLineInterface {
    static var runCommand: Command<RunOptions> {
        Command(
            name: "run", summary: "Sync a connector (or a connection of the registry) into its local warehouse.",
            details: """
                DIR holds a connector.json manifest (command to start, optional build step) or a connector.py
                (run with the Python SDK). The host builds the connector if the manifest says how, starts it,
                asks for its schema, runs update, and applies every operation to the warehouse. Each
                checkpoint commits the data and the state together; on any failure the warehouse stays at the
                last checkpoint. The start state is printed with where it came from: the last checkpoint
                (the warehouse holds it, and the state file mirrors it), or the state file when it differs
                from the host's own mirror: a state.json edited by hand, or a file given with --state, wins,
                as in fivetran debug (the file is updated at each checkpoint). A mirror left one
                checkpoint behind by a host killed between commit and rename is repaired.

                With --connection NAME instead of DIR, it syncs a connection of the local registry: the
                package's file is checked against its SHA-256 (a changed file is refused, nothing runs), the
                package is unpacked into a cache keyed by that hash and built once, and the sync uses the
                connection's configuration, warehouse and state. One connection never syncs twice at once:
                a second run while one is going exits 75 and does nothing, so cron, a Kubernetes CronJob or
                an Airflow task can call it on any schedule.
                """,
            synopsis: "[DIR] [options] | --connection NAME [options]"
        ) { options in
            let console = TerminalConsole(minimumLevel: options.logLevel, quiet: options.quiet)
            let cancellation = CancellationSignal()
            let interrupt = InterruptHandler(cancelling: cancellation)
            if let name = options.connection {
                return withExtendedLifetime(interrupt) { runConnection(name, options, console: console, cancellation: cancellation) }
            }
            let report = withExtendedLifetime(interrupt) {
                SyncRunner.run(options.syncOptions, console: console, cancellation: cancellation)
            }
            if let failure = report.failure, failure.isUsageError {
                // Nothing ran: the message alone, not a report of zeros, and exit 2.
                throw UsageError(failure.message)
            }
            show(report, json: options.json, console: console)
            return report.failure?.exitCode ?? 0
        }
    }

    /// Prints a sync's report (the table, or JSON) and then its failure. A connector that could not be
    /// prepared or started (a missing SDK, folder or configuration; a failed build) did nothing: the
    /// table then only repeats zeros, so the failure's one message stands alone.
    static func show(_ report: SyncReport, json: Bool, console: TerminalConsole) {
        let startedNothing = report.failure.map { $0.kind == .launch || $0.kind == .configuration } ?? false
        if json || !startedNothing {
            print(json ? SyncReportFormatter.json(report) : SyncReportFormatter.table(report))
        }
        if let failure = report.failure { console.write("error: \(failure.message)") }
    }
}

extension ValueParser where Value == [String] {
    /// One or more table names, comma-separated (`orders,items`).
    static var tableNames: ValueParser {
        ValueParser { text, name throws(UsageError) in
            let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !names.isEmpty else {
                throw UsageError("--\(name) takes one or more table names, comma-separated (e.g. --\(name) orders,items), not \"\(text)\"")
            }
            return names
        }
    }
}

extension ValueParser where Value == AttachedConnector {
    /// Two file descriptors, `IN,OUT` (e.g. `5,8`): whole numbers of at least 3 (0-2 are the host's own
    /// stdin, stdout and stderr), not the same.
    static var descriptorPair: ValueParser {
        ValueParser { text, name throws(UsageError) in
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2, let input = Int32(parts[0]), let output = Int32(parts[1]), input >= 3, output >= 3, input != output
            else {
                throw UsageError(
                    "--\(name) takes two different file descriptors of at least 3, FD_IN,FD_OUT (e.g. --\(name) 5,8), not \"\(text)\"")
            }
            return AttachedConnector(input: input, output: output)
        }
    }
}

extension CommandLineInterface {
    /// `run --connection NAME`: one sync of a registry connection.
    static func runConnection(_ name: String, _ options: RunOptions, console: TerminalConsole, cancellation: CancellationSignal) -> Int32 {
        let registry: ConnectorRegistry
        do { registry = try openRegistry() } catch {
            writeError("error: \(error.message)")
            return 1
        }
        var trigger = ConnectionTrigger.manual
        if let scheduled = ScheduledRun() {
            trigger = ConnectionTrigger(kind: "schedule", scheduledFor: scheduled.scheduledFor, attempt: scheduled.attempt)
            // Started by `schedule`: stdin is a pipe from it. EOF means the scheduler is gone (even
            // killed with SIGKILL): cancel, so the sync rolls back instead of running unwatched.
            Thread {
                var byte: UInt8 = 0
                while true {
                    let count = read(0, &byte, 1)
                    if count > 0 || (count < 0 && errno == EINTR) { continue }
                    cancellation.cancel(.terminate)
                    return
                }
            }.start()
        }
        let outcome = ConnectionRunner.run(
            name, registry: registry, trigger: trigger, console: console, cancellation: cancellation, tune: options.tune)
        if let report = outcome.report { show(report, json: options.json, console: console) }
        if let refusal = outcome.refusal { writeError("error: \(refusal.message)") }
        return outcome.exitCode
    }
}
