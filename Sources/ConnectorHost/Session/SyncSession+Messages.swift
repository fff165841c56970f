import ConnectorProtocol
import Foundation

extension SyncSession {

    /// Sends one message.
    /// - Parameters:
    ///   - timeout: how long a connector that does not read its stdin may hold the host.
    ///   - purpose: what the connector was to read, for the message when it cannot (e.g. "its update request").
    ///   - consequence: a sentence to add when the connector is gone.
    func send(_ message: Message, timeout: Double, _ purpose: @autoclosure () -> String, consequence: String = "")
        throws(SyncFailure)
    {
        guard var writer else { return }
        recorder?.host(message)
        writer.timeout = timeout
        do {
            // While stdin is full, what the connector writes to stdout is read into the reader's
            // buffer (up to a line's limit): a connector that logs before it reads never deadlocks.
            if let reader {
                try writer.send(message, draining: reader, limit: max(options.maximumLineLength, 1 << 20))
            } else {
                try writer.send(message)
            }
        } catch {
            switch error.errno {
            case ECANCELED: throw cancelledFailure
            case ETIMEDOUT:
                throw SyncFailure(
                    .timeout,
                    "the connector did not read its stdin for \(HumanText.seconds(timeout)) while the host was sending \(purpose()); it was stopped. A connector must keep reading stdin (a full pipe blocks the host)"
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
    /// - Returns: the result, for the caller to read with `Request.Result(json:)`.
    func request<Request: ProtocolRequest>(_ request: Request, timeout: Double) throws(SyncFailure) -> JSONValue {
        let method = Request.method
        let id = RequestID.number(nextRequestID)
        sentRequests[nextRequestID] = method
        nextRequestID += 1
        let deadline = monotonicSeconds() + timeout
        try send(.request(id: id, request), timeout: timeout, "its \(method) request")
        while true {
            let remaining = max(0, deadline - monotonicSeconds())
            guard let message = try nextControlMessage(timeout: remaining, waitingFor: method) else { continue }
            switch message {
            case .response(let answerID, let result) where answerID == id: return result
            case .errorResponse(let answerID, let error) where answerID == id || answerID == nil:
                throw connectorError(method: method, error)
            default:
                try handleUnsolicited(message, during: method)
            }
        }
    }

    /// Reads one line; a `records` batch is applied with `applier` (the hot path) and gives `nil`,
    /// any other line is parsed as a control message (the cold path) and returned. Without an
    /// applier (outside update) every line takes the control path.
    func nextControlMessage(timeout: Double, waitingFor method: String, applyingRecordsWith applier: RecordApplier<Store>? = nil)
        throws(SyncFailure)
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
        recorder?.connector(line)
        var scannerError: JSONSyntaxError?
        if let applier {
            do {
                if try applier.applyIfRecords(line, lineNumber: lineNumber) == .records { return nil }
            } catch {
                scannerError = try recordsFailure(error)
            }
        }
        return try controlMessage(line, scannerError: scannerError)
    }

    /// The failure for an error applying a records line; a syntax error is returned instead, for the
    /// control path to classify.
    func recordsFailure(_ error: any Error) throws(SyncFailure) -> JSONSyntaxError {
        switch error {
        case let error as InvalidOperation: throw error.failure(redacting: redactor)
        // Classified by the tree parser: valid JSON that is not an object gets a better message than a
        // syntax error. (Any ops applied before the error are rolled back.)
        case let error as JSONSyntaxError: return error
        case let error as Store.Failure: throw warehouseFailure(error, while: "applying stdout line \(lineNumber)")
        default:
            throw SyncFailure(.warehouse, "the warehouse \(warehouse.location) failed at stdout line \(lineNumber): \(error)")
        }
    }

    /// A control message, from the tree parser; `scannerError` is the record scanner's view of the line.
    func controlMessage(_ line: UnsafeBufferPointer<UInt8>, scannerError: JSONSyntaxError?) throws(SyncFailure) -> Message {
        let json: JSONValue
        do { json = try JSONParser.parse(line, maximumDepth: Self.maximumDepth) } catch {
            throw notJSONFailure(line, lineNumber, scannerError ?? error)
        }
        let message: Message
        do { message = try Message(json: json) } catch {
            throw SyncFailure.atLine(lineNumber, "is not a JSON-RPC 2.0 message: \(error.reason): \(redactor.preview(line))")
        }
        if let scannerError {
            // Valid JSON-RPC that the record scanner still refused (a member twice in the params).
            throw SyncFailure.atLine(lineNumber, "is not a valid records message: \(scannerError): \(redactor.preview(line))")
        }
        return message
    }

    /// A request id the connector chose, for a message: masked, cut, control characters escaped.
    func shown(_ id: RequestID) -> String {
        switch id {
        case .number(let number): String(number)
        case .string(let text): "\"" + redactor.show(text, limit: 100) + "\""
        }
    }

    /// A response whose id is not the pending request's: a second answer, or an id the host never used.
    func strayResponse(_ id: RequestID) -> SyncFailure {
        let line = lineNumber
        if case .number(let number) = id, let method = sentRequests[number] {
            return SyncFailure.atLine(line, "answers the host's request \(id) (\(method)) a second time; answer each request exactly once")
        }
        return SyncFailure.atLine(
            line, "answers request id \(shown(id)), which the host never sent; a response must carry the id of the host's pending request")
    }

    func handleUnsolicited(_ message: Message, during method: String) throws(SyncFailure) {
        switch message {
        case .notification(LogNotification.method, let params):
            let log = LogNotification(params: params)
            console.connectorLog(plan.name, level: log.level ?? .info, log.message)
        case .notification(WarningNotification.method, let params):
            warning(params)
        case .notification(Method.records, _):
            throw SyncFailure(.protocolViolation, "the connector sent records during \(method); records belong inside update")
        case .notification(let name, _):
            if ignoredNotifications.insert(name).inserted {
                console.note("ignoring unknown notification \(HumanText.quoted(redactor.show(name, limit: 200))) from the connector")
            }
        case .request(let id, Method.checkpoint, _):
            throw SyncFailure(
                .protocolViolation, "the connector sent a checkpoint (id \(shown(id))) during \(method); checkpoints belong inside update")
        case .request(let id, let name, _):
            try send(
                .errorResponse(id: id, error: RPCError(.methodNotFound, "the host has no method \"\(name)\"")),
                timeout: options.idleTimeout,
                "the answer to its request \(shown(id)) (\(HumanText.quoted(redactor.show(name, limit: 200))))")
        case .response(let id, _), .errorResponse(let id?, _):
            throw strayResponse(id)
        case .errorResponse(nil, let error):
            throw connectorError(method: method, error)
        }
    }

    /// The first ten warnings of a sync shown in full (as Fivetran's dashboard shows them), every one
    /// counted; the end of the sync says how many were not shown.
    func warning(_ params: JSONValue) {
        warehouse.counts.warnings += 1
        let message = redactor.mask(WarningNotification(params: params).message)
        if warehouse.syncWarnings.count < Self.warningsShown {
            warehouse.syncWarnings.append(message)
            console.connectorLog(plan.name, level: .warning, message)
        }
    }

    /// How many warnings of a sync are shown in full.
    static var warningsShown: Int { 10 }

    /// The line that says how many warnings were not shown, if any were not.
    var unshownWarningsNote: String? {
        let hidden = warehouse.counts.warnings - warehouse.syncWarnings.count
        return hidden > 0
            ? "\(hidden) more warning\(hidden == 1 ? "" : "s") from the connector \(hidden == 1 ? "was" : "were") not shown (the first \(Self.warningsShown) of a sync are)"
            : nil
    }
}
