import ConnectorProtocol
import Foundation

extension SyncSession {

    /// How an `update` ended without a failure.
    enum UpdateEnd {
        /// The connector answered it.
        case answered
        /// The connector sent an operation past `--limit`: the host has what it asked for.
        case limited
    }

    func runUpdate(state: JSONValue) throws(SyncFailure) -> UpdateEnd {
        let id = RequestID.number(nextRequestID)
        sentRequests[nextRequestID] = Method.update
        nextRequestID += 1
        let staging = try warehouse.prepareFileStaging()
        try send(
            .request(
                id: id,
                UpdateRequest(
                    configuration: configuration, state: state, tables: connectorSelectsTables ? selection?.tables : nil,
                    fileStaging: staging)),
            timeout: options.idleTimeout, "its update request")
        let applier = RecordApplier(warehouse: warehouse)
        applier.selection = selection?.sourceNames
        applier.operationLimit = options.limit
        // Until the connector answers: a failure thrown meanwhile leaves it set, for operationSite.
        updatePending = true
        defer { skippedOperations = applier.skipped }
        var nextProgress = monotonicSeconds() + 1
        warehouse.setSyncedTime(TemporalValues.nowUTC())
        while true {
            let message = try nextControlMessage(timeout: options.idleTimeout, waitingFor: Method.update, applyingRecordsWith: applier)
            let now = monotonicSeconds()
            if now >= nextProgress {
                nextProgress = now + 1
                warehouse.setSyncedTime(TemporalValues.nowUTC())
                console.progress(warehouse.counts, elapsed: elapsed)
            }
            guard let message else {
                if applier.limitReached { return .limited }
                continue
            }
            switch message {
            case .response(let answerID, _) where answerID == id:
                updatePending = false
                return .answered
            case .errorResponse(let answerID, let error) where answerID == id || answerID == nil:
                updatePending = false
                throw connectorError(method: Method.update, error)
            case .request(let checkpointID, Method.checkpoint, let params):
                try checkpoint(id: checkpointID, params: params, line: lineNumber)
                applier.resetCaches()
                if options.stopsAfterCheckpoint { return .limited }
            default:
                try handleUnsolicited(message, during: Method.update)
            }
        }
    }

    /// Commits the data and `params.state` together, mirrors the state file, then answers.
    ///
    /// The state file's new content is written (and synced) before the commit, so a full disk fails
    /// the checkpoint before anything is committed; after the commit only a rename is left.
    func checkpoint(id: RequestID, params: JSONValue, line: Int) throws(SyncFailure) {
        let label = "checkpoint \(shown(id)) (stdout line \(line))"
        let state: JSONValue
        do throws(InvalidParams) { state = try CheckpointRequest(params: params).state } catch {
            answerCheckpoint(id, RPCError(.invalidParams, error.reason))
            throw SyncFailure(
                .protocolViolation, "\(label) \(error.problem); send {\"state\": {...}} with the complete state as a JSON object",
                details: ["line": String(line)])
        }
        // With tables selected from a connector that cannot select them, the data is committed but
        // the state stays: the connector's would claim rows of the tables the host skipped.
        let text = heldState ?? JSONWriter.string(state)
        if let problem = workspace?.problem() {
            answerCheckpoint(id, RPCError(.internalError, "the host could not commit the checkpoint"))
            throw SyncFailure(.warehouse, "\(problem); \(label) was not committed to it. Run again")
        }
        var prepared: PreparedState?
        if options.mirrorsState == true {
            do { prepared = try options.files.prepareState(text) } catch {
                answerCheckpoint(id, RPCError(.internalError, "the host could not write its state file"))
                throw SyncFailure(
                    .warehouse,
                    "\(error.message); \(label) was not committed, so the warehouse and the state stay at the previous checkpoint. Free some disk space (or fix the folder's permissions) and run again"
                )
            }
        }
        do { try warehouse.checkpoint(state: text, mirror: prepared.map { (options.files.state, $0.identity) }) } catch {
            prepared?.discard()
            answerCheckpoint(id, RPCError(.internalError, "the host could not commit the checkpoint"))
            throw warehouseFailure(error, while: "committing \(label)")
        }
        if let prepared {
            do { try options.files.commitState(prepared) } catch {
                throw SyncFailure(
                    .warehouse,
                    "\(error.message); \(label) is committed in the warehouse, which holds the state: the next run resumes from it and repairs \(options.files.state)"
                )
            }
        }
        try send(
            .response(id: id, result: EmptyResult().json), timeout: options.idleTimeout, "the answer to its \(label)",
            consequence: "; that checkpoint is committed, so the next run resumes from its state")
        do { try warehouse.beginTransaction() } catch {
            throw warehouseFailure(error, while: "starting the transaction after \(label)")
        }
    }

    /// Answers a checkpoint the host refuses, if the connector still listens (it is stopped right after).
    func answerCheckpoint(_ id: RequestID, _ error: RPCError) {
        var writer = self.writer
        writer?.timeout = 0
        recorder?.host(.errorResponse(id: id, error: error))
        try? writer?.send(.errorResponse(id: id, error: error))
    }
}
