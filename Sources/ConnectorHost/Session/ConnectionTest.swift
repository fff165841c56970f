import ConnectorProtocol
import Foundation

/// What `connector-host test` needs to know.
public struct ConnectionTestOptions: Sendable {
    /// The connector directory.
    public var directory: String
    /// The configuration file; default `DIR/configuration.json` when it exists.
    public var configurationPath: String?
    /// Whether to run the connector's build step first.
    public var build = true
    /// Seconds allowed for `initialize` and for `test` each.
    public var timeout: Double = 60
    /// Seconds between closing stdin, SIGTERM and SIGKILL when stopping the connector.
    public var gracePeriod: Double = 5

    public init(directory: String, configurationPath: String? = nil) {
        self.directory = FilePaths.absolute(directory)
        self.configurationPath = configurationPath
    }
}

/// The outcome of `connector-host test`.
public struct ConnectionTestReport: Sendable {
    public var connector: String
    /// The connector's verdict (`ok` of the `test` result), when it answered.
    public var ok: Bool?
    /// The connector's message, or why the test could not run.
    public var message: String
    /// Why the test could not run (launch, protocol, no capability), or `nil` when the connector answered.
    public var failure: SyncFailure?

    /// 0 when the connection works, 2 for a mistake of the command line (no such folder, no
    /// connector in it, an unreadable configuration), 1 otherwise.
    public var exitCode: Int32 { ok == true ? 0 : failure?.exitCode ?? 1 }
}

/// Runs a connector's connection test: `initialize`, `test`, `shutdown` (PROTOCOL.md 4 and 5.3).
///
/// For an Airbyte source behind the adapter the test is its `check`; for a Singer tap, its discovery.
/// Blocks the calling thread; the connector's stderr and `log` messages go to `console`, with its
/// secrets (and the `secretKeys` it declares) masked.
public enum ConnectionTest {
    public static func run(_ options: ConnectionTestOptions, console: any SyncConsole) -> ConnectionTestReport {
        var report = ConnectionTestReport(connector: URL(fileURLWithPath: options.directory).lastPathComponent, message: "")
        do throws(SyncFailure) {
            let plan: LaunchPlan
            do { plan = try ConnectorLauncher.plan(directory: options.directory) } catch {
                throw SyncFailure(.launch, error.message, isUsageError: error.isUsageError)
            }
            report.connector = plan.name
            let configuration = try SyncRunner.loadConfiguration(
                SyncOptions(directory: options.directory, configurationPath: options.configurationPath))
            if options.build, plan.buildCommand != nil {
                console.note("building \(plan.name): \(plan.buildSummary ?? plan.buildCommand!.joined(separator: " "))")
                do { try ConnectorLauncher.build(plan, log: { console.note("  " + $0) }) } catch {
                    throw SyncFailure(.launch, error.message)
                }
            }
            let conversation = try TestConversation(plan: plan, configuration: configuration, options: options, console: console)
            defer { conversation.stop() }
            let result = try conversation.run()
            report.ok = result.ok
            report.message = result.message
        } catch {
            report.failure = error
            report.message = error.message
        }
        return report
    }
}

/// One connector process answering `initialize` and `test`.
private final class TestConversation {
    let plan: LaunchPlan
    let configuration: JSONObject
    let options: ConnectionTestOptions
    let console: any SyncConsole
    let mask: SecretMask
    let connection: ConnectorConnection
    private var nextID: Int64 = 1

    init(plan: LaunchPlan, configuration: JSONObject, options: ConnectionTestOptions, console: any SyncConsole) throws(SyncFailure) {
        self.plan = plan
        self.configuration = configuration
        self.options = options
        let mask = SecretMask(configuration: configuration)
        self.mask = mask
        // The console masks, cuts and escapes what the connector writes, as a sync's does.
        let console = MaskingConsole(base: console, secretMask: mask)
        self.console = console
        let name = plan.name
        do {
            connection = try ConnectorConnection(plan: plan, maximumLineLength: 64 << 20, redactor: mask.redactor) { line in
                console.connectorLog(name, level: nil, line)
            }
        } catch {
            throw SyncFailure(.launch, "\(error)")
        }
    }

    func run() throws(SyncFailure) -> (ok: Bool, message: String) {
        let initialize = try request(InitializeRequest(host: SyncRunner.host, configuration: configuration))
        if let note = mask.accept(initializeResult: initialize) { console.note(note) }
        guard initialize["capabilities"]?["test"]?.boolValue == true else {
            throw SyncFailure(
                .connectorError,
                "the connector has no connection test (its initialize result says capabilities.test is not true); run it with `connector-host run` to check its configuration"
            )
        }
        let result = try request(TestRequest(configuration: configuration))
        guard let ok = result["ok"]?.boolValue, let message = result["message"]?.stringValue else {
            throw SyncFailure(
                .protocolViolation,
                "the connector's test result needs a boolean \"ok\" and a string \"message\", got \(JSONWriter.string(result).prefix(200))")
        }
        _ = try? request(ShutdownRequest())
        return (ok, mask.redactor.show(message, limit: 2000))
    }

    /// Sends a request and reads until its answer, showing logs on the way.
    private func request<Request: ProtocolRequest>(_ request: Request) throws(SyncFailure) -> JSONValue {
        let method = Request.method
        let id = RequestID.number(nextID)
        nextID += 1
        var writer = connection.writer
        writer.timeout = options.timeout
        do { try writer.send(.request(id: id, request)) } catch {
            throw SyncFailure(.connectorExited, "the connector exited before it read its \(method) request\(stderrTail)")
        }
        let deadline = monotonicSeconds() + options.timeout
        while true {
            let line: UnsafeBufferPointer<UInt8>?
            do { line = try connection.reader.nextLine(timeout: max(0, deadline - monotonicSeconds())) } catch {
                if case .timedOut = error {
                    throw SyncFailure(.timeout, "the connector did not answer \(method) within \(HumanText.seconds(options.timeout))")
                }
                throw SyncFailure(.connectorExited, "the connector's stdout ended before it answered \(method)\(stderrTail)")
            }
            guard let line else {
                throw SyncFailure(.connectorExited, "the connector \(connection.process.wait()) before answering \(method)\(stderrTail)")
            }
            let message: Message
            do { message = try Message(json: JSONParser.parse(line)) } catch {
                throw SyncFailure.atLine(
                    connection.reader.lineNumber, "is not a JSON-RPC message (\(error)): \(mask.redactor.preview(line)); stdout carries protocol messages only")
            }
            switch message {
            case .response(let answerID, let result) where answerID == id: return result
            case .errorResponse(let answerID, let error) where answerID == id || answerID == nil:
                throw SyncFailure(
                    .connectorError, "the connector failed in \(method): \(mask.redactor.show(error.message, limit: 4000)) [error \(error.code)]\(stderrTail)")
            case .notification(Method.log, let params):
                let level = params["level"]?.stringValue.flatMap(LogLevel.init(wireName:)) ?? .info
                console.connectorLog(plan.name, level: level, params["message"]?.stringValue ?? "")
            case .request(let requestID, let name, _):
                try? writer.send(
                    .errorResponse(id: requestID, error: RPCError(.methodNotFound, "the host has no method \"\(name)\" during \(method)")))
            default:
                continue
            }
        }
    }

    private var stderrTail: String {
        connection.stderr.waitUntilFinished(timeout: 0.5)
        let lines = connection.stderr.lastLines.suffix(10)
        guard !lines.isEmpty else { return "" }
        return "\n  last lines of the connector's stderr:\n" + lines.map { "    " + mask.redactor.show($0, limit: 2000) }.joined(separator: "\n")
    }

    func stop() {
        connection.process.closeInput()
        if connection.process.wait(timeout: options.gracePeriod) == nil { connection.process.terminate(grace: options.gracePeriod) }
        connection.stderr.waitUntilFinished(timeout: 1)
    }
}
