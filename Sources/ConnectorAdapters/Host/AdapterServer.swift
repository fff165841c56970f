import ConnectorProtocol

/// Answers the host's requests (protocol v1) with a ``SourceDriver``: the adapter's main loop.
final class AdapterServer {
    let connection: HostConnection
    let driver: any SourceDriver
    private var identity: SourceIdentity?

    init(connection: HostConnection, driver: any SourceDriver) {
        self.connection = connection
        self.driver = driver
    }

    /// Serves requests until the host closes stdin.
    func run() {
        while let request = connection.nextRequest() {
            let answer = handle(request)
            let reply: Message =
                switch answer {
                case .success(let result): .response(id: request.id, result: result)
                case .failure(let error): .errorResponse(id: request.id, error: error)
                }
            // A host that is gone cannot be answered; the loop ends at its EOF.
            try? connection.send(reply)
        }
    }

    private func handle(_ request: HostConnection.Request) -> Result<JSONValue, RPCError> {
        let configuration = request.params["configuration"]?.objectValue ?? [:]
        if request.method == Method.initialize { return initialize(request.params, configuration: configuration) }
        guard identity != nil else { return .failure(RPCError(.notInitialized, "send initialize before \(request.method)")) }
        let log: LogSink = { [connection] level, message in try? connection.log(level, message) }
        do throws(AdapterError) {
            switch request.method {
            case Method.schema:
                let tables = try driver.tables(configuration: configuration, log: log)
                return .success(["tables": .array(tables.map(\.json))])
            case Method.test where identity?.hasConnectionTest == true:
                let result = try driver.test(configuration: configuration, log: log)
                return .success(["ok": .bool(result.ok), "message": .string(result.message)])
            case Method.update:
                let operations = OperationStream(connection: connection)
                // The tables of `run --tables` (the adapter declares selectTables); their names are
                // the streams' (an adapted table has no schema).
                let tables = request.params["tables"]?.arrayValue?.compactMap { $0["table"]?.stringValue }
                do throws(AdapterError) {
                    try driver.update(
                        configuration: configuration, state: request.params["state"]?.objectValue ?? [:], tables: tables,
                        operations: operations)
                    try operations.flush()
                } catch {
                    operations.discard()
                    throw error
                }
                return .success(["summary": ["rows": .number(JSONNumber(operations.rows))]])
            case Method.shutdown:
                return .success([:])
            default:
                return .failure(RPCError(.methodNotFound, "the adapter has no method \"\(request.method)\""))
            }
        } catch {
            return .failure(error.rpcError)
        }
    }

    private func initialize(_ params: JSONValue, configuration: JSONObject) -> Result<JSONValue, RPCError> {
        guard let requested = params["protocolVersion"]?.int64Value else {
            return .failure(RPCError(.invalidParams, "initialize needs an integer protocolVersion"))
        }
        let version = ProtocolVersion.supported.contains(Int(requested)) ? Int(requested) : ProtocolVersion.current
        do throws(AdapterError) {
            let identity: SourceIdentity
            if let known = self.identity { identity = known } else { identity = try driver.describe(configuration: configuration) }
            self.identity = identity
            return .success(
                InitializeResult(
                    protocolVersion: Int64(version), connector: PeerInfo(name: identity.name, version: identity.version),
                    capabilities: [Capability.test: .bool(identity.hasConnectionTest), Capability.selectTables: true],
                    secretKeys: identity.secretKeys
                ).json)
        } catch {
            return .failure(error.rpcError)
        }
    }
}
