import ConnectorProtocol
import Foundation

/// A short session for one request other than `update` (`test`, `configurationForm`): the connector
/// is started, initialized, asked, shut down. Logs and warnings it sends meanwhile go to the console.
///
/// Confined to the calling thread, which it blocks (pipes are blocking I/O); the connector's stderr
/// is read on a thread of its own. Everything the connector says is masked by the secret mask (the
/// console is a ``MaskingConsole`` of the same mask), as in a sync.
final class ControlSession {
    let plan: LaunchPlan
    let console: any SyncConsole
    /// The secrets masked: the configuration's, and the `secretKeys` of the connector's `initialize` result.
    let secretMask: SecretMask
    var redactor: Redactor { secretMask.redactor }
    let timeout: Double
    let grace: Double
    let cancellation: CancellationSignal
    private let connection: ConnectorConnection
    private var writer: LineWriter
    private var nextID: Int64 = 1

    /// Starts the connector of `plan` (already built).
    /// - Throws: ``SyncFailure`` of kind `launch` when it cannot be started.
    init(
        plan: LaunchPlan, console: any SyncConsole, secretMask: SecretMask, timeout: Double, grace: Double, cancellation: CancellationSignal
    ) throws(SyncFailure) {
        self.plan = plan
        self.console = console
        self.secretMask = secretMask
        self.timeout = timeout
        self.grace = grace
        self.cancellation = cancellation
        let name = plan.name
        do {
            // The collector masks the configuration's secrets before it cuts a line; the console masks
            // each line again with the secret keys known when it shows it.
            connection = try ConnectorConnection(plan: plan, maximumLineLength: 64 << 20, redactor: secretMask.redactor) { line in
                console.connectorLog(name, level: nil, line)
            }
        } catch {
            throw SyncFailure(.launch, "\(error)")
        }
        connection.reader.wakeDescriptor = cancellation.wakeDescriptor
        writer = connection.writer
        writer.wakeDescriptor = cancellation.wakeDescriptor
        writer.timeout = timeout
    }

    /// `initialize`, with the version checked; the `secretKeys` it declares are masked from then on.
    func initialize(configuration: JSONObject) throws(SyncFailure) -> InitializeResult {
        let request = InitializeRequest(host: SyncRunner.host, configuration: configuration)
        let answer = try self.answer(request)
        // Read from the answer as sent: a secretKeys of the wrong shape is noted, not dropped silently.
        if let note = secretMask.accept(initializeResult: answer) { console.note(note) }
        let result = try decode(answer, of: request)
        guard ProtocolVersion.supported.contains(Int(result.protocolVersion)) else {
            throw SyncFailure(
                .protocolViolation,
                "the connector speaks protocol version \(result.protocolVersion), this host speaks \(ProtocolVersion.supported.sorted().map(String.init).joined(separator: ", ")); update the connector's SDK or the host"
            )
        }
        return result
    }

    /// Sends a request and waits for its answer, showing the logs and warnings that come meanwhile.
    /// - Throws: ``SyncFailure`` when the connector answers with an error or a result of the wrong
    ///   shape, exits, times out, is cancelled, or sends something that is not the protocol.
    func call<Request: ProtocolRequest>(_ request: Request) throws(SyncFailure) -> Request.Result {
        try decode(try answer(request), of: request)
    }

    /// The typed result of an answer.
    private func decode<Request: ProtocolRequest>(_ answer: JSONValue, of request: Request) throws(SyncFailure) -> Request.Result {
        do { return try Request.Result(json: answer) } catch {
            throw SyncFailure(.protocolViolation, "\(error.reason) (PROTOCOL.md section 5)")
        }
    }

    /// Sends a request and returns its answer as sent (see ``call(_:)``).
    private func answer<Request: ProtocolRequest>(_ request: Request) throws(SyncFailure) -> JSONValue {
        let method = Request.method
        let id = RequestID.number(nextID)
        nextID += 1
        do { try writer.send(.request(id: id, request)) } catch {
            if error.errno == ECANCELED { throw cancelled(during: method) }
            throw SyncFailure(.connectorExited, "the connector stopped reading its stdin before its \(method) request; \(exitNote())")
        }
        let deadline = monotonicSeconds() + timeout
        while true {
            let line: UnsafeBufferPointer<UInt8>?
            do { line = try connection.reader.nextLine(timeout: max(0, deadline - monotonicSeconds())) } catch {
                switch error {
                case .timedOut:
                    throw SyncFailure(
                        .timeout, "the connector did not answer \(method) within \(HumanText.seconds(timeout)); it was stopped")
                case .interrupted: throw cancelled(during: method)
                default:
                    throw SyncFailure(
                        .connectorExited, "reading the connector's stdout failed while waiting for its \(method) answer: \(error)")
                }
            }
            guard let line else {
                throw SyncFailure(.connectorExited, "the connector closed its stdout before answering \(method); \(exitNote())")
            }
            let message: Message
            do { message = try Message(json: try JSONParser.parse(line, maximumDepth: 64)) } catch {
                throw SyncFailure.atLine(
                    connection.reader.lineNumber,
                    "is not a JSON-RPC 2.0 message: \(redactor.preview(line)); stdout carries protocol messages only, print and log to stderr"
                )
            }
            switch message {
            case .response(let answerID, let result) where answerID == id:
                return result
            case .errorResponse(let answerID, let error) where answerID == id || answerID == nil:
                if error.code == .methodNotFound {
                    throw SyncFailure(
                        .connectorError,
                        "the connector has no \(method) method (error -32601: \(redactor.show(error.message, limit: 2000)))")
                }
                throw SyncFailure(
                    .connectorError, "the connector failed in \(method): \(redactor.show(error.message, limit: 4000)) [error \(error.code)]"
                )
            case .notification(LogNotification.method, let params):
                let log = LogNotification(params: params)
                console.connectorLog(plan.name, level: log.level ?? .info, log.message)
            case .notification(WarningNotification.method, let params):
                console.connectorLog(plan.name, level: .warning, WarningNotification(params: params).message)
            case .notification:
                continue
            case .request(let requestID, let name, _):
                try? writer.send(.errorResponse(id: requestID, error: RPCError(.methodNotFound, "\(name) is not allowed during \(method)")))
            case .response, .errorResponse:
                throw SyncFailure.atLine(
                    connection.reader.lineNumber, "answers a request the host did not send; answer each request with its id")
            }
        }
    }

    /// `shutdown` (when the connector still listens), then the end of stdin; a connector that does
    /// not exit within the grace period is stopped.
    func finish() {
        if !cancellation.isCancelled {
            writer.timeout = grace
            _ = try? call(ShutdownRequest())
        } else {
            var quick = writer
            quick.timeout = 0
            try? quick.send(.notification(CancelNotification(reason: cancellation.reason?.connectorReason ?? "the host stopped")))
        }
        connection.process.closeInput()
        if connection.process.wait(timeout: grace) == nil { _ = connection.process.terminate(grace: grace) }
        _ = connection.process.endGroup(grace: grace, hurry: { false })
        connection.stderr.waitUntilFinished(timeout: 1)
    }

    private func cancelled(during method: String) -> SyncFailure {
        let reason = cancellation.reason ?? .interrupt
        return SyncFailure(
            .cancelled, "cancelled (\(reason.explanation)) while waiting for the connector's \(method) answer", cancellation: reason)
    }

    private func exitNote() -> String {
        connection.process.wait(timeout: grace).map { "the connector \($0)" } ?? "the connector is still running"
    }
}
