import ConnectorProtocol
import Foundation

/// What the suite observed across all sessions, for the checks that look at every message.
final class ConformanceEvidence {
    /// Lines on stdout that were not JSON-RPC 2.0 objects (``ConformanceCheck/stdout``).
    var stdoutProblems: [String] = []
    var stdoutLines = 0
    /// Responses whose id did not match the request they answered (``ConformanceCheck/responseIDs``).
    var idProblems: [String] = []
    var responses = 0
    /// Answers to the suite's unknown notification (``ConformanceCheck/unknownNotification``).
    var notificationReplies: [String] = []
    /// Operations that broke the protocol (``ConformanceCheck/records``).
    var recordProblems: [String] = []
    /// Checkpoint misuse (``ConformanceCheck/update``).
    var checkpointProblems: [String] = []
    /// Malformed `warning` notifications (``ConformanceCheck/warnings``), and how many arrived.
    var warningProblems: [String] = []
    var warnings = 0
}

/// What the suite read from the connector.
enum Incoming {
    case message(Message)
    /// Nothing arrived in time.
    case timedOut(Double)
    /// stdout reached its end; the text says how the process ended.
    case ended(String)
}

/// The answer to one request.
enum Answer {
    case result(JSONValue)
    case error(RPCError)
    /// No answer: timed out or the connector stopped; the text says which ("got no answer within 2 s").
    case none(String)

    /// What happened to the request, to follow its name in a reason: "schema was answered with error
    /// -32601 (method not found): …", "shutdown got no answer: the connector exited with status 0 first".
    /// The connector's text is masked by `redactor` before it is cut.
    func summary(masking redactor: Redactor) -> String {
        switch self {
        case .result(let result): "was answered with the result \(ConformanceSession.excerpt(result, masking: redactor))"
        case .error(let error): "was answered with error \(error.code): \"\(redactor.show(error.message, limit: 2000))\""
        case .none(let reason): reason
        }
    }
}

/// One connector process driven by the conformance suite: a tolerant protocol client that records
/// everything it sees, so that each check judges its own evidence and one broken behaviour does not
/// fail every check.
///
/// Tolerant means: a line that is not JSON-RPC is recorded and skipped; an answer with the wrong id
/// is recorded and taken as the answer of the one pending request (the host never has two).
/// Confined to the suite's thread.
final class ConformanceSession {
    let name: String
    let evidence: ConformanceEvidence
    private let connection: ConnectorConnection
    private var nextID: Int64 = 1
    private var queued: [Incoming] = []
    private var ended: String?
    /// Every line of the session in wire order, in the transcript format of protocol/conformance/README.md.
    private(set) var transcript: [JSONValue] = []
    /// When set, an error response without an id is counted as an answer to this notification.
    var pendingNotification: String?
    /// Called with every `records` line (raw bytes, stdout line number) before it is parsed.
    var recordsLine: ((UnsafeBufferPointer<UInt8>, Int) -> Void)?

    /// Masks the configuration's secrets in what the session records about the connector's output.
    let redactor: Redactor

    init(
        name: String, plan: LaunchPlan, evidence: ConformanceEvidence, redactor: Redactor,
        stderrLine: @escaping @Sendable (String) -> Void
    ) throws(SpawnError) {
        self.name = name
        self.evidence = evidence
        self.redactor = redactor
        connection = try ConnectorConnection(plan: plan, maximumLineLength: 64 << 20, redactor: redactor, stderrLine: stderrLine)
    }

    // MARK: Sending

    /// Sends one message; false when the connector's stdin is closed.
    @discardableResult
    func send(_ message: Message, check: ConformanceCheck? = nil) -> Bool {
        record("host->connector", message: message, check: check)
        do { try connection.writer.send(message) } catch { return false }
        return true
    }

    /// Sends a request with the next id.
    func sendRequest(_ method: String, _ params: JSONValue, check: ConformanceCheck? = nil) -> RequestID {
        let id = RequestID.number(nextID)
        nextID += 1
        send(.request(id: id, method: method, params: params), check: check)
        return id
    }

    /// Sends a request and waits for its answer, handling what arrives meanwhile.
    func call(_ method: String, _ params: JSONValue, timeout: Double, check: ConformanceCheck? = nil) -> Answer {
        let id = sendRequest(method, params, check: check)
        return awaitAnswer(to: id, method: method, timeout: timeout)
    }

    /// Reads until the answer to request `id` arrives.
    func awaitAnswer(to id: RequestID, method: String, timeout: Double) -> Answer {
        while true {
            switch next(timeout: timeout) {
            case .timedOut(let seconds):
                return .none("got no answer within \(HumanText.seconds(seconds))")
            case .ended(let how):
                return .none("got no answer: \(how) first")
            case .message(let message):
                switch message {
                case .response(let answerID, let result):
                    noteAnswer(answerID, expected: id, method: method)
                    return .result(result)
                case .errorResponse(nil, let error) where pendingNotification != nil:
                    evidence.notificationReplies.append(
                        "\(name): the notification \(pendingNotification!) was answered with error \(error.code)")
                    pendingNotification = nil
                case .errorResponse(let answerID, let error):
                    noteAnswer(answerID, expected: id, method: method)
                    return .error(error)
                default:
                    handleOutsideUpdate(message, during: method)
                }
            }
        }
    }

    /// Counts an answer to request `id`, noting it when it carried another id.
    func noteAnswer(_ answerID: RequestID?, expected id: RequestID, method: String) {
        evidence.responses += 1
        guard answerID != id else { return }
        let got = answerID.map { "id \(Self.jsonText($0.json))" } ?? "no id (null)"
        evidence.idProblems.append("\(name): the answer to \(method) (id \(Self.jsonText(id.json))) carried \(got)")
    }

    /// Messages that may arrive while a request other than `update` is pending.
    func handleOutsideUpdate(_ message: Message, during method: String) {
        switch message {
        case .notification(Method.records, _):
            evidence.recordProblems.append("\(name): records arrived while \(method) was pending; records belong inside update")
        case .request(let id, Method.checkpoint, _):
            evidence.checkpointProblems.append(
                "\(name): a checkpoint arrived while \(method) was pending; checkpoints belong inside update")
            send(.errorResponse(id: id, error: RPCError(.invalidRequest, "checkpoint is only allowed while update is pending")))
        case .request(let id, let other, _):
            send(.errorResponse(id: id, error: RPCError(.methodNotFound, "the host has no method \"\(other)\"")))
        case .response(let id, _), .errorResponse(let id?, _):
            evidence.responses += 1
            evidence.idProblems.append(
                "\(name): an answer with id \(Self.jsonText(id.json)) arrived, but no request with that id was pending")
        case .errorResponse(nil, _):
            evidence.idProblems.append("\(name): an error response without an id arrived, but every request sent had a valid id")
        case .notification:
            break  // log, and notifications the host does not know: ignored, as the host does.
        }
    }

    // MARK: Receiving

    /// The next message, skipping (and recording) lines that are not JSON-RPC messages.
    func next(timeout: Double) -> Incoming {
        if !queued.isEmpty { return queued.removeFirst() }
        if let ended { return .ended(ended) }
        let reader = connection.reader
        while true {
            let line: UnsafeBufferPointer<UInt8>?
            do throws(LineReadError) {
                line = try reader.nextLine(timeout: timeout)
            } catch {
                switch error {
                case .timedOut: return .timedOut(timeout)
                case .partialLineAtEOF(let number, let prefix):
                    stdoutProblem(line: number, "ends without a newline (the connector stopped mid-message)", redactor.preview(prefix))
                    return end()
                case .lineTooLong(let number, let limit):
                    stdoutProblem(line: number, "is longer than \(limit) bytes", "")
                    return end()
                case .interrupted, .system:
                    return end()
                }
            }
            guard let line else { return end() }
            evidence.stdoutLines += 1
            let json: JSONValue
            do { json = try JSONParser.parse(line, maximumDepth: 64) } catch {
                stdoutProblem(line: reader.lineNumber, "is not valid JSON (\(error))", redactor.preview(line))
                transcript.append([
                    "dir": "connector->host", "invalid": .string(String(decoding: redactor.mask(Array(line)).prefix(200), as: UTF8.self)),
                ])
                continue
            }
            let message: Message
            do { message = try Message(json: json) } catch {
                stdoutProblem(line: reader.lineNumber, "is not a JSON-RPC 2.0 message (\(error.reason))", redactor.preview(line))
                transcript.append([
                    "dir": "connector->host", "invalid": .string(String(decoding: redactor.mask(Array(line)).prefix(200), as: UTF8.self)),
                ])
                continue
            }
            if case .notification(Method.records, _) = message, let recordsLine { recordsLine(line, reader.lineNumber) }
            if case .notification(Method.warning, let params) = message { judgeWarning(params, line: reader.lineNumber) }
            record("connector->host", message: message, check: nil)
            return .message(message)
        }
    }

    /// Puts a message back, to be returned by the next ``next(timeout:)``.
    func requeue(_ incoming: Incoming) { queued.append(incoming) }

    /// Marks the last recorded connector line as the one a check judged.
    func markLast(_ check: ConformanceCheck) {
        guard let index = transcript.lastIndex(where: { $0["dir"] == "connector->host" }), case .object(var entry) = transcript[index]
        else { return }
        entry["check"] = .string(check.rawValue)
        transcript[index] = .object(entry)
    }

    /// A `warning` must carry `{"message": "..."}`, non-empty (PROTOCOL.md 5.7a).
    private func judgeWarning(_ params: JSONValue, line: Int) {
        evidence.warnings += 1
        if let message = params["message"]?.stringValue, !message.isEmpty { return }
        let found = params["message"].map { "its message is \(Self.excerpt($0, masking: redactor))" } ?? "it has no message"
        evidence.warningProblems.append(
            "\(name): the warning notification of stdout line \(line) is not {\"message\": \"...\"}: \(found); send the warning's text as a non-empty string (PROTOCOL.md 5.7a)"
        )
    }

    private func stdoutProblem(line: Int, _ what: String, _ preview: String) {
        evidence.stdoutProblems.append("\(name): stdout line \(line) \(what)" + (preview.isEmpty ? "" : ": \(preview)"))
    }

    private func end() -> Incoming {
        let how = connection.process.wait(timeout: 1).map { "the connector \($0)" } ?? "the connector closed its stdout"
        ended = how
        return .ended(how)
    }

    private func record(_ direction: String, message: Message, check: ConformanceCheck?) {
        var entry: JSONObject = ["dir": .string(direction), "message": message.json]
        if let check { entry["check"] = .string(check.rawValue) }
        transcript.append(.object(entry))
    }

    // MARK: Ending

    /// Records that the host deliberately sends nothing for `seconds`.
    func pause(_ seconds: Double) {
        transcript.append(["dir": "host->connector", "pause": .number(JSONNumber(seconds))])
    }

    /// Closes the connector's stdin (EOF).
    func closeInput() {
        transcript.append(["dir": "host->connector", "close": "stdin"])
        connection.process.closeInput()
    }

    /// Waits up to `timeout` seconds for the process to exit, reading (and recording) its stdout
    /// meanwhile so that it never blocks on a full pipe.
    /// - Returns: the exit status and the seconds waited, or `nil` status when it is still running.
    func waitForExit(timeout: Double, check: ConformanceCheck? = nil) -> (status: ExitStatus?, seconds: Double) {
        let start = monotonicSeconds()
        let deadline = start + timeout
        draining: while ended == nil {
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { break }
            switch next(timeout: remaining) {
            case .ended, .timedOut: break draining
            case .message: continue
            }
        }
        let status = connection.process.wait(timeout: max(0, deadline - monotonicSeconds()))
        if let status {
            var entry: JSONObject = ["dir": "connector->host"]
            switch status {
            case .exited(let code): entry["exit"] = .number(JSONNumber(Int(code)))
            case .signaled(let signal): entry["signal"] = .number(JSONNumber(Int(signal)))
            }
            if let check { entry["check"] = .string(check.rawValue) }
            transcript.append(.object(entry))
        }
        return (status, monotonicSeconds() - start)
    }

    /// Makes sure the process is gone: closes stdin, then SIGTERM and SIGKILL after `grace` each.
    func stop(grace: Double) {
        if connection.process.wait(timeout: 0) == nil { connection.process.terminate(grace: grace) }
        connection.stderr.waitUntilFinished(timeout: 1)
    }

    /// The process's exit status, if it has exited.
    var exitStatus: ExitStatus? { connection.process.wait(timeout: 0) }

    // MARK: Text

    static func jsonText(_ value: JSONValue) -> String { JSONWriter.string(value) }

    /// Compact JSON, its secrets masked by `redactor`, then cut to 120 characters.
    static func excerpt(_ value: JSONValue, masking redactor: Redactor) -> String {
        let text = redactor.mask(JSONWriter.string(value))
        return text.count > 120 ? String(text.prefix(120)) + "…" : text
    }
}
