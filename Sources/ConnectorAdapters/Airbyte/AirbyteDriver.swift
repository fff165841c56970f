import ConnectorProtocol

/// Drives an Airbyte source (an executable speaking the Airbyte protocol: `spec`, `check`,
/// `discover`, `read`) on behalf of the host.
///
/// - `initialize`: `spec`, for the configuration keys marked `airbyte_secret`.
/// - `schema`: `check` and `discover` at once; a failed check is a configuration error before any
///   data; the discovered streams become the tables (see ``AirbyteCatalog``).
/// - `test`: `check`.
/// - `update`: `read` with the configured catalog and the merged state (``AirbyteState``); each
///   RECORD is an upsert, each STATE a checkpoint of the merged state, LOG and TRACE messages are
///   logs, a TRACE error fails the sync with the source's message. A full-refresh stream is
///   truncated when it starts (rows read again revive); at the end of a successful read the state
///   of completed full-refresh streams is dropped, so the next sync reads them whole again.
final class AirbyteDriver: SourceDriver {
    let command: [String]
    let selectedStreams: [String]?
    private var catalog: AirbyteCatalog?
    private var checked = false

    init(command: [String], selectedStreams: [String]?) {
        self.command = command
        self.selectedStreams = selectedStreams
    }

    func describe(configuration: JSONObject) throws(AdapterError) -> SourceIdentity {
        let result = try SourceCommandResult.run(command + ["spec"], echoStderr: true)
        let output = AirbyteOutput(result, log: writeLogToStandardError)
        if let error = output.traceError { throw error }
        guard let spec = output.first("SPEC")?["spec"] else {
            throw AdapterError(
                .source,
                "\(displayCommand) spec \(result.exit) without a SPEC message; is \(command[0]) an Airbyte source? Its stderr says why")
        }
        return SourceIdentity(
            name: executableName, version: "airbyte", secretKeys: AirbyteSpec.secretKeys(in: spec["connectionSpecification"] ?? [:]),
            hasConnectionTest: true)
    }

    func tables(configuration: JSONObject, log: LogSink) throws(AdapterError) -> [TableDefinition] {
        try prepare(configuration: configuration, log: log).streams.map(\.table.definition)
    }

    func test(configuration: JSONObject, log: LogSink) throws(AdapterError) -> (ok: Bool, message: String) {
        let files = try PrivateFiles()
        let result = try SourceCommandResult.run(
            command + ["check", "--config", files.store("config.json", configuration.forSource)], echoStderr: true)
        let output = AirbyteOutput(result, log: log)
        if let status = output.first("CONNECTION_STATUS")?["connectionStatus"] {
            let succeeded = status["status"]?.stringValue == "SUCCEEDED"
            return (succeeded, status["message"]?.stringValue ?? (succeeded ? "check succeeded" : "check failed"))
        }
        if let error = output.traceError { return (false, error.message) }
        throw AdapterError(.source, "\(displayCommand) check \(result.exit) without a CONNECTION_STATUS message; its stderr says why")
    }

    /// Runs `check` and `discover` (at the same time: each is a process start of seconds for a
    /// Python source) unless this process already did.
    private func prepare(configuration: JSONObject, log: LogSink) throws(AdapterError) -> AirbyteCatalog {
        if let catalog, checked { return catalog }
        let files = try PrivateFiles()
        let configurationPath = try files.store("config.json", configuration.forSource)
        let checkCommand = command + ["check", "--config", configurationPath]
        let check = Concurrent { () throws(AdapterError) in try SourceCommandResult.run(checkCommand, echoStderr: true) }
        let discovered = try SourceCommandResult.run(command + ["discover", "--config", configurationPath], echoStderr: true)
        let checkResult = try check.value()
        let checkOutput = AirbyteOutput(checkResult, log: log)
        if let status = checkOutput.first("CONNECTION_STATUS")?["connectionStatus"] {
            guard status["status"]?.stringValue == "SUCCEEDED" else {
                throw AdapterError(
                    .configuration,
                    "the source's check failed: \(status["message"]?.stringValue ?? "no message"). Fix the configuration (configuration.json) and run again; nothing was synced"
                )
            }
        } else if let error = checkOutput.traceError {
            throw error
        } else {
            throw AdapterError(
                .source, "\(displayCommand) check \(checkResult.exit) without a CONNECTION_STATUS message; its stderr says why")
        }
        checked = true
        let output = AirbyteOutput(discovered, log: log)
        if let error = output.traceError { throw error }
        guard let catalogValue = output.first("CATALOG")?["catalog"] else {
            throw AdapterError(
                .source, "\(displayCommand) discover \(discovered.exit) without a CATALOG message; its stderr says why")
        }
        let catalog = try AirbyteCatalog(catalog: catalogValue, selected: selectedStreams, log: log)
        self.catalog = catalog
        return catalog
    }

    func update(configuration: JSONObject, state stored: JSONObject, tables: [String]?, operations: OperationStream)
        throws(AdapterError)
    {
        let log: LogSink = { level, message in try? operations.log(level, message) }
        var catalog = try prepare(configuration: configuration, log: log)
        // The merged state keeps the other streams' states as they were.
        if let tables { catalog.streams.removeAll { !tables.contains($0.name) } }
        var state = try AirbyteState(stored: stored)
        let files = try PrivateFiles()
        var arguments =
            command + [
                "read", "--config", try files.store("config.json", configuration.forSource),
                "--catalog", try files.store("catalog.json", catalog.configured),
            ]
        if let argument = state.sourceArgument { arguments += ["--state", try files.store("state.json", argument)] }
        let output = try SourceOutput(arguments: arguments, connection: operations.connection, role: "the source")
        do throws(AdapterError) {
            var reading = AirbyteRead(catalog: catalog, state: state, operations: operations, output: output)
            try reading.run()
            try output.finish(unreported: "without a TRACE error message")
            state = reading.state
            for stream in catalog.streams where reading.pendingTruncates.contains(stream.name) {
                try operations.truncate(table: stream.name)
            }
            for stream in catalog.streams where !stream.incremental { state.removeStream(named: stream.name) }
            if operations.checkpoints == 0 || state != reading.checkpointed { try operations.checkpoint(state.stored) }
        } catch {
            output.stop()
            throw error
        }
    }

    private var executableName: String { SourceProcess.displayName(of: command) }
    private var displayCommand: String { executableName }
}

/// The loop of one `read`: the source's messages to operations, checkpoints and logs.
private struct AirbyteRead {
    let operations: OperationStream
    let output: SourceOutput
    var state: AirbyteState
    /// The state of the last checkpoint sent.
    var checkpointed: AirbyteState
    /// Full-refresh streams without a state to resume from: truncated when they start.
    var pendingTruncates: Set<String>
    let tables: [String: StreamTable]
    private var names = StreamNameCache()
    private var timestampColumns: [[UInt8]] = []

    init(catalog: AirbyteCatalog, state: AirbyteState, operations: OperationStream, output: SourceOutput) {
        self.operations = operations
        self.output = output
        self.state = state
        checkpointed = state
        pendingTruncates = Set(catalog.streams.filter { !$0.incremental && !state.hasState(forStream: $0.name) }.map(\.name))
        tables = Dictionary(catalog.streams.map { ($0.name, $0.table) }, uniquingKeysWith: { first, _ in first })
    }

    mutating func run() throws(AdapterError) {
        while let line = try output.nextLine() {
            var start = 0
            while start < line.count, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
            guard start < line.count else { continue }
            guard line[start] == UInt8(ascii: "{") else {
                // Airbyte's own platform logs stray stdout lines and goes on; so does the adapter.
                try operations.log(.info, "source stdout: " + String(decoding: line.prefix(2000), as: UTF8.self))
                continue
            }
            let members: [Range<Int>?]
            do { members = try MemberScanner.members(of: line, at: start, names: ["type", "record"], wholeInput: true) } catch {
                throw AdapterError(
                    .source, "the source's stdout line \(output.lineNumber) is not valid JSON (\(error)): \(Preview.of(line))")
            }
            if MemberScanner.isString(line, members[0], "RECORD") {
                try record(line, members[1])
                continue
            }
            let message: JSONValue
            do { message = try JSONParser.parse(line) } catch {
                throw AdapterError(.source, "the source's stdout line \(output.lineNumber) is not valid JSON (\(error))")
            }
            try control(message)
        }
    }

    private mutating func record(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>?) throws(AdapterError) {
        let changed: Bool
        let data: Range<Int>
        let repaired: [UInt8]?
        do throws(JSONSyntaxError) {
            guard let range, line[range.lowerBound] == UInt8(ascii: "{") else {
                throw JSONSyntaxError("a RECORD message needs a \"record\" object", at: range?.lowerBound ?? 0)
            }
            let members = try MemberScanner.members(of: line, at: range.lowerBound, names: ["stream", "data"], wholeInput: false)
            guard let stream = members[0], let found = members[1], line[found.lowerBound] == UInt8(ascii: "{") else {
                throw JSONSyntaxError("a RECORD message needs record.stream and a record.data object", at: range.lowerBound)
            }
            data = found
            changed = try names.update(line, stream)
            if changed { timestampColumns = tables[names.name]?.timestampColumns ?? [] }
            repaired = timestampColumns.isEmpty ? nil : try TimestampRepair.repairedRow(line, data: data, columns: timestampColumns)
        } catch {
            throw AdapterError(
                .source, "the source's stdout line \(output.lineNumber) is not a valid RECORD message (\(error)): \(Preview.of(line))")
        }
        if changed, pendingTruncates.remove(names.name) != nil { try operations.truncate(table: names.name) }
        if let repaired {
            try operations.upsert(table: names.literal) { $0.append(contentsOf: repaired) }
        } else {
            try operations.upsert(table: names.literal, data: UnsafeBufferPointer(rebasing: line[data]))
        }
    }

    private mutating func control(_ message: JSONValue) throws(AdapterError) {
        switch message["type"]?.stringValue {
        case "STATE":
            try state.merge(message["state"] ?? .null)
            try operations.checkpoint(state.stored)
            checkpointed = state
        case "LOG":
            let level = AirbyteOutput.level(message["log"]?["level"]?.stringValue)
            try operations.log(level, message["log"]?["message"]?.stringValue ?? "")
        case "TRACE":
            let trace = message["trace"] ?? [:]
            switch trace["type"]?.stringValue {
            case "ERROR":
                throw AirbyteOutput.error(trace["error"] ?? [:])
            case "STREAM_STATUS":
                let name = trace["stream_status"]?["stream_descriptor"]?["name"]?.stringValue ?? "?"
                let status = trace["stream_status"]?["status"]?.stringValue ?? "?"
                if status == "STARTED" || status == "RUNNING", pendingTruncates.remove(name) != nil {
                    try operations.truncate(table: name)
                }
                try operations.log(.debug, "stream \(name): \(status)")
            case "ESTIMATE":
                let estimate = trace["estimate"] ?? [:]
                let rows = estimate["row_estimate"].map { JSONWriter.string($0) } ?? "?"
                try operations.log(.debug, "stream \(estimate["name"]?.stringValue ?? "?"): about \(rows) rows")
            default:
                break  // ANALYTICS and later trace types carry nothing for the warehouse.
            }
        case "CONTROL":
            // A CONNECTOR_CONFIG control message asks the platform to store a changed configuration
            // (a refreshed OAuth token); this host never rewrites configuration.json.
            try operations.log(
                .warning,
                "the source asked to update its configuration (\(message["control"]?["type"]?.stringValue ?? "CONTROL")); connector-host does not change configuration.json, so update it yourself if the source needs the new values"
            )
        default:
            break  // CATALOG, SPEC, CONNECTION_STATUS and unknown types do not belong in a read.
        }
    }
}

/// The messages of a finished short command (`spec`, `check`, `discover`).
struct AirbyteOutput {
    var messages: [JSONValue] = []
    /// The first TRACE error, as the failure it reports.
    var traceError: AdapterError?

    /// Reads every stdout line: JSON objects are messages (LOG messages go to `log`), anything else
    /// is a log line, as the Airbyte platform treats it.
    init(_ result: SourceCommandResult, log: LogSink) {
        for line in result.stdout.split(separator: 0x0A, omittingEmptySubsequences: true) {
            guard let value = try? JSONParser.parse(Array(line)), value.objectValue != nil else {
                log(.info, "source stdout: " + String(decoding: line.prefix(2000), as: UTF8.self))
                continue
            }
            switch value["type"]?.stringValue {
            case "LOG": log(Self.level(value["log"]?["level"]?.stringValue), value["log"]?["message"]?.stringValue ?? "")
            case "TRACE" where value["trace"]?["type"]?.stringValue == "ERROR":
                if traceError == nil { traceError = Self.error(value["trace"]?["error"] ?? [:]) }
            default: messages.append(value)
            }
        }
    }

    func first(_ type: String) -> JSONValue? { messages.first { $0["type"]?.stringValue == type } }

    /// The log level of an Airbyte LOG level name.
    static func level(_ name: String?) -> LogLevel {
        switch name?.uppercased() {
        case "FATAL", "ERROR": .error
        case "WARN", "WARNING": .warning
        case "DEBUG", "TRACE": .debug
        default: .info
        }
    }

    /// The failure a TRACE error reports: its message (the source's own words), its failure type
    /// (`config_error` is a configuration error) and its stack trace.
    static func error(_ error: JSONValue) -> AdapterError {
        let failureType = error["failure_type"]?.stringValue ?? "system_error"
        let message =
            error["message"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? error["internal_message"]?.stringValue
            ?? "the source reported an error without a message"
        var data: JSONObject = ["type": .string(failureType)]
        if let trace = error["stack_trace"]?.stringValue { data["traceback"] = .string(trace) }
        return AdapterError(failureType == "config_error" ? .configuration : .source, message, data: .object(data))
    }
}
