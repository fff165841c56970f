import ConnectorHost
import ConnectorProtocol

/// `connector-host run DIR`: sync a connector into its local warehouse.
struct RunOptions: ParsableArguments {
    var directory = ""
    var connector = ConnectorOptions()
    var files = FileOptions()
    var idleTimeout: Double?
    var handshakeTimeout: Double?
    var grace: Double?
    var maximumLineBytes: Int?
    var passEnvironment: [String] = []
    var logLevel = LogLevel.info
    var json = false
    var quiet = false

    static var arguments: [Argument<Self>] {
        [
            .directory(\.directory),
            .lifted(ConnectorOptions.configuration, into: \.connector),
            .lifted(FileOptions.warehouse, into: \.files),
            .lifted(FileOptions.state, into: \.files),
            .lifted(ConnectorOptions.noBuild, into: \.connector),
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
                "log-level", "LEVEL", \.logLevel, .choice("debug, info, warning or error", LogLevel.init(wireName:)),
                help: "least severe connector log shown: debug, info, warning, error (default info)"),
            .flag("json", \.json, help: "print the report as one JSON object instead of the table"),
            .flag("quiet", \.quiet, help: "show only errors while syncing"),
        ]
    }

    /// The library's options for this command line.
    var syncOptions: SyncOptions {
        let absolute = FilePaths.absolute(directory)
        var options = SyncOptions(
            directory: directory, configurationPath: connector.configuration, files: files.workspace(directory: absolute))
        options.build = !connector.noBuild
        if let idleTimeout { options.idleTimeout = idleTimeout }
        if let handshakeTimeout { options.handshakeTimeout = handshakeTimeout }
        if let grace { options.gracePeriod = grace }
        if let maximumLineBytes { options.maximumLineLength = maximumLineBytes }
        options.passEnvironment = passEnvironment
        return options
    }
}

extension CommandLineInterface {
    static var runCommand: Command<RunOptions> {
        Command(
            name: "run", summary: "Sync a connector into its local warehouse.",
            details: """
                DIR holds a connector.json manifest (command to start, optional build step) or a connector.py
                (run with the Python SDK). The host builds the connector if the manifest says how, starts it,
                asks for its schema, runs update, and applies every operation to the warehouse. Each
                checkpoint commits the data and the state together; on any failure the warehouse stays at the
                last checkpoint. The state resumes from the warehouse (or from the state file, if the
                warehouse has none yet).
                """
        ) { options in
            let console = TerminalConsole(minimumLevel: options.logLevel, quiet: options.quiet)
            let cancellation = CancellationSignal()
            let interrupt = InterruptHandler { cancellation.cancel() }
            let report = withExtendedLifetime(interrupt) {
                SyncRunner.run(options.syncOptions, console: console, cancellation: cancellation)
            }
            print(options.json ? SyncReportFormatter.json(report) : SyncReportFormatter.table(report))
            if let failure = report.failure {
                console.write("error: \(failure.message)")
                return failure.exitCode
            }
            return 0
        }
    }
}
