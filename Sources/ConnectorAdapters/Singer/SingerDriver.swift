import ConnectorProtocol

/// Drives a Singer tap (an executable taking `--config`, `--catalog`, `--state` and printing
/// SCHEMA, RECORD, STATE and ACTIVATE_VERSION messages) on behalf of the host.
///
/// - `initialize`: `--about --format json` when the tap has it (taps built on the Meltano SDK),
///   for its name, version, capabilities and the settings marked `secret`.
/// - `schema`: `--discover`, when the tap has it; every stream is selected (or those of
///   `--tables`) and becomes a table (``SingerCatalog``). A tap without discovery declares nothing:
///   its streams' tables are created by the host from the records, without a primary key.
/// - `test`: `--discover` (a tap has no other connection test).
/// - `update`: the tap with its configuration, the selected catalog and the state; each RECORD is
///   an upsert, each STATE a checkpoint of everything sent before it, ACTIVATE_VERSION a truncate
///   (``TableVersions``).
final class SingerDriver: SourceDriver {
    let command: [String]
    let selectedStreams: [String]?
    private var catalog: SingerCatalog?
    private var discovery = Discovery.unknown
    private var catalogFlag = "--catalog"
    private var warnedStreams: Set<String> = []

    private enum Discovery { case unknown, supported, unsupported }

    init(command: [String], selectedStreams: [String]?) {
        self.command = command
        self.selectedStreams = selectedStreams
    }

    func describe(configuration: JSONObject) throws(AdapterError) -> SourceIdentity {
        var identity = SourceIdentity(name: executableName, version: "singer", secretKeys: [], hasConnectionTest: true)
        let result = try SourceCommandResult.run(command + ["--about", "--format", "json"], echoStderr: false)
        guard result.exit == .exited(0), let about = try? JSONParser.parse(result.stdout), about.objectValue != nil else {
            return identity  // A tap without --about (most taps outside the Meltano SDK): probe discovery later.
        }
        identity.name = about["name"]?.stringValue ?? identity.name
        identity.version = about["version"]?.stringValue ?? identity.version
        identity.secretKeys = SecretProperties.names(in: about["settings"] ?? [:], marker: "secret")
        if let capabilities = about["capabilities"]?.arrayValue?.compactMap(\.stringValue) {
            if !capabilities.contains("discover") {
                discovery = .unsupported
                identity.hasConnectionTest = false
            }
            if capabilities.contains("properties") && !capabilities.contains("catalog") { catalogFlag = "--properties" }
        }
        return identity
    }

    func tables(configuration: JSONObject, log: LogSink) throws(AdapterError) -> [TableDefinition] {
        guard let catalog = try discover(configuration: configuration) else {
            log(
                .warning,
                "\(executableName) has no discovery mode (--discover): its streams are known only from the SCHEMA messages of a sync, so the host creates their tables from the records, without a primary key"
            )
            return []
        }
        return catalog.streams.map(\.table.definition)
    }

    func test(configuration: JSONObject, log: LogSink) throws(AdapterError) -> (ok: Bool, message: String) {
        do throws(AdapterError) {
            guard let catalog = try discover(configuration: configuration, cached: false) else {
                throw AdapterError(
                    .source,
                    "\(executableName) has no discovery mode (--discover), the only test a Singer tap offers; run a sync to check the configuration"
                )
            }
            return (
                true,
                "\(executableName) discovered \(catalog.streams.count) stream(s): \(catalog.streams.map(\.name).joined(separator: ", "))"
            )
        } catch {
            guard case .configuration = error.kind else { throw error }
            return (false, error.message)
        }
    }

    /// The selected catalog from `--discover`; `nil` when the tap has no discovery mode.
    private func discover(configuration: JSONObject, cached: Bool = true) throws(AdapterError) -> SingerCatalog? {
        if cached, let catalog { return catalog }
        if discovery == .unsupported { return nil }
        let files = try PrivateFiles()
        let result = try SourceCommandResult.run(
            command + ["--config", try files.store("config.json", configuration.forSource), "--discover"], echoStderr: true)
        guard result.exit == .exited(0) else {
            let errors = String(decoding: result.stderr, as: UTF8.self)
            if ["unrecognized arguments", "no such option", "No such option", "unrecognized option"].contains(where: errors.contains) {
                discovery = .unsupported
                return nil
            }
            throw AdapterError(
                .configuration,
                "\(executableName) --discover \(result.exit); its stderr says why. Check the configuration (configuration.json)"
            )
        }
        let document: JSONValue
        do { document = try JSONParser.parse(result.stdout) } catch {
            throw AdapterError(.source, "\(executableName) --discover printed something that is not one JSON catalog (\(error))")
        }
        discovery = .supported
        let catalog = try SingerCatalog(discovered: document, only: selectedStreams)
        self.catalog = catalog
        return catalog
    }

    func update(configuration: JSONObject, state: JSONObject, tables: [String]?, operations: OperationStream) throws(AdapterError) {
        var catalog = try discover(configuration: configuration)
        if let tables {
            // Without a catalog the tap runs every stream, and its state would cover the streams the
            // host skips, which the next run would then never read again.
            guard let discovered = catalog else {
                throw AdapterError(
                    .configuration,
                    "\(executableName) has no discovery mode (--discover), so it cannot run only some streams: run it without --tables"
                )
            }
            catalog = try discovered.only(tables)
        }
        let files = try PrivateFiles()
        var arguments = command + ["--config", try files.store("config.json", configuration.forSource)]
        if let catalog { arguments += [catalogFlag, try files.store("catalog.json", catalog.selected)] }
        if !state.isEmpty { arguments += ["--state", try files.store("state.json", .object(state))] }
        let output = try SourceOutput(arguments: arguments, connection: operations.connection, role: "the tap")
        do throws(AdapterError) {
            var reading = SingerRead(
                tables: catalog?.streams.map(\.table) ?? [], state: state, operations: operations, output: output,
                warnedStreams: warnedStreams, tapName: executableName)
            try reading.run()
            warnedStreams = reading.warnedStreams
            try output.finish()
            if operations.checkpoints == 0 { try operations.checkpoint(.object(state)) }
        } catch {
            output.stop()
            throw error
        }
    }

    private var executableName: String { SourceProcess.displayName(of: command) }
}

/// The loop of one tap run: Singer messages to operations and checkpoints.
private struct SingerRead {
    let operations: OperationStream
    let output: SourceOutput
    let tables: [String: StreamTable]
    var versions: TableVersions
    var warnedStreams: Set<String>
    let tapName: String
    private var names = StreamNameCache()
    private var timestampColumns: [[UInt8]] = []

    init(
        tables: [StreamTable], state: JSONObject, operations: OperationStream, output: SourceOutput, warnedStreams: Set<String>,
        tapName: String
    ) {
        self.operations = operations
        self.output = output
        self.tables = Dictionary(tables.map { ($0.definition.name, $0) }, uniquingKeysWith: { first, _ in first })
        var resumed: [String: String] = [:]
        for (stream, bookmark) in state["bookmarks"]?.objectValue ?? [:] {
            if let version = bookmark["version"], case .number = version { resumed[stream] = JSONWriter.string(version) }
        }
        versions = TableVersions(state: resumed)
        self.warnedStreams = warnedStreams
        self.tapName = tapName
    }

    mutating func run() throws(AdapterError) {
        while let line = try output.nextLine() {
            guard line.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            let members: [Range<Int>?]
            do {
                members = try MemberScanner.members(of: line, names: ["type", "stream", "record", "version"], wholeInput: true)
            } catch {
                throw AdapterError(
                    .source,
                    "the tap's stdout line \(output.lineNumber) is not a Singer message: not valid JSON (\(error)): \(Preview.of(line)); a tap's stdout carries Singer messages only, its logs belong on stderr"
                )
            }
            if MemberScanner.isString(line, members[0], "RECORD") {
                try record(line, stream: members[1], record: members[2], version: members[3])
                continue
            }
            let message: JSONValue
            do { message = try JSONParser.parse(line) } catch {
                throw AdapterError(.source, "the tap's stdout line \(output.lineNumber) is not valid JSON (\(error))")
            }
            try control(message)
        }
    }

    private mutating func record(_ line: UnsafeBufferPointer<UInt8>, stream: Range<Int>?, record: Range<Int>?, version: Range<Int>?)
        throws(AdapterError)
    {
        let changed: Bool
        let repaired: [UInt8]?
        do throws(JSONSyntaxError) {
            guard let stream, let record, line[record.lowerBound] == UInt8(ascii: "{") else {
                throw JSONSyntaxError("a RECORD message needs \"stream\" and a \"record\" object", at: 0)
            }
            changed = try names.update(line, stream)
            if changed { timestampColumns = tables[names.name]?.timestampColumns ?? [] }
            repaired = timestampColumns.isEmpty ? nil : try TimestampRepair.repairedRow(line, data: record, columns: timestampColumns)
        } catch {
            throw AdapterError(
                .source, "the tap's stdout line \(output.lineNumber) is not a valid RECORD message (\(error)): \(Preview.of(line))")
        }
        if changed { try warnIfUndeclared(names.name) }
        if let version, versions.needsTruncate(stream: names.name, version: String(decoding: line[version], as: UTF8.self)) {
            try operations.truncate(table: names.name)
        }
        if let repaired {
            try operations.upsert(table: names.literal) { $0.append(contentsOf: repaired) }
        } else if let record {
            try operations.upsert(table: names.literal, data: UnsafeBufferPointer(rebasing: line[record]))
        }
    }

    private mutating func control(_ message: JSONValue) throws(AdapterError) {
        let stream = message["stream"]?.stringValue
        switch message["type"]?.stringValue {
        case "STATE":
            guard let value = message["value"], value.objectValue != nil else {
                throw AdapterError(
                    .source,
                    "the tap's STATE message on stdout line \(output.lineNumber) has a value that is not a JSON object; connector-host stores a tap's state as an object"
                )
            }
            try operations.checkpoint(value)
        case "SCHEMA":
            if let stream { try warnIfUndeclared(stream) }
        case "ACTIVATE_VERSION":
            if let stream, let version = message["version"], versions.needsTruncate(stream: stream, version: JSONWriter.string(version)) {
                try operations.truncate(table: stream)
            }
        case "BATCH":
            throw AdapterError(
                .configuration,
                "the tap sent a BATCH message (records in files), which connector-host does not read; turn batch messages off in the tap's configuration"
            )
        default:
            break  // Unknown message types are skipped, as Singer targets skip them.
        }
    }

    /// Warns once per sync about a stream that discovery did not declare.
    private mutating func warnIfUndeclared(_ stream: String) throws(AdapterError) {
        guard tables[stream] == nil, warnedStreams.insert(stream).inserted else { return }
        try operations.log(
            .warning,
            "stream \"\(stream)\" of \(tapName) was not in its discovered catalog; its table is created from the records, without a primary key"
        )
    }
}
