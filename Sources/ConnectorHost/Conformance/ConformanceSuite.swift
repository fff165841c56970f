import ConnectorProtocol
import Foundation

/// What a conformance run needs to know.
public struct ConformanceOptions: Sendable {
    /// The connector directory (as for `run`).
    public var directory: String
    /// The configuration file; default `DIR/configuration.json` when it exists.
    public var configurationPath: String?
    /// Whether to run the connector's build step first.
    public var build = true
    /// Seconds to wait for any single answer or message.
    public var timeout: Double = 30
    /// Seconds a connector has to exit after stdin EOF.
    public var grace: Double = 5
    /// Seconds the first checkpoint stays unanswered, to see that the connector waits for it.
    public var checkpointHold: Double = 0.2
    /// When set, each session's transcript is written there as `<session>.transcript.jsonl`.
    public var transcriptDirectory: String?
    /// Whether to run the resumption check too (``ConformanceCheck/resumption``): two real syncs
    /// into temporary warehouses, one stopped after each checkpoint and resumed.
    public var resumption = false

    public init(directory: String, configurationPath: String? = nil) {
        self.directory = FilePaths.absolute(directory)
        self.configurationPath = configurationPath
    }
}

/// Checks a connector executable against protocol/PROTOCOL.md by talking to it the way the host
/// does, and a few ways the host normally does not (a request before `initialize`, an unknown
/// version, method and notification, a refused checkpoint, EOF at awkward moments).
///
/// Six short sessions, each a fresh process, so one misbehaviour fails its own check and not the
/// others (PROTOCOL.md section 16 lists them). Operations are applied to a temporary warehouse,
/// removed afterwards: the connector's own warehouse and state are never touched. Runs on the
/// calling thread, which it blocks.
public enum ConformanceSuite {
    /// The method and notification names the connector cannot know.
    static let unknownMethod = "conformance/no-such-method"
    static let unknownNotification = "conformance/no-such-notification"
    /// The error the suite answers a checkpoint with to provoke a failure.
    static let refusal = RPCError(
        .internalError, "conformance: the host refuses this checkpoint on purpose, to see the connector answer update with an error")

    /// Runs every check; never throws: a connector that cannot be started is reported as ``ConformanceReport/launchFailure``.
    /// - Parameter log: receives build output and the connector's stderr lines.
    public static func run(_ options: ConformanceOptions, log: @escaping @Sendable (String) -> Void = { _ in }) -> ConformanceReport {
        var options = options
        options.timeout = HumanText.boundedSeconds(options.timeout, fallback: 30)
        options.grace = HumanText.boundedSeconds(options.grace, fallback: 5)
        options.checkpointHold = HumanText.boundedSeconds(options.checkpointHold, fallback: 0.2)
        // The suite writes to connectors that exit at awkward moments on purpose; a write to a dead
        // one fails with EPIPE, never raising SIGPIPE in the process (LineWriter.withoutSIGPIPE).
        var report = ConformanceReport(
            connector: URL(fileURLWithPath: options.directory).lastPathComponent, directory: options.directory, results: [])
        let plan: LaunchPlan
        let configuration: JSONObject
        do {
            plan = try ConnectorLauncher.plan(directory: options.directory)
            report.connector = plan.name
            configuration = try SyncRunner.loadConfiguration(
                SyncOptions(directory: options.directory, configurationPath: options.configurationPath))
            if options.build, let command = plan.buildCommand {
                log("building \(plan.name): \(plan.buildSummary ?? command.joined(separator: " "))")
                try ConnectorLauncher.build(plan, log: { log("  " + $0) })
            }
        } catch let error as LaunchError {
            report.launchFailure = error.message
            report.launchFailureIsUsageError = error.isUsageError
            return report
        } catch let error as SyncFailure {
            report.launchFailure = error.message
            report.launchFailureIsUsageError = error.isUsageError
            return report
        } catch {
            report.launchFailure = "\(error)"
            return report
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-conformance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var run = ConformanceRun(
            plan: plan, options: options, configuration: configuration, warehousePath: scratch.appendingPathComponent("warehouse.db").path,
            log: log)
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            try run.runSessions()
        } catch {
            report.launchFailure = "\(error)"
            return report
        }
        if options.resumption {
            run.results[.resumption] = ResumptionCheck.run(options, log: log)
        }
        report.results = ConformanceCheck.allCases.filter { $0 != .resumption || options.resumption }.map { check in
            var result = run.results[check] ?? ConformanceResult(check, .skipped, "not reached")
            result.reason = HumanText.escapingControls(run.redactor.mask(result.reason))
            return result
        }
        if let directory = options.transcriptDirectory {
            do { try run.writeTranscripts(to: directory) } catch {
                report.launchFailure = "cannot write the transcripts to \(directory): \(error.localizedDescription)"
            }
        }
        return report
    }
}

/// One conformance run: the sessions in order, and the verdicts so far.
struct ConformanceRun {
    let plan: LaunchPlan
    let options: ConformanceOptions
    let configuration: JSONObject
    let warehousePath: String
    let log: @Sendable (String) -> Void
    /// Masks the configuration's secret values (and the connector's `secretKeys`) in reasons, logs and transcripts.
    let secretMask: SecretMask
    var redactor: Redactor { secretMask.redactor }
    let evidence = ConformanceEvidence()
    var results: [ConformanceCheck: ConformanceResult] = [:]
    var transcripts: [(name: String, entries: [JSONValue])] = []
    var warehouse: ConformanceWarehouse?
    private var tables: [TableDefinition]?
    /// The last acknowledged checkpoint state of the first update, for ``ConformanceCheck/resume``.
    private var resumeState: JSONValue?
    private var idleEOF: ConformanceResult?
    /// Whether the handshake declared `selectTables` (`nil` when the handshake failed).
    private var selectsTables: Bool?
    /// Whether the handshake declared `test` and `configurationForm` (`nil` when it failed).
    private var declaresTest: Bool?
    private var declaresForm: Bool?

    init(
        plan: LaunchPlan, options: ConformanceOptions, configuration: JSONObject, warehousePath: String,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.plan = plan
        self.options = options
        self.configuration = configuration
        self.warehousePath = warehousePath
        self.log = log
        secretMask = SecretMask(configuration: configuration)
    }

    private var initializeParams: JSONValue { initializeParams(version: ProtocolVersion.current) }

    private func initializeParams(version: Int) -> JSONValue {
        InitializeRequest(protocolVersion: Int64(version), host: SyncRunner.host, configuration: configuration).params
    }

    /// The params of `schema` (and of `test`, which has the same).
    private var configurationParams: JSONValue { SchemaRequest(configuration: configuration).params }

    private mutating func pass(_ check: ConformanceCheck, _ reason: String) { results[check] = ConformanceResult(check, .passed, reason) }
    private mutating func fail(_ check: ConformanceCheck, _ reason: String) { results[check] = ConformanceResult(check, .failed, reason) }
    private mutating func skip(_ check: ConformanceCheck, _ reason: String) { results[check] = ConformanceResult(check, .skipped, reason) }

    mutating func runSessions() throws {
        try probesSession()
        try versionSession()
        try runSession()
        try resumeSession()
        try selectSession()
        try failureSession()
        try eofSession()
        try setupSession()
        judgeEvidence()
    }

    private mutating func session(_ name: String) throws -> ConformanceSession {
        let connector = plan.name
        let log = self.log
        let mask = secretMask
        do {
            return try ConformanceSession(name: name, plan: plan, evidence: evidence, redactor: mask.redactor) {
                log("[\(mask.redactor.show(connector, limit: 200))] " + mask.redactor.show($0, limit: 1 << 20))
            }
        } catch {
            throw LaunchError("\(error)")
        }
    }

    private mutating func finish(_ session: ConformanceSession) {
        session.stop(grace: options.grace)
        transcripts.append((session.name, session.transcript))
    }

    /// Sends `initialize` (version 1) and says why it did not succeed, if it did not.
    private func initialize(_ session: ConformanceSession) -> String? {
        switch session.call(Method.initialize, initializeParams, timeout: options.timeout) {
        case .result(let result):
            secretMask.accept(initializeResult: result)
            return nil
        case let other: return "initialize \(other.summary(masking: redactor)) (see handshake)"
        }
    }

    // MARK: Session "probes": before initialize, unknown notification, unknown request, EOF while idle

    private mutating func probesSession() throws {
        let session = try session("probes")
        defer { finish(session) }
        let early = session.call(Method.schema, configurationParams, timeout: options.timeout, check: .notInitialized)
        session.markLast(.notInitialized)
        switch early {
        case .error(let error) where error.code == .notInitialized:
            pass(.notInitialized, "schema before initialize was answered with error -32002")
        case .error(let error):
            fail(.notInitialized, "schema before initialize was answered with error \(error.code); expected -32002 (not initialized)")
        case .result:
            fail(.notInitialized, "schema before initialize was answered with a result; expected error -32002 (not initialized)")
        case .none(let reason):
            fail(.notInitialized, "schema before initialize \(reason); expected error -32002 (not initialized)")
        }
        if let problem = initialize(session) {
            for check in [ConformanceCheck.unknownNotification, .unknownRequest, .eofExit] { skip(check, problem) }
            return
        }

        session.send(.notification(method: ConformanceSuite.unknownNotification, params: [:]), check: .unknownNotification)
        session.pendingNotification = ConformanceSuite.unknownNotification
        let afterNotification = session.call(Method.schema, configurationParams, timeout: options.timeout)
        session.pendingNotification = nil
        if case .none(let reason) = afterNotification {
            fail(
                .unknownNotification,
                "after the unknown notification \(ConformanceSuite.unknownNotification), the next request (schema) \(reason); unknown notifications must be ignored"
            )
        } else if let reply = evidence.notificationReplies.first {
            fail(.unknownNotification, "\(reply); notifications are never answered, unknown ones are ignored")
        } else {
            pass(.unknownNotification, "\(ConformanceSuite.unknownNotification) was ignored and the next request was answered")
        }

        let unknown = session.call(ConformanceSuite.unknownMethod, [:], timeout: options.timeout, check: .unknownRequest)
        session.markLast(.unknownRequest)
        switch unknown {
        case .error(let error) where error.code == .methodNotFound:
            pass(.unknownRequest, "\(ConformanceSuite.unknownMethod) was answered with error -32601")
        case let other:
            fail(
                .unknownRequest,
                "\(ConformanceSuite.unknownMethod) \(other.summary(masking: redactor)); expected error -32601 (method not found)")
        }

        session.closeInput()
        idleEOF = exitVerdict(session, after: "stdin EOF while idle after initialize", check: .eofExit)
    }

    // MARK: Session "version": initialize with a version that does not exist

    private mutating func versionSession() throws {
        let session = try session("version")
        defer { finish(session) }
        let asked = ProtocolVersion.current + 1
        let answer = session.call(
            Method.initialize, initializeParams(version: asked), timeout: options.timeout, check: .versionNegotiation)
        session.markLast(.versionNegotiation)
        switch answer {
        case .result(let result):
            guard let version = (try? InitializeResult(json: result))?.protocolVersion else {
                fail(.versionNegotiation, "asked for version \(asked), the result has no integer protocolVersion")
                return
            }
            if ProtocolVersion.supported.contains(Int(version)) {
                pass(.versionNegotiation, "asked for version \(asked), the connector offered \(version)")
            } else {
                fail(
                    .versionNegotiation,
                    "asked for version \(asked), the connector answered \(version); a connector answers the requested version only if it speaks it, else the newest version it speaks (\(ProtocolVersion.current) for v1 connectors)"
                )
            }
        case .error(let error) where error.code == .unsupportedVersion:
            pass(.versionNegotiation, "asked for version \(asked), the connector answered error -32015 (no common version)")
        case let other:
            fail(
                .versionNegotiation,
                "initialize asking for version \(asked) \(other.summary(masking: redactor)); expected a result with protocolVersion \(ProtocolVersion.current) (or error -32015)"
            )
        }
        session.closeInput()
    }

    // MARK: Session "run": handshake, schema, update, shutdown

    private mutating func runSession() throws {
        let session = try session("run")
        defer { finish(session) }
        guard judgeHandshake(session.call(Method.initialize, initializeParams, timeout: options.timeout, check: .handshake), session)
        else {
            for check in [ConformanceCheck.schema, .update, .records, .resume, .selectTables, .shutdown] {
                skip(check, "initialize did not succeed (see handshake)")
            }
            return
        }
        judgeSchema(session)
        if tables == nil {
            skip(.records, "the operations cannot be checked without a valid schema (see schema)")
        } else {
            do {
                warehouse = try ConformanceWarehouse(path: warehousePath, connector: plan.name)
            } catch {
                throw LaunchError("cannot create the temporary warehouse \(warehousePath): \(error)")
            }
        }
        let update = runUpdate(session, state: [:], tables: tables, policy: .acknowledge(hold: options.checkpointHold))
        judgeUpdate(update)
        if case .result = update.answer, let state = update.checkpointStates.last { resumeState = state }
        judgeShutdown(session)
    }

    private mutating func judgeHandshake(_ answer: Answer, _ session: ConformanceSession) -> Bool {
        session.markLast(.handshake)
        guard case .result(let result) = answer else {
            fail(.handshake, "initialize \(answer.summary(masking: redactor)); expected a result")
            return false
        }
        var problems: [String] = []
        typealias Member = InitializeResult.Member
        switch result[Member.protocolVersion] {
        case .number(let number)? where number.int64Value == Int64(ProtocolVersion.current): break
        case let value?: problems.append("protocolVersion is \(ConformanceSession.jsonText(value)), expected \(ProtocolVersion.current)")
        case nil: problems.append("protocolVersion is missing")
        }
        let name = result[Member.connector]?["name"]?.stringValue
        let version = result[Member.connector]?["version"]?.stringValue
        if result[Member.connector]?.objectValue == nil {
            problems.append("connector is missing (expected {\"name\": ..., \"version\": ...})")
        } else {
            if name?.isEmpty ?? true { problems.append("connector.name is missing or empty") }
            if version == nil { problems.append("connector.version is missing (a string)") }
        }
        if result[Member.capabilities]?.objectValue == nil {
            problems.append("capabilities is missing (an object, e.g. {\"test\": false})")
        } else if let test = result[Member.capabilities]?["test"], test.boolValue == nil {
            problems.append("capabilities.test is \(ConformanceSession.jsonText(test)), expected a boolean")
        }
        if let select = result[Member.capabilities]?[Capability.selectTables], select.boolValue == nil {
            problems.append("capabilities.selectTables is \(ConformanceSession.jsonText(select)), expected a boolean")
        }
        selectsTables = (try? InitializeResult(json: result))?.declares(Capability.selectTables) ?? false
        declaresTest = result[Member.capabilities]?[Capability.test]?.boolValue == true
        declaresForm = result[Member.capabilities]?[Capability.configurationForm]?.boolValue == true
        if let form = result[Member.capabilities]?[Capability.configurationForm], form.boolValue == nil {
            problems.append("capabilities.configurationForm is \(ConformanceSession.jsonText(form)), expected a boolean")
        }
        if let keys = result[Member.secretKeys], InitializeResult.secretKeys(keys) == nil {
            problems.append("secretKeys is \(ConformanceSession.jsonText(keys)), expected an array of configuration key names (strings)")
        }
        secretMask.accept(initializeResult: result)
        if problems.isEmpty {
            pass(
                .handshake,
                "protocol \(ProtocolVersion.current), connector \(name ?? "") \(version ?? ""), capabilities \(ConformanceSession.excerpt(result[Member.capabilities] ?? [:], masking: redactor))"
            )
        } else {
            fail(.handshake, "the initialize result is incomplete: " + problems.joined(separator: "; "))
        }
        return true
    }

    private mutating func judgeSchema(_ session: ConformanceSession) {
        let answer = session.call(Method.schema, configurationParams, timeout: options.timeout, check: .schema)
        session.markLast(.schema)
        guard case .result(let result) = answer else {
            fail(.schema, "schema \(answer.summary(masking: redactor)); expected a result with tables")
            return
        }
        do {
            let tables = try SchemaValidator.tables(from: result)
            self.tables = tables
            let names = tables.map(\.name)
            pass(
                .schema,
                "\(tables.count) table\(tables.count == 1 ? "" : "s")"
                    + (names.isEmpty ? "" : ": " + names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "")))
        } catch {
            fail(.schema, error.problems.map { "\($0.path): \($0.message)" }.joined(separator: "; "))
        }
    }

    private mutating func judgeUpdate(_ update: UpdateOutcome) {
        let problems = update.problems + evidence.checkpointProblems
        switch update.answer {
        case .result where !problems.isEmpty:
            fail(.update, problems[0] + (problems.count > 1 ? " (and \(problems.count - 1) more)" : ""))
        case .result where update.checkpointStates.isEmpty:
            fail(
                .update,
                "update succeeded without a checkpoint; checkpoint at least the final state before answering update, so the next run resumes from it"
            )
        case .result:
            let count = update.checkpointStates.count
            pass(
                .update,
                "succeeded with \(update.operations) operation\(update.operations == 1 ? "" : "s") and \(count) checkpoint\(count == 1 ? "" : "s"), each acknowledged before the connector went on"
            )
        case let other:
            fail(.update, "update (state {}) \(other.summary(masking: redactor))" + (problems.first.map { "; also: \($0)" } ?? ""))
        }
    }

    private mutating func judgeShutdown(_ session: ConformanceSession) {
        if let status = session.exitStatus {
            skip(.shutdown, "the connector had already \(status) (see update)")
            return
        }
        let answer = session.call(Method.shutdown, ShutdownRequest().params, timeout: options.timeout, check: .shutdown)
        session.markLast(.shutdown)
        switch answer {
        case .result(let result) where result.objectValue != nil:
            session.closeInput()
            let verdict = exitVerdict(session, after: "stdin EOF after answering shutdown", check: .shutdown)
            results[.shutdown] = verdict
        case .result(let result):
            fail(.shutdown, "shutdown was answered with \(ConformanceSession.excerpt(result, masking: redactor)); expected the result {}")
        case let other:
            fail(.shutdown, "shutdown \(other.summary(masking: redactor)); expected the result {}, then exit 0 on stdin EOF")
        }
    }

    // MARK: Session "resume": a second update from the first one's state

    private mutating func resumeSession() throws {
        guard results[.resume] == nil else { return }
        guard let state = resumeState else {
            skip(.resume, "there is no checkpointed state from a successful first update to resume from (see update)")
            return
        }
        let session = try session("resume")
        defer { finish(session) }
        if let problem = initialize(session) {
            fail(.resume, "the second session could not start: \(problem)")
            return
        }
        guard case .result = session.call(Method.schema, configurationParams, timeout: options.timeout) else {
            fail(.resume, "the second session's schema request failed")
            return
        }
        let update = runUpdate(session, state: state, tables: tables, policy: .acknowledge(hold: 0), check: .resume)
        let from = ConformanceSession.excerpt(state, masking: redactor)
        switch update.answer {
        case .result:
            pass(
                .resume,
                "update from state \(from) succeeded with \(update.operations) operation\(update.operations == 1 ? "" : "s") and \(update.checkpointStates.count) checkpoint\(update.checkpointStates.count == 1 ? "" : "s")"
            )
        case let other:
            fail(.resume, "update from the first update's state \(from) \(other.summary(masking: redactor))")
        }
        _ = session.call(Method.shutdown, ShutdownRequest().params, timeout: options.grace)
        session.closeInput()
    }

    // MARK: Session "select": update with tables, for a connector that declares selectTables

    private mutating func selectSession() throws {
        guard results[.selectTables] == nil, let selectsTables else { return }
        guard selectsTables else {
            pass(
                .selectTables, "the connector does not declare selectTables, so it gets no tables and the host keeps only the selected ones"
            )
            return
        }
        guard let tables, let first = tables.first else {
            skip(.selectTables, "the schema declares no table to select (see schema)")
            return
        }
        let selected = [TableIdentity(table: first.name, schema: first.schema)]
        let session = try session("select")
        defer { finish(session) }
        if let problem = initialize(session) {
            fail(.selectTables, "the session could not start: \(problem)")
            return
        }
        guard case .result = session.call(Method.schema, configurationParams, timeout: options.timeout) else {
            fail(.selectTables, "the session's schema request failed")
            return
        }
        let update = runUpdate(session, state: [:], tables: nil, policy: .acknowledge(hold: 0), check: .selectTables, selecting: selected)
        let others = update.tablesNamed.subtracting(selected).map(\.shown).sorted()
        switch update.answer {
        case .result where others.isEmpty:
            pass(
                .selectTables,
                "update with tables [\(selected[0].shown)] succeeded with \(update.operations) operation\(update.operations == 1 ? "" : "s"), all on that table"
            )
        case .result:
            fail(
                .selectTables,
                "update with tables [\(selected[0].shown)] sent operations on \(others.joined(separator: ", ")) too; a connector that declares selectTables sends operations only for the tables update names"
            )
        case let other:
            fail(.selectTables, "update with tables [\(selected[0].shown)] \(other.summary(masking: redactor))")
        }
        _ = session.call(Method.shutdown, ShutdownRequest().params, timeout: options.grace)
        session.closeInput()
    }

    // MARK: Session "failure": a refused checkpoint must become an error answer to update

    private mutating func failureSession() throws {
        let session = try session("failure")
        defer { finish(session) }
        if let problem = initialize(session) {
            skip(.errorReporting, problem)
            return
        }
        _ = session.call(Method.schema, configurationParams, timeout: options.timeout)
        let update = runUpdate(session, state: [:], tables: nil, policy: .refuse, check: .errorReporting)
        guard update.refused else {
            skip(
                .errorReporting,
                "the connector sent no checkpoint, so the suite could not refuse one to provoke a failure (update \(update.answer.summary(masking: redactor)))"
            )
            return
        }
        switch update.answer {
        case .error(let error):
            pass(.errorReporting, "after the refused checkpoint, update was answered with error \(error.code)")
        case .result:
            fail(
                .errorReporting,
                "update was answered with success although its checkpoint was refused; a checkpoint error must fail the update with an error answer"
            )
        case .none(let reason):
            fail(
                .errorReporting,
                "after the refused checkpoint, update \(reason); the connector must answer update with a JSON-RPC error (e.g. -32013), not only exit"
            )
        }
        session.send(.notification(CancelNotification(reason: "conformance: the checkpoint was refused")))
        session.closeInput()
    }

    // MARK: Session "eof": stdin closes while a checkpoint waits for its answer

    private mutating func eofSession() throws {
        guard let idle = idleEOF else { return }  // already skipped: initialize failed
        let session = try session("eof")
        defer { finish(session) }
        var waiting: ConformanceResult?
        if initialize(session) == nil, case .result = session.call(Method.schema, configurationParams, timeout: options.timeout) {
            let update = runUpdate(session, state: [:], tables: nil, policy: .closeInput, check: .eofExit)
            if update.closedAtCheckpoint {
                waiting = exitVerdict(session, after: "stdin EOF while a checkpoint waited for its answer", check: .eofExit)
            }
        }
        guard idle.status == .passed else {
            results[.eofExit] = idle
            return
        }
        guard let waiting else {
            pass(.eofExit, idle.reason + " (no checkpoint arrived, so EOF during a checkpoint was not tried)")
            return
        }
        if waiting.status == .passed {
            pass(.eofExit, idle.reason + "; " + waiting.reason)
        } else {
            results[.eofExit] = waiting
        }
    }

    // MARK: Session "setup": configurationForm and test, for a connector that declares them

    private mutating func setupSession() throws {
        guard let declaresTest, let declaresForm else {
            for check in [ConformanceCheck.setupTests, .configurationForm] { skip(check, "initialize did not succeed (see handshake)") }
            return
        }
        if !declaresTest { pass(.setupTests, "the connector does not declare capabilities.test, so it gets no test request") }
        if !declaresForm {
            pass(
                .configurationForm, "the connector does not declare capabilities.configurationForm, so it gets no configurationForm request"
            )
        }
        guard declaresTest || declaresForm else { return }
        let session = try session("setup")
        defer { finish(session) }
        if let problem = initialize(session) {
            if declaresTest { fail(.setupTests, "the session could not start: \(problem)") }
            if declaresForm { fail(.configurationForm, "the session could not start: \(problem)") }
            return
        }
        var formTests: [String]?
        if declaresForm {
            let answer = session.call(
                Method.configurationForm, ConfigurationFormRequest().params, timeout: options.timeout, check: .configurationForm)
            session.markLast(.configurationForm)
            switch answer {
            case .result(let result):
                do {
                    let form = try ConfigurationFormResult(json: result)
                    formTests = form.tests
                    let names = form.fields.map(\.name)
                    pass(
                        .configurationForm,
                        "\(form.fields.count) field\(form.fields.count == 1 ? "" : "s")"
                            + (names.isEmpty ? "" : " (" + names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "") + ")")
                            + " and \(form.tests.count) setup test\(form.tests.count == 1 ? "" : "s")")
                } catch {
                    fail(.configurationForm, error.reason + " (PROTOCOL.md 5.10)")
                }
            case let other:
                fail(
                    .configurationForm,
                    "configurationForm \(other.summary(masking: redactor)); expected a result with fields (PROTOCOL.md 5.10)")
            }
        }
        if declaresTest {
            judgeSetupTests(
                session.call(Method.test, configurationParams, timeout: options.timeout, check: .setupTests), session, form: formTests)
        }
        _ = session.call(Method.shutdown, ShutdownRequest().params, timeout: options.grace)
        session.closeInput()
    }

    private mutating func judgeSetupTests(_ answer: Answer, _ session: ConformanceSession, form: [String]?) {
        session.markLast(.setupTests)
        switch answer {
        case .result(let result):
            let verdict: TestResult
            do { verdict = try TestResult(json: result) } catch {
                fail(.setupTests, error.reason + "; answer test with {\"ok\": true|false, \"message\": \"...\"} (PROTOCOL.md 5.3)")
                return
            }
            let labels = verdict.tests.map(\.label)
            if !verdict.tests.isEmpty, verdict.ok != verdict.tests.allSatisfy(\.ok) {
                let failed = verdict.tests.filter { !$0.ok }.count
                fail(
                    .setupTests,
                    "the test result says ok \(verdict.ok) but \(failed) of its \(verdict.tests.count) setup tests failed; ok is true exactly when every test passed"
                )
            } else if let form, !verdict.tests.isEmpty, form != labels {
                fail(
                    .setupTests,
                    "the test result's tests are [\(labels.joined(separator: ", "))] but configurationForm names [\(form.joined(separator: ", "))]; run every setup test of the form, in its order"
                )
            } else {
                let count = verdict.tests.count
                pass(
                    .setupTests,
                    "test was answered with ok \(verdict.ok)"
                        + (count == 0
                            ? "" : " and \(count) setup test\(count == 1 ? "" : "s") (\(verdict.tests.filter(\.ok).count) passed)"))
            }
        case .error(let error):
            fail(
                .setupTests,
                "test was answered with error \(error.code): \"\(redactor.show(error.message, limit: 2000))\"; a failed test is the result {\"ok\": false, \"message\": \"...\"}, an error only means the test could not run (PROTOCOL.md 5.3)"
            )
        case .none(let reason):
            fail(.setupTests, "test \(reason); a connector declaring capabilities.test answers it with {\"ok\", \"message\"}")
        }
    }

    // MARK: Shared pieces

    /// Waits for the process to exit after stdin was closed; passes on status 0 within the grace period.
    private func exitVerdict(_ session: ConformanceSession, after what: String, check: ConformanceCheck) -> ConformanceResult {
        let (status, seconds) = session.waitForExit(timeout: options.grace, check: check)
        switch status {
        case .exited(0)?: return ConformanceResult(check, .passed, "exited 0 within \(String(format: "%.2f s", seconds)) of \(what)")
        case let status?:
            return ConformanceResult(check, .failed, "the connector \(status) after \(what); it must exit with status 0")
        case nil:
            return ConformanceResult(
                check, .failed,
                "the connector was still running \(HumanText.seconds(options.grace)) after \(what); it must exit promptly with status 0"
            )
        }
    }

    private mutating func judgeEvidence() {
        if let problem = evidence.stdoutProblems.first {
            let more = evidence.stdoutProblems.count - 1
            fail(
                .stdout,
                problem + (more > 0 ? " (and \(more) more)" : "") + "; stdout carries protocol messages only, print and log to stderr")
        } else {
            pass(.stdout, "all \(evidence.stdoutLines) lines were JSON-RPC 2.0 messages")
        }
        if let problem = evidence.idProblems.first {
            let more = evidence.idProblems.count - 1
            fail(.responseIDs, problem + (more > 0 ? " (and \(more) more)" : "") + "; copy the request's id exactly (1 is not \"1\")")
        } else {
            pass(.responseIDs, "all \(evidence.responses) answers carried their request's id")
        }
        if let problem = evidence.warningProblems.first {
            let more = evidence.warningProblems.count - 1
            fail(.warnings, problem + (more > 0 ? " (and \(more) more)" : ""))
        } else if evidence.warnings == 0 {
            pass(.warnings, "the connector sent no warning")
        } else {
            pass(.warnings, "all \(evidence.warnings) warning\(evidence.warnings == 1 ? "" : "s") had a message")
        }
        guard results[.records] == nil else { return }
        guard let warehouse else {
            skip(.records, "no update ran against a valid schema")
            return
        }
        let problems =
            evidence.recordProblems + (warehouse.problem.map { [$0] } ?? [])
            + warehouse.undeclaredTables.map {
                "an operation wrote to table \"\($0)\", which the schema does not declare; declare every table in schema"
            }
        if let problem = problems.first {
            fail(.records, problem + (problems.count > 1 ? " (and \(problems.count - 1) more)" : ""))
        } else {
            pass(
                .records,
                "\(warehouse.operations) operation\(warehouse.operations == 1 ? "" : "s") applied to a temporary warehouse without a problem"
            )
        }
    }

    /// Writes each session's transcript as `<session>.transcript.jsonl` (one entry per line).
    func writeTranscripts(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, entries) in transcripts {
            var text = entries.map { redactor.mask(JSONWriter.string($0)) + "\n" }.joined()
            // The temporary warehouse's staging folder differs per run: vectors name a fixed one.
            if let staging = warehouse?.stagingRoot {
                text = text.replacingOccurrences(of: staging, with: ConformanceWarehouse.recordedStagingRoot)
            }
            try text.write(toFile: directory + "/\(name).transcript.jsonl", atomically: true, encoding: .utf8)
        }
    }
}
