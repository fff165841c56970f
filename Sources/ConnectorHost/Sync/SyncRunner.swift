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
    /// Host environment variables to pass to the connector although they look secret (`--pass-env`).
    public var passEnvironment: [String] = []

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
        // Writing to a connector that died raises SIGPIPE, whose default action would kill the host
        // (or the program embedding this library); ignored, the write fails with EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        var report = SyncReport(
            connector: URL(fileURLWithPath: options.directory).lastPathComponent, counts: OperationCounts(), duration: 0,
            bytesRead: 0, failure: nil, state: nil, files: options.files)
        do throws(SyncFailure) {
            var plan: LaunchPlan
            do { plan = try ConnectorLauncher.plan(directory: options.directory) } catch {
                throw SyncFailure(.launch, error.message)
            }
            plan.passEnvironment += options.passEnvironment
            report.connector = plan.name
            let configuration = try loadConfiguration(options)
            try options.files.createDirectories()
            let lock = try WorkspaceLock(path: options.files.lock)
            try options.files.createWarehouseFile()
            defer { withExtendedLifetime(lock) {} }
            let warehouse: Warehouse
            do { warehouse = try Warehouse(path: options.files.warehouse) } catch {
                throw SyncFailure(.warehouse, WarehouseProblem.message(error, path: options.files.warehouse, while: "opening it"))
            }
            do { try warehouse.probeWriteAccess() } catch {
                throw SyncFailure(.warehouse, WarehouseProblem.message(error, path: options.files.warehouse, while: "opening it"))
            }
            if options.build, plan.buildCommand != nil {
                console.note("building \(plan.name): \(plan.buildSummary ?? plan.buildCommand!.joined(separator: " "))")
                do { try ConnectorLauncher.build(plan, cancellation: cancellation, log: { console.note("  " + $0) }) } catch {
                    if cancellation.isCancelled {
                        throw SyncFailure(
                            .cancelled, "cancelled (Ctrl-C) during the build step; the connector did not run and nothing changed")
                    }
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
                report.state = (try? warehouse.storedState()).map { Redaction.redact($0, secrets: session.secrets) }
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
    /// The number of the stdout line being handled.
    private var lineNumber = 0
    private var writer: LineWriter?
    private var nextRequestID: Int64 = 1
    /// The method of every request sent, by id, to tell a second answer from an answer to an id never sent.
    private var sentRequests: [Int64: String] = [:]
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
            // Roll back first: by the time the connector hears `cancel`, nothing after the last checkpoint is kept.
            let failure = redacted(error)
            if let syncID {
                warehouse.failSync(id: syncID, status: failure.kind == .cancelled ? "cancelled" : "failed", error: failure.message)
            }
            let teardown = stopAfterFailure(failure)
            var message = withStderrTail(failure).message
            if let teardown { message += "\n  " + teardown }
            throw SyncFailure(failure.kind, message, details: failure.details)
        }
    }

    /// The failure with every secret value of the configuration masked.
    private func redacted(_ failure: SyncFailure) -> SyncFailure {
        SyncFailure(failure.kind, Redaction.redact(failure.message, secrets: secrets), details: failure.details)
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
        } catch let error as SQLiteError {
            throw warehouseFailure(error, while: "applying the schema")
        } catch {
            throw SyncFailure(.warehouse, "cannot prepare the warehouse \(options.files.warehouse): \(error)")
        }
        try runUpdate(state: initialState)
        guard let syncID else { return }
        do { try warehouse.finishSync(id: syncID) } catch {
            throw warehouseFailure(error, while: "committing the end of the sync")
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
            throw warehouseFailure(error, while: "reading the state")
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
        let console = self.console
        let name = plan.name
        let secrets = self.secrets
        let connection: ConnectorConnection
        do {
            connection = try ConnectorConnection(plan: plan, maximumLineLength: options.maximumLineLength) { line in
                console.connectorLog(name, level: nil, Redaction.redact(line, secrets: secrets))
            }
        } catch {
            throw SyncFailure(.launch, "\(error)")
        }
        started = monotonicSeconds()
        process = connection.process
        stderr = connection.stderr
        connection.reader.wakeDescriptor = cancellation.wakeDescriptor
        reader = connection.reader
        var lineWriter = connection.writer
        lineWriter.wakeDescriptor = cancellation.wakeDescriptor
        writer = lineWriter
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

    /// Sends one message.
    /// - Parameters:
    ///   - timeout: how long a connector that does not read its stdin may hold the host.
    ///   - purpose: what the connector was to read, for the message when it cannot (e.g. "its update request").
    ///   - consequence: a sentence to add when the connector is gone.
    private func send(_ message: Message, timeout: Double, _ purpose: @autoclosure () -> String, consequence: String = "")
        throws(SyncFailure)
    {
        guard var writer else { return }
        writer.timeout = timeout
        do { try writer.send(message) } catch {
            switch error.errno {
            case ECANCELED: throw Self.cancelledFailure
            case ETIMEDOUT:
                throw SyncFailure(
                    .timeout,
                    "the connector did not read its stdin for \(Self.seconds(timeout)) while the host was sending \(purpose()); it was stopped. A connector must keep reading stdin (a full pipe blocks the host)"
                )
            default:
                let status = process?.wait(timeout: options.gracePeriod)
                let how = status.map { "\($0)" } ?? "closed its stdin while still running"
                throw SyncFailure(.connectorExited, "the connector \(how) before it read \(purpose())" + consequence)
            }
        }
    }

    /// Sends a request and reads until its answer, handling logs on the way.
    /// - Parameter timeout: seconds for the whole exchange (sending included), however many logs arrive meanwhile.
    private func request(_ method: String, _ params: JSONValue, timeout: Double) throws(SyncFailure) -> JSONValue {
        let id = RequestID.number(nextRequestID)
        sentRequests[nextRequestID] = method
        nextRequestID += 1
        let deadline = monotonicSeconds() + timeout
        try send(.request(id: id, method: method, params: params), timeout: timeout, "its \(method) request")
        while true {
            let remaining = max(0, deadline - monotonicSeconds())
            guard let message = try readControlMessage(timeout: remaining, waitingFor: method) else { continue }
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
            throw lineFailure(error, waitingFor: method)
        }
        guard let line else { throw exitedFailure(waitingFor: method) }
        lineNumber = reader.lineNumber
        var decoderError: JSONSyntaxError?
        if let decoder {
            do {
                if try decoder.applyIfRecords(line, lineNumber: lineNumber) == .records { return nil }
            } catch {
                decoderError = try recordsFailure(error)
            }
        }
        return try controlMessage(line, decoderError: decoderError)
    }

    /// The failure for an error applying a records line; a syntax error is returned instead, for the
    /// control path to classify.
    private func recordsFailure(_ error: any Error) throws(SyncFailure) -> JSONSyntaxError {
        switch error {
        case let error as InvalidOperation: throw error.failure(redacting: secrets)
        // Classified by the tree parser: valid JSON that is not an object gets a better message than a
        // syntax error. (Any ops applied before the error are rolled back.)
        case let error as JSONSyntaxError: return error
        case let error as SQLiteError: throw warehouseFailure(error, while: "applying stdout line \(lineNumber)")
        default:
            throw SyncFailure(.warehouse, "the warehouse \(options.files.warehouse) failed at stdout line \(lineNumber): \(error)")
        }
    }

    /// A control message, from the tree parser; `decoderError` is the record scanner's view of the line.
    private func controlMessage(_ line: UnsafeBufferPointer<UInt8>, decoderError: JSONSyntaxError?) throws(SyncFailure) -> Message {
        let json: JSONValue
        do { json = try JSONParser.parse(line, maximumDepth: Self.maximumDepth) } catch {
            throw notJSONFailure(line, lineNumber, decoderError ?? error)
        }
        let message: Message
        do { message = try Message(json: json) } catch {
            throw SyncFailure.atLine(lineNumber, "is not a JSON-RPC 2.0 message: \(error.reason): \(Self.preview(line))")
        }
        if let decoderError {
            // Valid JSON-RPC that the record decoder still refused (a member twice in the params).
            throw SyncFailure.atLine(lineNumber, "is not a valid records message: \(decoderError): \(Self.preview(line))")
        }
        return message
    }

    /// A response whose id is not the pending request's: a second answer, or an id the host never used.
    private func strayResponse(_ id: RequestID) -> SyncFailure {
        let line = lineNumber
        if case .number(let number) = id, let method = sentRequests[number] {
            return SyncFailure.atLine(line, "answers the host's request \(id) (\(method)) a second time; answer each request exactly once")
        }
        return SyncFailure.atLine(
            line, "answers request id \(id), which the host never sent; a response must carry the id of the host's pending request")
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
            if ignoredNotifications.insert(name).inserted {
                console.note(Redaction.redact("ignoring unknown notification \"\(name)\" from the connector", secrets: secrets))
            }
        case .request(let id, Method.checkpoint, _):
            throw SyncFailure(
                .protocolViolation, "the connector sent a checkpoint (id \(id)) during \(method); checkpoints belong inside update")
        case .request(let id, let name, _):
            try send(
                .errorResponse(id: id, error: RPCError(.methodNotFound, "the host has no method \"\(name)\"")),
                timeout: options.idleTimeout,
                "the answer to its request \(id) (\(name))")
        case .response(let id, _), .errorResponse(let id?, _):
            throw strayResponse(id)
        case .errorResponse(nil, let error):
            throw connectorError(method: method, error)
        }
    }

    // MARK: Update

    private func runUpdate(state: JSONValue) throws(SyncFailure) {
        let id = RequestID.number(nextRequestID)
        sentRequests[nextRequestID] = Method.update
        nextRequestID += 1
        try send(
            .request(id: id, method: Method.update, params: ["configuration": .object(configuration), "state": state]),
            timeout: options.idleTimeout, "its update request")
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
                try checkpoint(id: checkpointID, params: params, line: lineNumber)
                decoder.resetCaches()
            default:
                try handleUnsolicited(message, during: Method.update)
            }
        }
    }

    /// Commits the data and `params.state` together, mirrors the state file, then answers.
    ///
    /// The state file's new content is written (and synced) before the commit, so a full disk fails
    /// the checkpoint before anything is committed; after the commit only a rename is left.
    private func checkpoint(id: RequestID, params: JSONValue, line: Int) throws(SyncFailure) {
        let label = "checkpoint \(id) (stdout line \(line))"
        guard let state = params["state"], state.objectValue != nil else {
            let problem = params["state"].map { "has a params.state that is a JSON \($0.kindName), not an object" } ?? "has no params.state"
            answerCheckpoint(id, RPCError(.invalidParams, "checkpoint \(problem)"))
            throw SyncFailure(
                .protocolViolation, "\(label) \(problem); send {\"state\": {...}} with the complete state as a JSON object",
                details: ["line": String(line)])
        }
        let text = JSONWriter.string(state)
        let prepared: PreparedState
        do { prepared = try options.files.prepareState(text) } catch {
            answerCheckpoint(id, RPCError(.internalError, "the host could not write its state file"))
            throw SyncFailure(
                .warehouse,
                "\(error.message); \(label) was not committed, so the warehouse and the state stay at the previous checkpoint. Free some disk space (or fix the folder's permissions) and run again"
            )
        }
        do { try warehouse.checkpoint(state: text) } catch {
            prepared.discard()
            answerCheckpoint(id, RPCError(.internalError, "the host could not commit the checkpoint"))
            throw warehouseFailure(error, while: "committing \(label)")
        }
        do { try options.files.commitState(prepared) } catch {
            throw SyncFailure(
                .warehouse,
                "\(error.message); \(label) is committed in the warehouse, which holds the state: the next run resumes from it and repairs \(options.files.state)"
            )
        }
        try send(
            .response(id: id, result: [:]), timeout: options.idleTimeout, "the answer to its \(label)",
            consequence: "; that checkpoint is committed, so the next run resumes from its state")
        do { try warehouse.beginTransaction() } catch {
            throw warehouseFailure(error, while: "starting the transaction after \(label)")
        }
    }

    /// Answers a checkpoint the host refuses, if the connector still listens (it is stopped right after).
    private func answerCheckpoint(_ id: RequestID, _ error: RPCError) {
        var writer = self.writer
        writer?.timeout = 0
        try? writer?.send(.errorResponse(id: id, error: error))
    }

    // MARK: Endings

    private func shutDown() {
        guard let process else { return }
        _ = try? request(Method.shutdown, [:], timeout: options.gracePeriod)
        process.closeInput()
        if process.wait(timeout: options.gracePeriod) == nil {
            console.note("warning: the connector did not exit within \(Self.seconds(options.gracePeriod)) of shutdown; stopping it")
            process.terminate(grace: options.gracePeriod)
        }
        stderr?.waitUntilFinished(timeout: 1)
    }

    /// Sends `cancel` (when the connector still runs), closes its stdin, then SIGTERM and SIGKILL as needed.
    /// - Returns: a sentence on the signals it took, or `nil` when the connector exited by itself.
    private func stopAfterFailure(_ failure: SyncFailure) -> String? {
        guard let process else { return nil }
        if process.wait(timeout: 0) == nil {
            let reason = failure.kind == .cancelled ? "cancelled by the user" : "the host stopped the sync"
            // Best effort and never blocking: a connector that does not read stdin just misses it.
            var writer = self.writer
            writer?.timeout = 0
            try? writer?.send(.notification(method: Method.cancel, params: ["reason": .string(reason)]))
            process.terminate(grace: options.gracePeriod)
        }
        stderr?.waitUntilFinished(timeout: 1)
        let grace = Self.seconds(options.gracePeriod)
        switch process.stoppedWith {
        case SIGTERM?: return "the connector did not exit within \(grace) of its stdin closing; the host stopped it with SIGTERM"
        case SIGKILL?:
            return
                "the connector did not exit within \(grace) of its stdin closing, nor \(grace) after SIGTERM; the host killed it with SIGKILL"
        default: return nil
        }
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
            "the connector \(how) before answering \(method); the warehouse is back at the last checkpoint. A connector must answer every request and exit only on stdin EOF"
        )
    }

    static let cancelledFailure = SyncFailure(
        .cancelled, "cancelled (Ctrl-C): the connector was asked to stop and everything after the last checkpoint was rolled back")

    private func lineFailure(_ error: LineReadError, waitingFor method: String) -> SyncFailure {
        switch error {
        case .timedOut where method == Method.update:
            return SyncFailure(
                .timeout,
                "the connector sent nothing for \(Self.seconds(options.idleTimeout)) during update; it was stopped. If the source is just slow, raise --idle-timeout, or send log messages to show progress (each message restarts the timer)"
            )
        case .timedOut:
            return SyncFailure(
                .timeout,
                "the connector did not answer \(method) within \(Self.seconds(options.handshakeTimeout)); it was stopped. If it needs longer to start, raise --handshake-timeout"
            )
        case .interrupted:
            return Self.cancelledFailure
        case .lineTooLong(let line, let limit):
            return SyncFailure.atLine(
                line, "is longer than \(limit) bytes; send records in batches of at most ~1 MiB (the SDKs do), or raise --max-line-bytes")
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
        if error.isNestingLimit {
            return SyncFailure.atLine(
                number,
                "nests arrays and objects deeper than the host's limit of \(Self.maximumDepth) levels (at byte \(error.offset + 1)): \(Self.preview(line))\n  flatten the value, or send a deep document as a JSON string"
            )
        }
        return SyncFailure.atLine(
            number,
            "is not valid JSON (\(error)): \(Self.preview(line))\n  stdout carries protocol messages only; write logs and prints to stderr (the SDKs do this for you)"
        )
    }

    /// The deepest nesting of a protocol line, counted from the envelope.
    static let maximumDepth = 64

    /// A warehouse failure as one message: what happened, to which file, while doing what, and the fix.
    private func warehouseFailure(_ error: SQLiteError, while action: String) -> SyncFailure {
        SyncFailure(.warehouse, WarehouseProblem.message(error, path: options.files.warehouse, while: action))
    }

    private func connectorError(method: String, _ error: RPCError) -> SyncFailure {
        let message = Redaction.redact(error.message, secrets: secrets)
        return SyncFailure(
            .connectorError, "the connector failed in \(method): \(message) [error \(error.code)]",
            details: ["code": String(error.code.rawValue)])
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
