import ConnectorProtocol
import Foundation

/// One connector process and the conversation with it, writing to a destination (SQLite or
/// PostgreSQL). Confined to the sync's thread.
final class SyncSession<Store: Destination> {
    let plan: LaunchPlan
    let options: SyncOptions
    let configuration: JSONObject
    let warehouse: Store
    /// The lock and the warehouse file this sync opened, checked before every commit (SQLite only:
    /// a PostgreSQL destination holds its lock in the database).
    let workspace: WorkspaceHold?
    let console: any SyncConsole
    let cancellation: CancellationSignal
    /// Masks the configuration's secrets (and those of the connector's `secretKeys`, once it has
    /// answered `initialize`) in everything the session shows or stores.
    let secretMask: SecretMask
    var redactor: Redactor { secretMask.redactor }
    var process: ChildProcess?
    var stderr: StderrCollector?
    var reader: LineReader?
    /// The number of the stdout line being handled.
    var lineNumber = 0
    var writer: LineWriter?
    var nextRequestID: Int64 = 1
    /// The method of every request sent, by id, to tell a second answer from an answer to an id never sent.
    var sentRequests: [Int64: String] = [:]
    var started = monotonicSeconds()
    var ignoredNotifications: Set<String> = []
    var syncID: Int64?
    /// The tables selected with `run --tables`, once matched against the schema.
    var selection: TableSelection?
    /// Whether the connector declared `selectTables` (it is then told the selection in `update`).
    var connectorSelectsTables = false
    /// The state every checkpoint stores instead of the connector's, when tables are selected and
    /// the connector cannot select them: its state would claim the skipped tables' rows.
    var heldState: String?
    /// Writes the whole exchange to a file (`run --record FILE`), `nil` when not recording.
    var recorder: TranscriptRecorder?
    /// Whether the connector declared `operationSites`: it can say where it made a refused op.
    var connectorKeepsOperationSites = false
    /// Whether `update` is pending (the one time the host may ask `operationSite`).
    var updatePending = false
    /// Whether the sync stopped at `--limit` (committed, recorded as `limited`).
    var limited = false
    /// The operations skipped so far (tables not selected), by table.
    var skippedOperations: [String: Int] = [:]

    init(
        plan: LaunchPlan, options: SyncOptions, configuration: JSONObject, warehouse: Store, workspace: WorkspaceHold?,
        console: any SyncConsole, cancellation: CancellationSignal, secretMask: SecretMask
    ) {
        self.workspace = workspace
        self.plan = plan
        self.options = options
        self.configuration = configuration
        self.warehouse = warehouse
        self.console = console
        self.cancellation = cancellation
        self.secretMask = secretMask
    }

    var elapsed: Double { monotonicSeconds() - started }
    var bytesRead: Int { reader?.bytesRead ?? 0 }

    func run() throws(SyncFailure) {
        do {
            try runSteps()
        } catch {
            startRecording()
            // Roll back first: by the time the connector hears `cancel`, nothing after the last checkpoint is kept.
            let failure = error.shown(by: redactor)
            if let syncID {
                warehouse.failSync(id: syncID, status: failure.kind == .cancelled ? "cancelled" : "failed", error: failure.message)
            }
            // Rolled back: a connector that keeps its call sites can now say where it made the refused op.
            let located = withOperationSite(failure)
            let teardown = stopAfterFailure(located)
            var message = withStderrTail(located).message
            if let teardown { message += "\n  " + teardown }
            throw located.replacingMessage(message)
        }
    }

    func runSteps() throws(SyncFailure) {
        let initialState = try startingState()
        try launch()
        let initializeResult = try request(
            InitializeRequest(host: SyncRunner.host, configuration: configuration), timeout: options.handshakeTimeout)
        let initialized = try checkVersion(initializeResult)
        connectorSelectsTables = initialized.declares(Capability.selectTables)
        connectorKeepsOperationSites = initialized.declares(Capability.operationSites)
        if let note = secretMask.accept(initializeResult: initializeResult) { console.note(note) }
        warehouse.redactor = redactor
        let schemaResult = try request(SchemaRequest(configuration: configuration), timeout: options.handshakeTimeout)
        // The sync is recorded from here on, so an invalid schema shows in the history too.
        do { syncID = try warehouse.beginSync(connector: plan.name, reported: initialized.connector, provenance: options.provenance) } catch
        {
            throw warehouseFailure(error, while: "recording the start of the sync")
        }
        warehouse.warningHandler = { [console] in console.note($0) }
        do {
            if let warning = try warehouse.settle(naming: options.naming, fivetranConnector: isFivetranConnector, strings: options.stringTypes) { console.note(warning) }
        } catch {
            throw warehouseFailure(error, while: "recording how the warehouse lands data")
        }
        startRecording()
        let tables: [TableDefinition]
        do { tables = try SchemaValidator.tables(from: schemaResult, naming: warehouse.settings.naming) } catch {
            throw SyncFailure(.invalidSchema, "\(error)\n  Fix schema() in the connector; nothing was written.")
        }
        do {
            try warehouse.apply(schema: tables)
        } catch let error as SchemaConflict {
            throw SyncFailure(.invalidSchema, "the schema does not fit the warehouse: \(error)", details: ["table": error.table])
        } catch let error as Store.Failure {
            throw warehouseFailure(error, while: "applying the schema")
        } catch {
            throw SyncFailure(.warehouse, "cannot prepare the warehouse \(warehouse.location): \(error)")
        }
        if let names = options.tables {
            let selection = try TableSelection.resolve(names, declared: tables, naming: warehouse.naming)
            self.selection = selection
            let shown = selection.tables.map(\.shown).joined(separator: ", ")
            if connectorSelectsTables {
                console.note("syncing only \(shown) (--tables); the connector selects them")
            } else {
                heldState = JSONWriter.string(initialState)
                console.note(
                    "syncing only \(shown) (--tables); the connector cannot select tables (no selectTables capability), so it sends every table: the host keeps only these and does not advance the stored state, which would claim the skipped tables' rows"
                )
            }
        }
        if let limit = options.limit {
            console.note(
                "a sample sync: the host stops the connector after \(SyncReportFormatter.group(limit)) operations (--limit \(limit)) and keeps them; the state stays at the last checkpoint before that"
            )
        }
        if try runUpdate(state: initialState) == .limited {
            try finishLimited()
            return
        }
        // What came after the last checkpoint is committed only once the connector said it is done
        // and sent nothing more (records after its answer to update are an error, not dropped).
        try shutDown()
        guard let syncID else { return }
        if let problem = workspace?.problem() {
            throw SyncFailure(.warehouse, "\(problem); the end of the sync was not committed to it. Run again")
        }
        do { try warehouse.finishSync(id: syncID, status: "succeeded") } catch {
            throw warehouseFailure(error, while: "committing the end of the sync")
        }
        self.syncID = nil
        endConnector()
        if let note = unshownWarningsNote { console.note(note) }
        for table in warehouse.undeclaredTablesCreated {
            // A table close to a declared one is most likely a typo in the connector's op.
            let suggestion = NameSuggestions.closest(to: table, among: tables.map(\.name))
            console.note(
                "warning: table \"\(table)\" was not in the schema; it was created without a primary key, with inferred column types"
                    + (suggestion.map { ". Did you mean \(HumanText.quoted($0)), which the schema declares?" } ?? ""))
        }
    }

    /// Writes the recording's header (`run --record`): the options a replay needs to land the data
    /// the same way (the tables, the limit, the warehouse's naming and system columns).
    func startRecording() {
        guard let recorder else { return }
        var recorded: JSONObject = [
            "naming": .string(warehouse.settings.naming.rawValue), "fivetran": .bool(warehouse.settings.systemColumns == .fivetran),
        ]
        if let tables = options.tables { recorded["tables"] = .array(tables.map(JSONValue.string)) }
        if let limit = options.limit { recorded["limit"] = .number(JSONNumber(limit)) }
        recorder.start(connector: plan.name, options: recorded)
    }

    /// Ends a sync that reached `--limit`: commits what was applied (the state stays the last
    /// acknowledged checkpoint's), records the sync as `limited`, then cancels and stops the
    /// connector. Whatever the connector does after the cancel (an error answer, an exit) is not a failure.
    func finishLimited() throws(SyncFailure) {
        guard let syncID else { return }
        if let problem = workspace?.problem() {
            throw SyncFailure(.warehouse, "\(problem); the operations received before --limit were not committed to it. Run again")
        }
        do { try warehouse.finishSync(id: syncID, status: "limited") } catch {
            throw warehouseFailure(error, while: "committing the operations received before --limit")
        }
        self.syncID = nil
        limited = true
        let limit = options.limit ?? 0
        let reason =
            options.stopsAfterCheckpoint
            ? "the host stops the sync after this checkpoint, to check that the connector resumes from it"
            : "the host has the \(limit) operations it asked for (--limit \(limit))"
        if let teardown = stopConnector(reason: reason) {
            console.note(teardown)
        }
    }

    /// The state to resume from, said on the console with where it came from (PROTOCOL.md 12.1).
    ///
    /// The warehouse's state row is the authority for what the host wrote: a state file that is the
    /// host's own mirror (the same content, or the very file of this or the previous checkpoint, as a
    /// host killed between commit and rename leaves it) is repaired from it. A state file with other
    /// content is the user's (edited by hand, or given with `--state`) and wins, as in `fivetran debug`.
    func startingState() throws(SyncFailure) -> JSONValue {
        let stored: StoredState?
        do { stored = try warehouse.storedStateRecord() } catch {
            throw warehouseFailure(error, while: "reading the state")
        }
        let path = options.files.state
        // The state file was checked before the lock was taken (checkOwnership); read it again now
        // that no other run can change it.
        func shown(_ json: String) -> String { redactor.maskedJSON(json) }
        guard options.mirrorsState == true else {
            // A destination without a state file (PostgreSQL unless --state): the database's state is the only one.
            guard let stored else {
                console.note("start state: {} (a first sync: no checkpoint yet)")
                return [:]
            }
            guard let checkpointed = (try? JSONParser.parse(stored.state))?.objectValue else {
                throw SyncFailure(
                    .warehouse,
                    "the warehouse \(warehouse.location) holds a stored state that is not a JSON object (\(redactor.preview(stored.state.utf8)) in _connector_state); it was changed outside connector-host. Restore it, or run `connector-host reset` to start over"
                )
            }
            console.note("start state: \(shown(stored.state)), the last checkpoint")
            return .object(checkpointed)
        }
        let given = try options.files.stateContents().map { JSONWriter.string(.object($0)) }
        guard let stored else {
            guard let given else {
                console.note("start state: {} (a first sync: no checkpoint yet and no state file)")
                return [:]
            }
            console.note("start state: \(shown(given)) from \(path) (the warehouse has no checkpoint yet)")
            // A state put there on purpose (to start from a cursor), or a warehouse deleted or
            // replaced while the state file stayed: in the second case the data before that state is
            // not in this warehouse, so say it loudly.
            console.note(
                "warning: the warehouse \(warehouse.location) has no stored state, so this sync resumes from the state file \(options.files.state) (\(redactor.preview(redactor.maskedJSON(given).utf8))). If the warehouse was deleted or replaced, the data before that state is not in it and will not be fetched again: delete the state file (or run `connector-host reset`) to sync everything from the start"
            )
            return (try? JSONParser.parse(given)) ?? [:]
        }
        guard let checkpointed = (try? JSONParser.parse(stored.state))?.objectValue else {
            throw SyncFailure(
                .warehouse,
                "the warehouse \(warehouse.location) holds a stored state that is not a JSON object (\(redactor.preview(stored.state.utf8)) in _connector_state); it was changed outside connector-host. Restore it, or run `connector-host reset` to start over"
            )
        }
        guard let given else {
            try? options.files.writeState(stored.state)
            console.note("start state: \(shown(stored.state)), the last checkpoint; \(path) was missing and is written again")
            return .object(checkpointed)
        }
        if given == stored.state {
            console.note("start state: \(shown(stored.state)), the last checkpoint (mirrored in \(path))")
            return .object(checkpointed)
        }
        let identity = options.files.stateIdentity()
        if stored.mirror == path, let identity, identity == stored.mirrorIdentity || identity == stored.previousMirrorIdentity {
            try? options.files.writeState(stored.state)
            console.note(
                "start state: \(shown(stored.state)), the last checkpoint; \(path) was behind it (the host stopped between a commit and the file's rename) and is repaired"
            )
            return .object(checkpointed)
        }
        console.note(
            "start state: \(shown(given)) from \(path), which differs from the last checkpoint \(shown(stored.state)): a state file you edit or give with --state wins"
        )
        return (try? JSONParser.parse(given)) ?? [:]
    }

    /// Whether the connector is a Fivetran connector: a `connector.py` run with the Python SDK, or one
    /// that started the host from its own process (`--attach`) in a folder with a `connector.py`.
    var isFivetranConnector: Bool {
        if let known = options.fivetranConnector { return known }
        switch plan.kind {
        case .python: return true
        case .attached:
            return FileManager.default.fileExists(atPath: plan.directory + "/connector.py")
                && !FileManager.default.fileExists(atPath: plan.directory + "/connector.json")
        default: return false
        }
    }

    func launch() throws(SyncFailure) {
        if let attached = options.attached {
            // The connector is the process that started the host: nothing to spawn, no stderr to read (it
            // writes to the same terminal), no process to wait for.
            do { try attached.validate() } catch { throw SyncFailure(.launch, error.message) }
            started = monotonicSeconds()
            let attachedReader = LineReader(fileDescriptor: attached.input, maximumLineLength: options.maximumLineLength)
            attachedReader.wakeDescriptor = cancellation.wakeDescriptor
            reader = attachedReader
            // Our own description of the pipe (the connector closed its copy): non-blocking, so that a
            // connector that stops reading cannot block the host past the writer's timeout.
            _ = fcntl(attached.output, F_SETFL, fcntl(attached.output, F_GETFL) | O_NONBLOCK)
            writer = LineWriter(fileDescriptor: attached.output, wakeDescriptor: cancellation.wakeDescriptor)
            return
        }
        let console = self.console
        let name = plan.name
        let connection: ConnectorConnection
        do {
            // The console masks, cuts and escapes the line (SyncRunner wraps it in a MaskingConsole).
            connection = try ConnectorConnection(plan: plan, maximumLineLength: options.maximumLineLength, redactor: redactor) { line in
                console.connectorLog(name, level: nil, line)
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

    @discardableResult
    func checkVersion(_ result: JSONValue) throws(SyncFailure) -> InitializeResult {
        let version: Int64
        let initialized: InitializeResult
        do throws(InvalidParams) {
            initialized = try InitializeResult(json: result)
            version = initialized.protocolVersion
        } catch {
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
        return initialized
    }

    // MARK: Endings

    /// After a successful `update`: sends `shutdown`, reads until its answer, closes stdin and reads
    /// on until the connector's stdout ends (or it exits), each for at most the grace period.
    /// - Throws: a protocol violation when the connector sends `records` or a `checkpoint` after it
    ///   answered `update` (that data would otherwise be dropped in silence). Anything else that goes
    ///   wrong here (no answer, an early exit, a stray line) loses nothing: the sync stands.
    func shutDown() throws(SyncFailure) {
        let attached = options.attached != nil
        guard attached || process != nil else { return }
        // An attached connector ends when the host closes its output; a child when its stdin closes.
        let closeInput = { [self] in
            recorder?.closedInput()
            attached ? detach() : process?.closeInput()
        }
        let grace = options.gracePeriod
        let id = RequestID.number(nextRequestID)
        sentRequests[nextRequestID] = ShutdownRequest.method
        nextRequestID += 1
        do { try send(.request(id: id, ShutdownRequest()), timeout: grace, "its shutdown request") } catch {
            closeInput()
            return
        }
        var deadline = monotonicSeconds() + grace
        var answered = false
        while true {
            let message: Message?
            do {
                message = try nextControlMessage(timeout: max(0, deadline - monotonicSeconds()), waitingFor: ShutdownRequest.method)
            } catch {
                guard !answered else { break }  // stdout ended (or timed out) after the answer: done
                // No answer to shutdown (an early exit, silence, a stray line): stop listening for it,
                // but still look at what comes until stdout ends.
                answered = true
                closeInput()
                deadline = monotonicSeconds() + grace
                continue
            }
            guard let message else { continue }
            switch message {
            case .notification(RecordsNotification.method, _):
                throw SyncFailure.atLine(
                    lineNumber,
                    "is a records message after the connector answered update; send every operation before answering update. Nothing after the last checkpoint was kept"
                )
            case .request(let checkpointID, CheckpointRequest.method, _):
                throw SyncFailure.atLine(
                    lineNumber,
                    "is a checkpoint (id \(shown(checkpointID))) after the connector answered update; checkpoint before answering update. Nothing after the last checkpoint was kept"
                )
            case .response(let answerID, _) where answerID == id && !answered,
                .errorResponse(let answerID?, _) where answerID == id && !answered:
                answered = true
                closeInput()
                // An attached connector goes on in the program that started the host: nothing more to read.
                if attached { return }
                deadline = monotonicSeconds() + grace
            default:
                try? handleUnsolicited(message, during: ShutdownRequest.method)
            }
        }
        closeInput()
    }

    /// Waits (the grace period) for the connector to exit after its stdin closed, stops it if it
    /// does not, then ends what it left running in its process group.
    func endConnector() {
        guard let process else { return }
        let grace = options.gracePeriod
        let hurry = { [cancellation] in cancellation.isCancelled }
        if process.wait(timeout: grace, hurry: hurry) == nil {
            console.note("warning: the connector did not exit within \(HumanText.seconds(grace)) of shutdown; stopping it")
            process.terminate(grace: grace, hurry: hurry)
        }
        endGroup(process)
        stderr?.waitUntilFinished(timeout: 1)
    }

    /// Ends an attached session: closing the host's output is the connector's EOF (it stops its sync, if
    /// it still runs one, and returns to the code that started the host).
    func detach() {
        guard let attached = options.attached, writer != nil else { return }
        writer = nil
        close(attached.output)
    }

    /// Ends the processes the connector left running in its group, saying so when there were any.
    func endGroup(_ process: ChildProcess) {
        let hurry = { [cancellation] in cancellation.isRepeated }
        guard let signal = process.endGroup(grace: options.gracePeriod, hurry: hurry) else { return }
        console.note(
            "warning: processes the connector started were still running after it exited; the host stopped them with \(signal == SIGKILL ? "SIGKILL (they ignored SIGTERM)" : "SIGTERM")"
        )
    }

    /// Sends `cancel` (when the connector still runs), closes its stdin, then SIGTERM and SIGKILL as needed.
    /// - Returns: a sentence on the signals it took, or `nil` when the connector exited by itself.
    func stopAfterFailure(_ failure: SyncFailure) -> String? {
        stopConnector(reason: failure.cancellation?.connectorReason ?? "the host stopped the sync")
    }

    /// Sends `cancel` with `reason` (when the connector still runs), closes its stdin, then SIGTERM
    /// and SIGKILL as needed.
    /// - Returns: a sentence on the signals it took, or `nil` when the connector exited by itself.
    func stopConnector(reason: String) -> String? {
        if options.attached != nil {
            var writer = self.writer
            writer?.timeout = 0
            recorder?.host(.notification(CancelNotification(reason: reason)))
            try? writer?.send(.notification(CancelNotification(reason: reason)))
            detach()
            return nil
        }
        guard let process else { return nil }
        var termination: Termination?
        if process.wait(timeout: 0) == nil {
            // Best effort and never blocking: a connector that does not read stdin just misses it.
            var writer = self.writer
            writer?.timeout = 0
            recorder?.host(.notification(CancelNotification(reason: reason)))
            try? writer?.send(.notification(CancelNotification(reason: reason)))
            // A second Ctrl-C (or SIGTERM) while stopping skips the grace periods.
            termination = process.terminate(grace: options.gracePeriod, hurry: { [cancellation] in cancellation.isRepeated })
        }
        endGroup(process)
        stderr?.waitUntilFinished(timeout: 1)
        let grace = HumanText.seconds(options.gracePeriod)
        switch termination?.escalation {
        case .sigterm?: return "the connector did not exit within \(grace) of its stdin closing; the host stopped it with SIGTERM"
        case .sigkill?:
            return
                "the connector did not exit within \(grace) of its stdin closing, nor \(grace) after SIGTERM; the host killed it with SIGKILL"
        default: return nil
        }
    }
}
