import ConnectorProtocol
import Foundation

/// What a sync needs to know.
public struct SyncOptions: Sendable {
    /// The connector directory.
    public var directory: String
    /// The configuration file; default `DIR/configuration.json` when it exists.
    public var configurationPath: String?
    /// The warehouse and state files.
    public var files: WorkspaceFiles
    /// Whether to run the connector's build step first.
    public var build = true
    /// Seconds without any message from the connector before the sync is stopped.
    public var idleTimeout: Double = 600
    /// Seconds allowed for `initialize` and `schema` each.
    public var handshakeTimeout: Double = 60
    /// Seconds between closing stdin, SIGTERM and SIGKILL when stopping a connector.
    public var gracePeriod: Double = 5
    /// The longest protocol line accepted.
    public var maximumLineLength = 64 << 20
    /// A PostgreSQL destination instead of the SQLite warehouse of ``files`` (`--destination`); else
    /// the manifest's `"destination"`, if any.
    public var postgres: PostgresTarget?
    /// The PostgreSQL schema (`--schema`), also for a destination from the manifest.
    public var schema: String?
    /// Whether the state is mirrored to ``files``' state file at each checkpoint; `nil`: for SQLite
    /// yes, for PostgreSQL no (the database holds the state for every machine; `--state` asks for a mirror).
    public var mirrorsState: Bool?
    /// Host environment variables to pass to the connector although they look secret (`--pass-env`).
    public var passEnvironment: [String] = []
    /// The naming asked for with `--naming`; `nil` for the default (Fivetran's for a `connector.py`,
    /// names as sent otherwise). Only a warehouse's first sync can choose it (PROTOCOL.md 6.9).
    public var naming: NamingStrategy?
    /// The string typing asked for with `--string-types`; `nil` for the default (Fivetran's for a
    /// `connector.py`, every string STRING otherwise). Only a warehouse's first sync chooses it (6.6).
    public var stringTypes: StringTyping?
    /// A connector that is already running and speaks the protocol over these descriptors
    /// (`run --attach`, from the Python SDK's `connector.debug()`), instead of one the host starts.
    public var attached: AttachedConnector?
    /// The connection and package a `run --connection` sync runs, recorded in the warehouse's history;
    /// the connection's name is then the name shown in logs and the report.
    public var provenance: SyncProvenance?
    /// The tables to sync (`run --tables`), by their declared or warehouse names; `nil` for every
    /// table. Only their operations are applied; a connector that declares `selectTables` is told
    /// in `update`, and one that does not keeps the stored state where it was (PROTOCOL.md 7.6).
    public var tables: [String]?
    /// Stop after this many operations (`run --limit`): a sample sync. What was applied is
    /// committed with the last acknowledged checkpoint's state; the sync is recorded as `limited`.
    public var limit: Int?
    /// End the sync like `--limit` right after its first acknowledged checkpoint (the resumption
    /// check of `conformance --resumption`).
    public var stopsAfterCheckpoint = false
    /// Write the whole exchange to this file (`run --record FILE`), secrets masked, for `replay`.
    public var recordPath: String?
    /// Whether the connector is a Fivetran one (Fivetran's system columns), when the caller knows
    /// better than the folder (`replay`, whose recording says); `nil` to decide from the folder.
    public var fivetranConnector: Bool?
    /// The connector's name in logs and the report, instead of the folder's (`replay`).
    public var connectorName: String?

    public init(directory: String, configurationPath: String? = nil, files: WorkspaceFiles? = nil) {
        self.directory = FilePaths.absolute(directory)
        self.configurationPath = configurationPath
        self.files = files ?? WorkspaceFiles(directory: self.directory)
    }

    /// The options as a sync uses them, whatever a library caller set: durations that are NaN,
    /// negative, infinite or beyond a year bounded (``HumanText/boundedSeconds(_:fallback:)``), the
    /// line limit between 1 KiB and 1 GiB (SQLite stores at most 1 GB in one value).
    var bounded: SyncOptions {
        var options = self
        options.idleTimeout = HumanText.boundedSeconds(idleTimeout, fallback: 600)
        options.handshakeTimeout = HumanText.boundedSeconds(handshakeTimeout, fallback: 60)
        options.gracePeriod = HumanText.boundedSeconds(gracePeriod, fallback: 5)
        options.maximumLineLength = min(max(maximumLineLength, 1024), 1 << 30)
        return options
    }
}

/// The descriptors of an attached connector (`run --attach FD_IN,FD_OUT`), inherited from the process
/// that started the host: the host reads the connector's messages from `input` and writes its requests
/// to `output`. The host closes `output` when the session ends, which the connector reads as EOF.
public struct AttachedConnector: Sendable, Equatable {
    public var input: Int32
    public var output: Int32

    public init(input: Int32, output: Int32) {
        self.input = input
        self.output = output
    }

    /// Checks that both descriptors are open pipes (or sockets), and that `input` can be read and
    /// `output` written.
    /// - Throws: ``LaunchError`` naming the descriptor.
    public func validate() throws(LaunchError) {
        for (fd, wanted, what) in [(input, O_RDONLY, "read the connector's messages from"), (output, O_WRONLY, "write requests to")] {
            let flags = fcntl(fd, F_GETFL)
            guard flags >= 0 else {
                throw LaunchError(
                    "--attach: descriptor \(fd) is not open; it is the pipe to \(what), which the process that starts `connector-host run --attach` (the Python SDK's connector.debug()) must pass"
                )
            }
            let mode = flags & O_ACCMODE
            guard mode == wanted || mode == O_RDWR else {
                throw LaunchError(
                    "--attach: descriptor \(fd) is not open for \(wanted == O_RDONLY ? "reading" : "writing"); the host must \(what) it")
            }
            // Only a pipe or a socket: a descriptor of a file (the warehouse itself, say) would have
            // the host read it as messages, or write its requests over the file's bytes.
            var info = stat()
            let type = fstat(fd, &info) == 0 ? info.st_mode & S_IFMT : 0
            guard type == S_IFIFO || type == S_IFSOCK else {
                let kind =
                    switch type {
                    case S_IFREG: "a regular file"
                    case S_IFCHR: "a character device (a terminal, or /dev/null)"
                    case S_IFDIR: "a directory"
                    case S_IFBLK: "a block device"
                    default: "not a pipe"
                    }
                throw LaunchError(
                    "--attach: descriptor \(fd) is \(kind), not a pipe or a socket; it must be the pipe to \(what), which the process that starts `connector-host run --attach` (the Python SDK's connector.debug()) passes"
                )
            }
        }
    }
}

/// Which connection and package a sync runs (`run --connection`), for the warehouse's history.
public struct SyncProvenance: Sendable, Equatable {
    public var packageID: String
    /// SHA-256 of the package file the code was unpacked from.
    public var packageSHA256: String
    public var connection: String

    public init(packageID: String, packageSHA256: String, connection: String) {
        self.packageID = packageID
        self.packageSHA256 = packageSHA256
        self.connection = connection
    }
}

/// Where a sync reports what happens while it runs.
public protocol SyncConsole: Sendable {
    /// A line the connector wrote to stderr (`level` nil) or sent as a `log` message.
    func connectorLog(_ connector: String, level: LogLevel?, _ message: String)
    /// A note from the host (build output, warnings).
    func note(_ message: String)
    /// Called about once a second while records flow.
    func progress(_ counts: OperationCounts, elapsed: Double)
}

/// The console a sync writes to, with the connector's text masked, cut and escaped on the way: the
/// one place every log line, stderr line and note passes, so none can show a secret (whole or in
/// part) or drive the terminal (forge an `error:` line, move the cursor, change colours).
struct MaskingConsole: SyncConsole {
    let base: any SyncConsole
    let secretMask: SecretMask
    var redactor: Redactor { secretMask.redactor }

    /// The longest line passed on, in characters (a longer one is cut, after masking): 1 MiB, and
    /// room for the note of a stderr line the collector cut at 1 MiB already.
    static let lineLimit = (1 << 20) + 200

    func connectorLog(_ connector: String, level: LogLevel?, _ message: String) {
        base.connectorLog(redactor.show(connector, limit: 200), level: level, redactor.show(message, limit: Self.lineLimit))
    }

    func note(_ message: String) { base.note(redactor.show(message, limit: Self.lineLimit)) }

    func progress(_ counts: OperationCounts, elapsed: Double) { base.progress(counts, elapsed: elapsed) }
}

/// The outcome of a sync.
public struct SyncReport: Sendable {
    public var connector: String
    public var counts: OperationCounts
    /// Wall seconds from spawning the connector to its end.
    public var duration: Double
    /// Protocol bytes read from the connector's stdout.
    public var bytesRead: Int
    /// What the sync committed: ``counts`` as of its last checkpoint or its successful end. For a
    /// failed sync, ``counts`` is what was received and applied before the failure (rolled back
    /// after the last checkpoint); this is what stays in the warehouse.
    public var committedCounts = OperationCounts()
    /// The failure, or `nil` when the sync succeeded.
    public var failure: SyncFailure?
    /// The state stored at the last checkpoint (compact JSON).
    public var state: String?
    /// One line per schema change (table created, column added or typed, column widened), in order.
    public var schemaChanges: [String] = []
    public var files: WorkspaceFiles
    /// The tables selected with `run --tables` (as declared), `nil` when every table was synced.
    public var selectedTables: [String]?
    /// Operations on tables not selected, not applied, by table.
    public var skippedOperations: [String: Int] = [:]
    /// Whether the checkpoints kept the stored state where it was: tables were selected and the
    /// connector cannot select them, so its state also covers rows the host skipped.
    public var stateHeld = false
    /// The `--limit` the sync stopped at, `nil` when it was not stopped by one.
    public var limitedAt: Int?
    /// The PostgreSQL destination (schema and URI without password), or `nil` for the SQLite warehouse of ``files``.
    public var destination: String?
    /// Whether the state was mirrored to ``files``' state file.
    public var mirroredState = true

    /// Row operations per second over the whole sync.
    public var rowsPerSecond: Double { duration > 0 ? Double(counts.rowOperations) / duration : 0 }
}

/// Runs one sync: launch, handshake, schema, update with checkpoints, shutdown.
///
/// Runs entirely on the calling thread, which it blocks (pipes and SQLite are blocking I/O); the
/// connector's stderr is read on a thread of its own.
public enum SyncRunner {
    /// The host's name and version, sent in `initialize`.
    public static let host = PeerInfo(name: "connector-host", version: "0.1.0")
    /// ``host`` as JSON.
    public static var hostInfo: JSONValue { host.json }

    /// Runs a sync and reports its outcome; never throws: every failure is in the report.
    public static func run(_ options: SyncOptions, console: any SyncConsole, cancellation: CancellationSignal = CancellationSignal())
        -> SyncReport
    {
        let options = options.bounded
        // A write to a connector that died fails with EPIPE without any SIGPIPE reaching the process
        // (LineWriter blocks it while writing): this library changes no signal disposition.
        var report = SyncReport(
            connector: URL(fileURLWithPath: options.directory).lastPathComponent, counts: OperationCounts(), duration: 0,
            bytesRead: 0, failure: nil, state: nil, files: options.files)
        // Masks the configuration's secrets in everything the sync shows or reports, once it is read
        // (and the connector's `secretKeys`, once it has answered initialize).
        let secretMask = SecretMask()
        do throws(SyncFailure) {
            var plan: LaunchPlan
            do {
                plan =
                    try options.attached == nil
                    ? ConnectorLauncher.plan(directory: options.directory) : ConnectorLauncher.attachedPlan(directory: options.directory)
            } catch {
                throw SyncFailure(.launch, error.message, isUsageError: error.isUsageError)
            }
            plan.passEnvironment += options.passEnvironment
            if let provenance = options.provenance { plan.name = provenance.connection }
            if let name = options.connectorName { plan.name = name }
            report.connector = plan.name
            let configuration = try loadConfiguration(options)
            secretMask.use(configuration: configuration)
            let console = MaskingConsole(base: console, secretMask: secretMask)
            try options.files.checkOwnership(
                configuration: configurationFile(options),
                manifest: plan.kind == .manifest ? options.directory + "/" + ConnectorLauncher.manifestName : nil)
            var options = options
            options.postgres = try destination(options, plan)
            if options.mirrorsState == nil { options.mirrorsState = options.postgres == nil }
            report.mirroredState = options.mirrorsState == true
            if let target = options.postgres {
                // The destination's password is masked like the configuration's secrets.
                secretMask.add(secrets: target.address.secrets)
                report.destination = target.location(connector: plan.name)
                if options.mirrorsState == true { try options.files.createDirectories() }
                let destination = try PostgresDestination.open(target, connector: plan.name)
                destination.redactor = secretMask.redactor
                // Files (PROTOCOL.md 6.11) stay on this machine, where the SQLite warehouse would be.
                destination.attachFiles(FileStore(warehousePath: options.files.warehouse))
                try runSession(
                    destination, workspace: nil, plan: plan, options: options, configuration: configuration,
                    console: console, secretMask: secretMask, cancellation: cancellation, report: &report)
            } else {
                try options.files.createDirectories()
                let workspace = try WorkspaceHold(options.files)
                let warehouse: Warehouse
                do { warehouse = try Warehouse(path: options.files.warehouse) } catch {
                    throw SyncFailure(.warehouse, WarehouseProblem.message(error, path: options.files.warehouse, while: "opening it"))
                }
                warehouse.redactor = secretMask.redactor
                do { try warehouse.probeWriteAccess() } catch {
                    throw SyncFailure(.warehouse, WarehouseProblem.message(error, path: options.files.warehouse, while: "opening it"))
                }
                try runSession(
                    warehouse, workspace: workspace, plan: plan, options: options, configuration: configuration, console: console,
                    secretMask: secretMask, cancellation: cancellation, report: &report)
            }
        } catch {
            report.failure = withConfigurationHint(error, options).shown(by: secretMask.redactor)
        }
        return report
    }

    /// Where the configuration comes from, for the console: a connector that fails for want of a
    /// setting is easier to understand when the run said it had none.
    static func configurationNote(_ options: SyncOptions) -> String {
        if let path = configurationFile(options) { return "reading configuration from \(path)" }
        return
            "no configuration: \(options.directory)/configuration.json does not exist, so the connector gets an empty one ({}); create it, or pass --configuration FILE"
    }

    /// A failure of the connector itself, when it ran without a configuration file, with a hint that
    /// this may be why.
    static func withConfigurationHint(_ failure: SyncFailure, _ options: SyncOptions) -> SyncFailure {
        guard [.connectorError, .connectorExited, .configuration].contains(failure.kind), !failure.isUsageError,
            configurationFile(options) == nil, options.attached == nil
        else { return failure }
        return failure.replacingMessage(
            failure.message
                + "\n  hint: \(options.directory) has no configuration.json, so the connector got an empty configuration; if it needs settings (keys, URLs, ids), write them there as a JSON object, or pass --configuration FILE"
        )
    }

    /// The PostgreSQL destination of a command: `--destination`, else the manifest's; `nil` for the
    /// SQLite warehouse.
    package static func destination(_ options: SyncOptions, _ plan: LaunchPlan) throws(SyncFailure) -> PostgresTarget? {
        if let target = options.postgres { return target }
        guard let uri = plan.destination else {
            if options.schema != nil {
                throw SyncFailure(
                    .configuration,
                    "--schema names a PostgreSQL schema, but there is no PostgreSQL destination: add --destination postgresql://... (or \"destination\" to \(ConnectorLauncher.manifestName))"
                )
            }
            return nil
        }
        do { return PostgresTarget(address: try PostgresAddress(uri), schema: options.schema ?? plan.destinationSchema) } catch {
            throw SyncFailure(.configuration, "\(options.directory)/\(ConnectorLauncher.manifestName): \(error.message)")
        }
    }

    /// Builds the connector if its manifest says how, then runs the session against the opened destination.
    private static func runSession<Store: Destination>(
        _ warehouse: Store, workspace: WorkspaceHold?, plan: LaunchPlan, options: SyncOptions, configuration: JSONObject,
        console: any SyncConsole, secretMask: SecretMask, cancellation: CancellationSignal, report: inout SyncReport
    ) throws(SyncFailure) {
        // After the lock (the SQLite file's, or the PostgreSQL advisory lock): a refused run says nothing else.
        console.note(configurationNote(options))
        if options.build, plan.buildCommand != nil {
            // Shown only when the build did something: an up-to-date build prints nothing.
            let output = BuildOutput(console: console, plan: plan)
            do { try ConnectorLauncher.build(plan, cancellation: cancellation, waiting: output.waiting, log: output.line) } catch {
                if let reason = cancellation.reason {
                    throw SyncFailure(
                        .cancelled, "cancelled (\(reason.label)) during the build step; the connector did not run and nothing changed",
                        cancellation: reason)
                }
                throw SyncFailure(.launch, error.message)
            }
            output.finish(succeeded: true)
        }
        let session = SyncSession(
            plan: plan, options: options, configuration: configuration, warehouse: warehouse, workspace: workspace, console: console,
            cancellation: cancellation, secretMask: secretMask)
        if let path = options.recordPath {
            session.recorder = try TranscriptRecorder(path: FilePaths.absolute(path), secretMask: secretMask)
        }
        defer {
            // The secrets known at the end (the connector's secretKeys included).
            let redactor = secretMask.redactor
            report.counts = warehouse.counts
            report.committedCounts = warehouse.committedCounts
            // Names are the connector's text: a table named with a secret value is masked too.
            report.schemaChanges = warehouse.schemaChangeLog.map { redactor.show($0, limit: 2000) }
            // The changes a rollback undid are counted, not listed (DestinationCatalog).
            if warehouse.rolledBackSchemaChanges > 0 {
                report.schemaChanges.append(
                    "(\(SyncReportFormatter.group(warehouse.rolledBackSchemaChanges)) more after the last checkpoint, rolled back with it)")
            }
            report.duration = session.elapsed
            report.bytesRead = session.bytesRead
            report.state = (try? warehouse.storedState()).map { redactor.maskedJSON($0) }
            report.selectedTables = session.selection.map { $0.tables.map(\.shown) }
            report.skippedOperations = session.skippedOperations.reduce(into: [:]) { shown, skipped in
                shown[redactor.show(skipped.key, limit: 200), default: 0] += skipped.value
            }
            report.stateHeld = session.heldState != nil
            report.limitedAt = session.limited ? options.limit ?? session.warehouse.counts.rowOperations : nil
        }
        try session.run()
        if let problem = session.recorder?.failure { console.note("warning: " + problem) }
    }

    /// The configuration file a sync reads: `--configuration`, else `DIR/configuration.json` when it exists.
    static func configurationFile(_ options: SyncOptions) -> String? {
        if let explicit = options.configurationPath { return FilePaths.absolute(explicit) }
        let path = options.directory + "/configuration.json"
        return SafeFile.kind(of: path) == .missing ? nil : path
    }

    package static func loadConfiguration(_ options: SyncOptions) throws(SyncFailure) -> JSONObject {
        // Every problem here is the command line's (a wrong --configuration, a broken file): exit 2.
        guard let path = configurationFile(options) else { return [:] }
        let data: [UInt8]?
        do { data = try SafeFile.read(path, limit: SafeFile.configurationLimit) } catch {
            throw SyncFailure(
                .configuration, "the configuration file \(path) \(error.description); it must be a JSON file", isUsageError: true)
        }
        guard let data else {
            throw SyncFailure(
                .configuration, "the configuration file \(path) does not exist; check the path given to --configuration",
                isUsageError: true)
        }
        let value: JSONValue
        do { value = try JSONParser.parse(data) } catch {
            throw SyncFailure(
                .configuration, "the configuration file \(path) is not valid JSON: \(error); fix it, it must hold one JSON object",
                isUsageError: true)
        }
        guard let object = value.objectValue else {
            throw SyncFailure(
                .configuration,
                "the configuration file \(path) must hold a JSON object like {\"api_key\": \"...\"}, not a \(value.kindName)",
                isUsageError: true)
        }
        return object
    }
}
