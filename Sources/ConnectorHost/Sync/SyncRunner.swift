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

    public init(directory: String, configurationPath: String? = nil, files: WorkspaceFiles? = nil) {
        self.directory = ConnectorLauncher.absolutePath(directory)
        self.configurationPath = configurationPath
        self.files = files ?? WorkspaceFiles(directory: self.directory)
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

/// The outcome of a sync.
public struct SyncReport: Sendable {
    public var connector: String
    public var counts: OperationCounts
    /// Wall seconds from spawning the connector to its end.
    public var duration: Double
    /// Protocol bytes read from the connector's stdout.
    public var bytesRead: Int
    /// The failure, or `nil` when the sync succeeded.
    public var failure: SyncFailure?
    /// The state stored at the last checkpoint (compact JSON).
    public var state: String?
    /// One line per schema change (table created, column added or typed, column widened), in order.
    public var schemaChanges: [String] = []
    public var files: WorkspaceFiles

    /// Row operations per second over the whole sync.
    public var rowsPerSecond: Double { duration > 0 ? Double(counts.rowOperations) / duration : 0 }
}

/// Runs one sync: launch, handshake, schema, update with checkpoints, shutdown.
///
/// Runs entirely on the calling thread, which it blocks (pipes and SQLite are blocking I/O); the
/// connector's stderr is read on a thread of its own.
public enum SyncRunner {
    /// The host's name and version, sent in `initialize`.
    public static let hostInfo: JSONValue = ["name": "connector-host", "version": "0.1.0"]

    /// Runs a sync and reports its outcome; never throws: every failure is in the report.
    public static func run(_ options: SyncOptions, console: any SyncConsole, cancellation: CancellationSignal = CancellationSignal())
        -> SyncReport
    {
        var report = SyncReport(
            connector: URL(fileURLWithPath: options.directory).lastPathComponent, counts: OperationCounts(), duration: 0,
            bytesRead: 0, failure: nil, state: nil, files: options.files)
        do throws(SyncFailure) {
            let plan: LaunchPlan
            do { plan = try ConnectorLauncher.plan(directory: options.directory) } catch {
                throw SyncFailure(.launch, error.message)
            }
            report.connector = plan.name
            let configuration = try loadConfiguration(options)
            try options.files.createDirectories()
            let lock = try WorkspaceLock(path: options.files.lock)
            defer { withExtendedLifetime(lock) {} }
            let warehouse: Warehouse
            do { warehouse = try Warehouse(path: options.files.warehouse) } catch {
                throw SyncFailure(.warehouse, "cannot open the warehouse \(options.files.warehouse): \(error)")
            }
            if options.build, plan.buildCommand != nil {
                console.note("building \(plan.name): \(plan.buildCommand!.joined(separator: " "))")
                do { try ConnectorLauncher.build(plan, log: { console.note("  " + $0) }) } catch {
                    throw SyncFailure(.launch, error.message)
                }
            }
            let session = SyncSession(
                plan: plan, options: options, configuration: configuration, warehouse: warehouse, console: console,
                cancellation: cancellation)
            defer {
                report.counts = warehouse.counts
                report.schemaChanges = warehouse.schemaChangeLog
                report.duration = session.elapsed
                report.bytesRead = session.bytesRead
                report.state = try? warehouse.storedState()
            }
            try session.run()
        } catch {
            report.failure = error
        }
        return report
    }

    static func loadConfiguration(_ options: SyncOptions) throws(SyncFailure) -> JSONObject {
        let path = options.configurationPath.map { ConnectorLauncher.absolutePath($0) } ?? options.directory + "/configuration.json"
        guard FileManager.default.fileExists(atPath: path) else {
            if options.configurationPath != nil {
                throw SyncFailure(.configuration, "the configuration file \(path) does not exist")
            }
            return [:]
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SyncFailure(.configuration, "cannot read the configuration file \(path)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(data)) } catch {
            throw SyncFailure(.configuration, "the configuration file \(path) is not valid JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw SyncFailure(.configuration, "the configuration file \(path) must hold a JSON object, not a \(value.kindName)")
        }
        return object
    }
}

/// One connector process and the conversation with it. Confined to the sync's thread.
final class SyncSession {
    let plan: LaunchPlan
    let options: SyncOptions
    let configuration: JSONObject
    let warehouse: Warehouse
    let console: any SyncConsole
    let cancellation: CancellationSignal
    let secrets: [String]
    private var process: ChildProcess?
    private var stderr: StderrCollector?
    private var reader: LineReader?
    private var writer: LineWriter?
    private var nextRequestID: Int64 = 1
    private var started = monotonicSeconds()
    private var ignoredNotifications: Set<String> = []
    private var syncID: Int64?

    init(
        plan: LaunchPlan, options: SyncOptions, configuration: JSONObject, warehouse: Warehouse, console: any SyncConsole,
        cancellation: CancellationSignal
    ) {
        self.plan = plan
        self.options = options
        self.configuration = configuration
        self.warehouse = warehouse
        self.console = console
        self.cancellation = cancellation
        secrets = Redaction.secretValues(in: configuration)
    }

    var elapsed: Double { monotonicSeconds() - started }
    var bytesRead: Int { reader?.bytesRead ?? 0 }

    func run() throws(SyncFailure) {
        do {
            try runSteps()
        } catch {
            if let syncID {
                warehouse.failSync(id: syncID, status: error.kind == .cancelled ? "cancelled" : "failed", error: error.message)
            }
            stopAfterFailure(error)
            throw withStderrTail(error)
        }
    }

    private func runSteps() throws(SyncFailure) {
        let initialState = try startingState()
        try launch()
        let initializeResult = try request(
            Method.initialize,
            [
                "protocolVersion": .number(JSONNumber(ProtocolVersion.current)), "host": SyncRunner.hostInfo,
                "configuration": .object(configuration),
            ],
            timeout: options.handshakeTimeout)
        try checkVersion(initializeResult)
        let schemaResult = try request(Method.schema, ["configuration": .object(configuration)], timeout: options.handshakeTimeout)
        // The sync is recorded from here on, so an invalid schema shows in the history too.
        do { syncID = try warehouse.beginSync(connector: plan.name) } catch {
            throw SyncFailure(.warehouse, "cannot prepare the warehouse \(options.files.warehouse): \(error)")
        }
        let tables: [TableDefinition]
        do { tables = try SchemaValidator.tables(from: schemaResult) } catch {
            throw SyncFailure(.invalidSchema, "\(error)\n  Fix schema() in the connector; nothing was written.")
        }
        do {
            try warehouse.apply(schema: tables)
        } catch let error as SchemaConflict {
            throw SyncFailure(.invalidSchema, "the schema does not fit the warehouse: \(error)", details: ["table": error.table])
        } catch {
            throw SyncFailure(.warehouse, "cannot prepare the warehouse \(options.files.warehouse): \(error)")
        }
        try runUpdate(state: initialState)
        guard let syncID else { return }
        do { try warehouse.finishSync(id: syncID) } catch {
            throw SyncFailure(.warehouse, "cannot commit the end of the sync: \(error)")
        }
        self.syncID = nil
        shutDown()
        for table in warehouse.undeclaredTablesCreated {
            console.note(
                "warning: table \"\(table)\" was not in the schema; it was created without a primary key, with inferred column types")
        }
    }

    /// The state to resume from: the warehouse's (authoritative), else a state file the user put in place.
    private func startingState() throws(SyncFailure) -> JSONValue {
        let stored: String?
        do { stored = try warehouse.storedState() } catch {
            throw SyncFailure(.warehouse, "cannot read the state from \(options.files.warehouse): \(error)")
        }
        if let stored {
            if options.files.readState()?.trimmingCharacters(in: .whitespacesAndNewlines) != stored {
                try? options.files.writeState(stored)  // Repair a mirror left behind by a crash between commit and rename.
            }
            return (try? JSONParser.parse(stored)) ?? [:]
        }
        guard let text = options.files.readState() else { return [:] }
        do { return try JSONParser.parse(text) } catch {
            throw SyncFailure(.configuration, "the state file \(options.files.state) is not valid JSON: \(error); fix or delete it")
        }
    }

    private func launch() throws(SyncFailure) {
        let child: ChildProcess
        do {
            child = try ChildProcess(
                arguments: plan.arguments, directory: plan.directory, environment: HostEnvironment.forChild(extra: plan.environment))
        } catch {
            throw SyncFailure(.launch, "\(error)")
        }
        started = monotonicSeconds()
        process = child
        let console = self.console
        let name = plan.name
        let secrets = self.secrets
        stderr = StderrCollector(fileDescriptor: child.errorOutput) { line in
            console.connectorLog(name, level: nil, Redaction.redact(line, secrets: secrets))
        }
        let lineReader = LineReader(fileDescriptor: child.output, maximumLineLength: options.maximumLineLength)
        lineReader.wakeDescriptor = cancellation.wakeDescriptor
        reader = lineReader
        writer = LineWriter(fileDescriptor: child.input)
    }

    private func checkVersion(_ result: JSONValue) throws(SyncFailure) {
        guard let version = result["protocolVersion"]?.int64Value else {
            throw SyncFailure(
                .protocolViolation, "the connector's initialize result has no integer protocolVersion; answer {\"protocolVersion\": 1, ...}"
            )
        }
        guard ProtocolVersion.supported.contains(Int(version)) else {
            throw SyncFailure(
                .protocolViolation,
                "the connector speaks protocol version \(version), this host speaks \(ProtocolVersion.supported.sorted().map(String.init).joined(separator: ", ")); update the connector's SDK or the host"
            )
        }
    }

    // MARK: Messages

    private func send(_ message: Message) throws(SyncFailure) {
        guard let writer else { return }
        do { try writer.send(message) } catch {
            throw SyncFailure(.connectorExited, "the connector closed its stdin (it probably exited)")
        }
    }

    /// Sends a request and reads until its answer, handling logs on the way.
    private func request(_ method: String, _ params: JSONValue, timeout: Double) throws(SyncFailure) -> JSONValue {
        let id = RequestID.number(nextRequestID)
        nextRequestID += 1
        try send(.request(id: id, method: method, params: params))
        while true {
            guard let message = try readControlMessage(timeout: timeout, waitingFor: method) else { continue }
            switch message {
            case .response(let answerID, let result) where answerID == id: return result
            case .errorResponse(let answerID, let error) where answerID == id || answerID == nil:
                throw connectorError(method: method, error)
            default:
                try handleUnsolicited(message, during: method)
            }
        }
    }

    /// Reads one line and classifies it; `nil` when the line was a records batch (already applied).
    private func readControlMessage(timeout: Double, waitingFor method: String, decoder: RecordDecoder? = nil) throws(SyncFailure)
        -> Message?
    {
        guard let reader else { throw SyncFailure(.launch, "the connector is not running") }
        let line: UnsafeBufferPointer<UInt8>?
        do throws(LineReadError) {
            line = try reader.nextLine(timeout: timeout)
        } catch {
            throw lineFailure(error, waitingFor: method, timeout: timeout)
        }
        guard let line else { throw exitedFailure(waitingFor: method) }
        if let decoder {
            do {
                if try decoder.applyIfRecords(line, lineNumber: reader.lineNumber) == .records { return nil }
            } catch let error as InvalidOperation {
                throw error.failure(redacting: secrets)
            } catch let error as JSONSyntaxError {
                throw notJSONFailure(line, reader.lineNumber, error)
            } catch let error as SQLiteError {
                throw SyncFailure(.warehouse, "the warehouse failed at stdout line \(reader.lineNumber): \(error)")
            } catch {
                throw SyncFailure(.warehouse, "the warehouse failed at stdout line \(reader.lineNumber): \(error)")
            }
        }
        let json: JSONValue
        do { json = try JSONParser.parse(line, maximumDepth: 64) } catch { throw notJSONFailure(line, reader.lineNumber, error) }
        do { return try Message(json: json) } catch {
            throw SyncFailure(
                .protocolViolation,
                "stdout line \(reader.lineNumber) is not a JSON-RPC 2.0 message: \(error.reason): \(Self.preview(line))",
                details: ["line": String(reader.lineNumber)])
        }
    }

    private func handleUnsolicited(_ message: Message, during method: String) throws(SyncFailure) {
        switch message {
        case .notification(Method.log, let params):
            let level = params["level"]?.stringValue.flatMap(LogLevel.init(wireName:)) ?? .info
            let text = params["message"]?.stringValue ?? JSONWriter.string(params["message"] ?? .null)
            console.connectorLog(plan.name, level: level, Redaction.redact(text, secrets: secrets))
        case .notification(Method.records, _):
            throw SyncFailure(.protocolViolation, "the connector sent records during \(method); records belong inside update")
        case .notification(let name, _):
            if ignoredNotifications.insert(name).inserted { console.note("ignoring unknown notification \"\(name)\" from the connector") }
        case .request(let id, Method.checkpoint, _):
            throw SyncFailure(
                .protocolViolation, "the connector sent a checkpoint (id \(id)) during \(method); checkpoints belong inside update")
        case .request(let id, let name, _):
            try send(.errorResponse(id: id, error: RPCError(.methodNotFound, "the host has no method \"\(name)\"")))
        case .response(let id, _), .errorResponse(let id?, _):
            throw SyncFailure(
                .protocolViolation,
                "the connector answered request id \(id), which the host never sent (or already got an answer for); answer each request once, with its own id"
            )
        case .errorResponse(nil, let error):
            throw connectorError(method: method, error)
        }
    }

    // MARK: Update

    private func runUpdate(state: JSONValue) throws(SyncFailure) {
        let id = RequestID.number(nextRequestID)
        nextRequestID += 1
        try send(.request(id: id, method: Method.update, params: ["configuration": .object(configuration), "state": state]))
        let decoder = RecordDecoder(warehouse: warehouse)
        var nextProgress = monotonicSeconds() + 1
        warehouse.setSyncedTime(TemporalValues.nowUTC())
        while true {
            let message = try readControlMessage(timeout: options.idleTimeout, waitingFor: Method.update, decoder: decoder)
            let now = monotonicSeconds()
            if now >= nextProgress {
                nextProgress = now + 1
                warehouse.setSyncedTime(TemporalValues.nowUTC())
                console.progress(warehouse.counts, elapsed: elapsed)
            }
            guard let message else { continue }
            switch message {
            case .response(let answerID, _) where answerID == id:
                return
            case .errorResponse(let answerID, let error) where answerID == id || answerID == nil:
                throw connectorError(method: Method.update, error)
            case .request(let checkpointID, Method.checkpoint, let params):
                try checkpoint(id: checkpointID, params: params)
                decoder.resetCaches()
            default:
                try handleUnsolicited(message, during: Method.update)
            }
        }
    }

    private func checkpoint(id: RequestID, params: JSONValue) throws(SyncFailure) {
        guard let state = params["state"] else {
            try? send(.errorResponse(id: id, error: RPCError(.invalidParams, "checkpoint needs params.state")))
            throw SyncFailure(.protocolViolation, "checkpoint request \(id) has no params.state; send {\"state\": {...}}")
        }
        let text = JSONWriter.string(state)
        do { try warehouse.checkpoint(state: text) } catch {
            throw SyncFailure(.warehouse, "checkpoint \(id) could not be committed: \(error)")
        }
        try options.files.writeState(text)
        try send(.response(id: id, result: [:]))
    }

    // MARK: Endings

    private func shutDown() {
        guard let process else { return }
        _ = try? request(Method.shutdown, [:], timeout: options.gracePeriod)
        process.closeInput()
        if process.wait(timeout: options.gracePeriod) == nil {
            console.note("warning: the connector did not exit within \(options.gracePeriod)s of shutdown; stopping it")
            process.terminate(grace: options.gracePeriod)
        }
        stderr?.waitUntilFinished(timeout: 1)
    }

    private func stopAfterFailure(_ failure: SyncFailure) {
        guard let process else { return }
        if process.wait(timeout: 0) == nil {
            let reason = failure.kind == .cancelled ? "cancelled by the user" : "the host stopped the sync"
            try? writer?.send(.notification(method: Method.cancel, params: ["reason": .string(reason)]))
            process.terminate(grace: options.gracePeriod)
        }
        stderr?.waitUntilFinished(timeout: 1)
    }

    /// Adds the connector's last stderr lines to failures where they explain what happened.
    private func withStderrTail(_ failure: SyncFailure) -> SyncFailure {
        guard [.connectorExited, .connectorError, .timeout, .protocolViolation].contains(failure.kind),
            let lines = stderr?.lastLines, !lines.isEmpty
        else { return failure }
        let tail = lines.suffix(10).map { "    " + Redaction.redact($0, secrets: secrets) }.joined(separator: "\n")
        return SyncFailure(failure.kind, failure.message + "\n  last lines of the connector's stderr:\n" + tail, details: failure.details)
    }

    private func exitedFailure(waitingFor method: String) -> SyncFailure {
        let status = process?.wait(timeout: options.gracePeriod)
        let how = status.map { "\($0)" } ?? "closed its stdout"
        return SyncFailure(
            .connectorExited,
            "the connector \(how) before answering \(method); the warehouse is back at the last checkpoint. Check its stderr below; a connector must answer every request and exit only on stdin EOF"
        )
    }

    private func lineFailure(_ error: LineReadError, waitingFor method: String, timeout: Double) -> SyncFailure {
        switch error {
        case .timedOut:
            return SyncFailure(
                .timeout,
                "the connector sent nothing for \(Self.seconds(timeout)) while the host waited for \(method); it was stopped. If the source is just slow, raise --idle-timeout (or --handshake-timeout), or send log messages to show progress"
            )
        case .interrupted:
            return SyncFailure(
                .cancelled, "cancelled (Ctrl-C): the connector was asked to stop and everything after the last checkpoint was rolled back")
        case .lineTooLong(let line, let limit):
            return SyncFailure(
                .protocolViolation,
                "stdout line \(line) is longer than \(limit) bytes; send records in batches of at most ~1 MiB (the SDKs do), or raise --max-line-bytes",
                details: ["line": String(line)])
        case .partialLineAtEOF(let line, let prefix):
            let status = process?.wait(timeout: options.gracePeriod).map { " (the connector \($0))" } ?? ""
            return SyncFailure(
                .connectorExited,
                "stdout ended in the middle of line \(line)\(status): \(Self.preview(prefix)); the connector stopped while writing a message",
                details: ["line": String(line)])
        case .system(let operation, let code):
            return SyncFailure(.connectorExited, "reading the connector's stdout failed (\(operation): \(String(cString: strerror(code))))")
        }
    }

    private func notJSONFailure(_ line: UnsafeBufferPointer<UInt8>, _ number: Int, _ error: JSONSyntaxError) -> SyncFailure {
        SyncFailure(
            .protocolViolation,
            "stdout line \(number) is not valid JSON (\(error)): \(Self.preview(line))\n  stdout carries protocol messages only; write logs and prints to stderr (the SDKs do this for you)",
            details: ["line": String(number)])
    }

    private func connectorError(method: String, _ error: RPCError) -> SyncFailure {
        let message = Redaction.redact(error.message, secrets: secrets)
        let kind: SyncFailure.Kind = error.code == .cancelled ? .connectorError : .connectorError
        return SyncFailure(
            kind, "the connector failed in \(method): \(message) [error \(error.code)]", details: ["code": String(error.code.rawValue)])
    }

    static func preview(_ bytes: UnsafeBufferPointer<UInt8>) -> String { preview(Array(bytes.prefix(100)), total: bytes.count) }

    static func preview(_ bytes: [UInt8], total: Int? = nil) -> String {
        let shown = bytes.prefix(100).map { byte -> String in
            if byte >= 0x20 && byte < 0x7F { return String(UnicodeScalar(byte)) }
            return "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }.joined()
        return "\"\(shown)\"" + ((total ?? bytes.count) > 100 ? "… (\(total ?? bytes.count) bytes)" : "")
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
