import ConnectorProtocol
import Foundation

/// How the suite answers the connector's checkpoints during one `update`.
enum CheckpointPolicy {
    /// Commit and acknowledge each one; keep the first unanswered for `hold` seconds first, to see
    /// that the connector waits.
    case acknowledge(hold: Double)
    /// Answer the first one with an error (``ConformanceSuite/refusal``) to provoke a failure.
    case refuse
    /// Close stdin instead of answering the first one, and stop reading.
    case closeInput
}

/// What happened during one `update`.
struct UpdateOutcome {
    var answer: Answer = .none("")
    /// The states of the acknowledged checkpoints, in order.
    var checkpointStates: [JSONValue] = []
    /// Operations received in `records` messages.
    var operations = 0
    /// The tables the operations named (`table` and `schema`), for ``ConformanceCheck/selectTables``.
    var tablesNamed: Set<TableIdentity> = []
    /// Breaches of the checkpoint rules (``ConformanceCheck/update``).
    var problems: [String] = []
    /// A checkpoint was refused (policy ``CheckpointPolicy/refuse``).
    var refused = false
    /// stdin was closed at a checkpoint (policy ``CheckpointPolicy/closeInput``).
    var closedAtCheckpoint = false
}

extension ConformanceRun {
    /// Sends `update` with `state` and serves it until it is answered, following `policy` for
    /// checkpoints. With `tables`, the operations are applied to the temporary warehouse.
    mutating func runUpdate(
        _ session: ConformanceSession, state: JSONValue, tables: [TableDefinition]?, policy: CheckpointPolicy,
        check: ConformanceCheck = .update, selecting: [TableIdentity]? = nil
    ) -> UpdateOutcome {
        var outcome = UpdateOutcome()
        let warehouse = tables == nil ? nil : self.warehouse
        if let warehouse, let tables { warehouse.begin(tables: tables) }
        defer {
            session.recordsLine = nil
            if case .result = outcome.answer { warehouse?.end(succeeded: true) } else { warehouse?.end(succeeded: false) }
        }
        if let warehouse { session.recordsLine = { line, number in warehouse.apply(line, lineNumber: number) } }
        let id = session.sendRequest(
            Method.update,
            UpdateRequest(
                configuration: configuration, state: state, tables: selecting, fileStaging: self.warehouse?.fileStaging()
            ).params, check: check)
        var held = false
        while true {
            switch session.next(timeout: options.timeout) {
            case .timedOut(let seconds):
                outcome.answer = .none(
                    "got no answer: the connector sent nothing for \(HumanText.seconds(seconds)) (after \(outcome.checkpointStates.count) acknowledged checkpoints)"
                )
                return outcome
            case .ended(let how):
                outcome.answer = .none("got no answer: \(how) first")
                return outcome
            case .message(let message):
                switch message {
                // The only request pending is update, so any answer is its answer (a wrong id is noted).
                case .response(let answerID, let result):
                    session.noteAnswer(answerID, expected: id, method: Method.update)
                    session.markLast(check)
                    outcome.answer = .result(result)
                    return outcome
                case .errorResponse(let answerID, let error):
                    session.noteAnswer(answerID, expected: id, method: Method.update)
                    session.markLast(check)
                    outcome.answer = .error(error)
                    return outcome
                case .notification(Method.records, let params):
                    let ops = params["ops"]?.arrayValue ?? []
                    outcome.operations += ops.count
                    for op in ops {
                        if let table = op["table"]?.stringValue {
                            outcome.tablesNamed.insert(TableIdentity(table: table, schema: op["schema"]?.stringValue))
                        }
                    }
                case .request(let checkpointID, Method.checkpoint, let params):
                    guard let checkpoint = try? CheckpointRequest(params: params) else {
                        outcome.problems.append(
                            "\(session.name): checkpoint \(checkpointID) has no object params.state (send {\"state\": {...}})")
                        session.send(.errorResponse(id: checkpointID, error: RPCError(.invalidParams, "checkpoint needs params.state")))
                        continue
                    }
                    switch policy {
                    case .closeInput:
                        session.markLast(check)
                        session.closeInput()
                        outcome.closedAtCheckpoint = true
                        return outcome
                    case .refuse:
                        session.markLast(check)
                        session.send(.errorResponse(id: checkpointID, error: ConformanceSuite.refusal), check: check)
                        outcome.refused = true
                    case .acknowledge(let hold):
                        if !held && hold > 0 {
                            held = true
                            if let problem = holdCheckpoint(session, id: checkpointID, seconds: hold) { outcome.problems.append(problem) }
                        }
                        let stateValue = checkpoint.state
                        warehouse?.checkpoint(state: stateValue)
                        outcome.checkpointStates.append(stateValue)
                        session.send(.response(id: checkpointID, result: EmptyResult().json))
                    }
                case .request(let otherID, let method, _):
                    session.send(.errorResponse(id: otherID, error: RPCError(.methodNotFound, "the host has no method \"\(method)\"")))
                case .notification:
                    break
                }
            }
        }
    }

    /// Leaves a checkpoint unanswered for `seconds` and says what the connector sent meanwhile, if
    /// anything but logs and warnings: a connector must wait for the answer. What arrived is processed afterwards.
    private func holdCheckpoint(_ session: ConformanceSession, id: RequestID, seconds: Double) -> String? {
        session.pause(seconds)
        let deadline = monotonicSeconds() + seconds
        var arrived: [Incoming] = []
        var problem: String?
        while true {
            let remaining = deadline - monotonicSeconds()
            if remaining <= 0 { break }
            let incoming = session.next(timeout: remaining)
            if case .timedOut = incoming { break }
            // Logs and warnings may come from other threads of the connector at any time.
            if case .message(.notification(let method, _)) = incoming, method == Method.log || method == Method.warning { continue }
            if problem == nil {
                let what: String
                switch incoming {
                case .message(.notification(let method, _)): what = "a \(method) notification"
                case .message(.request(_, let method, _)): what = "a \(method) request"
                case .message: what = "an answer"
                case .ended(let how): what = "nothing more: \(how)"
                case .timedOut: what = ""
                }
                problem =
                    "\(session.name): \(what) arrived while checkpoint \(id) was unanswered; checkpoint must block until the host answers (PROTOCOL.md 5.6)"
            }
            arrived.append(incoming)
            if case .ended = incoming { break }
        }
        for incoming in arrived { session.requeue(incoming) }
        return problem
    }
}

/// A throwaway warehouse that applies the connector's operations with the host's own record applier and
/// validation, to judge ``ConformanceCheck/records``. Keeps the first problem and stops applying.
final class ConformanceWarehouse {
    private let warehouse: Warehouse
    private let applier: RecordApplier<Warehouse>
    private let connector: String
    private var syncID: Int64?
    /// The first operation problem, in one line.
    private(set) var problem: String?
    /// Operations applied.
    var operations: Int { applier.operationCount }
    var undeclaredTables: [String] { warehouse.undeclaredTablesCreated }

    init(path: String, connector: String) throws {
        warehouse = try Warehouse(path: path)
        applier = RecordApplier(warehouse: warehouse)
        self.connector = connector
    }

    /// The staging folder of the throwaway warehouse, so that ops carrying files (PROTOCOL.md 6.11)
    /// are checked as the host checks them; `nil` when it cannot be made.
    func fileStaging() -> String? { try? warehouse.prepareFileStaging() }

    /// The staging folder's path (what ``fileStaging()`` returns).
    var stagingRoot: String { warehouse.files.stagingRoot }

    /// The staging folder as transcripts record it (the real one is in a temporary folder).
    static let recordedStagingRoot = "/tmp/connector-host-conformance/files/.connector-host-staging"

    func begin(tables: [TableDefinition]) {
        guard problem == nil else { return }
        do {
            syncID = try warehouse.beginSync(connector: connector)
            try warehouse.apply(schema: tables)
            warehouse.setSyncedTime(TemporalValues.nowUTC())
        } catch {
            problem = "the schema could not be applied to a warehouse: \(error)"
        }
    }

    func apply(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) {
        guard problem == nil, syncID != nil else { return }
        do {
            _ = try applier.applyIfRecords(line, lineNumber: lineNumber)
        } catch let error as InvalidOperation {
            problem = "\(error.location): \(error.reason)"
        } catch {
            problem = "stdout line \(lineNumber): \(error)"
        }
    }

    func checkpoint(state: JSONValue) {
        guard problem == nil, syncID != nil else { return }
        do {
            try warehouse.checkpoint(state: JSONWriter.string(state))
            try warehouse.beginTransaction()
            applier.resetCaches()
        } catch {
            problem = "the checkpoint could not be committed: \(error)"
        }
    }

    /// Commits a successful update; rolls a failed one back, as the host does.
    func end(succeeded: Bool) {
        guard let syncID else { return }
        self.syncID = nil
        if problem == nil && succeeded {
            try? warehouse.finishSync(id: syncID)
        } else {
            warehouse.failSync(id: syncID, status: "failed", error: problem ?? "the update failed")
        }
        applier.resetCaches()
    }
}
