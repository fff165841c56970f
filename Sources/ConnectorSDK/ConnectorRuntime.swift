import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The connector side of the protocol loop: answers the host's requests by calling a ``Connector``.
public struct ConnectorRuntime<C: Connector>: Sendable {
    let connector: C
    let channel: ProtocolChannel

    /// A runtime reading requests from `input` and writing messages to `output` (file descriptors).
    public init(connector: C, input: Int32, output: Int32) {
        self.connector = connector
        channel = ProtocolChannel(input: input, output: output)
    }

    /// Runs on the process's standard streams. The protocol keeps the original stdout; file
    /// descriptor 1 is pointed at stderr so that `print` and any library writing to stdout land in
    /// the connector's log instead of the protocol stream.
    /// - Returns: the exit status (0 after a clean end of input).
    public static func runOnStandardStreams(_ connector: C) async -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let protocolOutput = dup(1)
        dup2(2, 1)
        return await ConnectorRuntime(connector: connector, input: 0, output: protocolOutput).run()
    }

    /// Serves requests until the host closes the input.
    /// - Returns: 0 after a clean end of input, 1 when the input was not a valid protocol stream.
    public func run() async -> Int32 {
        // Log finds the channel through the task (exact, even with several runtimes in one process,
        // as in tests) and falls back to the process-wide one for threads the connector starts itself.
        activeChannel.withLock { $0 = channel }
        defer { activeChannel.withLock { $0 = nil } }
        return await Log.$taskChannel.withValue(channel) { await serve() }
    }

    /// Answers the host's requests one at a time, in the order they came; a request that arrives
    /// while `update` runs waits for it to end (the host sends none: only `cancel`, which the
    /// channel's reader handles at once).
    private func serve() async -> Int32 {
        channel.startReading()
        var initialized = false
        for await item in channel.inbox {
            switch item {
            case .end(let error?):
                writeStderr("connector: unreadable input from the host: \(error)")
                return 1
            case .end(nil):
                return 0
            case .invalid(let reply):
                try? channel.send(reply)
            case .request(let id, let method, let params):
                let answer: Result<JSONValue, RPCError>
                if method == Method.initialize {
                    answer = initialize(params)
                    if case .success = answer { initialized = true }
                } else if !initialized {
                    answer = .failure(RPCError(.notInitialized, "send initialize before \(method)"))
                } else {
                    answer = await handle(method: method, params: params)
                }
                let reply: Message =
                    switch answer {
                    case .success(let result): .response(id: id, result: result)
                    case .failure(let error): .errorResponse(id: id, error: error)
                    }
                // A host that closed stdin may have closed stdout too: that is its way to end the session.
                do { try channel.send(reply) } catch { return channel.isClosed ? 0 : 1 }
            }
        }
        return 0
    }

    private func initialize(_ params: JSONValue) -> Result<JSONValue, RPCError> {
        let request: InitializeRequest
        do throws(InvalidParams) { request = try InitializeRequest(params: params) } catch {
            return .failure(RPCError(.invalidParams, error.reason))
        }
        let requested = request.protocolVersion
        let version = ProtocolVersion.supported.contains(Int(requested)) ? Int(requested) : ProtocolVersion.current
        return .success(
            InitializeResult(
                protocolVersion: Int64(version), connector: PeerInfo(name: connector.name, version: connector.version),
                capabilities: [
                    Capability.test: .bool(connector.hasConnectionTest), Capability.selectTables: .bool(connector.selectsTables),
                ],
                secretKeys: connector.secretKeys.isEmpty ? nil : connector.secretKeys
            ).json)
    }

    /// Runs the connector's `update` as a child task raced against the host's `cancel` (or stdin
    /// EOF), which cancels it at once: Task.sleep, Task.checkCancellation and cancellation-aware
    /// libraries stop then, not at the next checkpoint.
    private func runUpdate(configuration: Configuration, state: JSONValue, operations: Operations) async throws {
        // Each child answers whether it is the update that finished.
        try await withThrowingTaskGroup(of: Bool.self) { [connector, channel] group in
            group.addTask {
                try await connector.update(configuration: configuration, state: state, operations: operations)
                return true
            }
            group.addTask {
                await channel.untilStopped()
                return false
            }
            while let updateFinished = try await group.next() {
                group.cancelAll()
                if updateFinished { return }  // Else the update was just cancelled: wait for how it ends.
            }
        }
    }

    private func handle(method: String, params: JSONValue) async -> Result<JSONValue, RPCError> {
        do {
            switch method {
            case SchemaRequest.method:
                let request = try SchemaRequest(params: params)
                let tables = try await connector.schema(configuration: Configuration(request.configuration))
                return .success(SchemaResult(tables: tables).json)
            case TestRequest.method:
                let request = try TestRequest(params: params)
                guard let result = try await connector.test(configuration: Configuration(request.configuration)) else {
                    return .failure(RPCError(.methodNotFound, "this connector has no connection test"))
                }
                return .success(TestResult(ok: result.ok, message: result.message).json)
            case UpdateRequest.method:
                let request = try UpdateRequest(params: params)
                let operations = Operations(
                    channel: channel, selectedTables: connector.selectsTables ? request.tables : nil, fileStaging: request.fileStaging)
                let (configuration, state) = (Configuration(request.configuration), request.state)
                do {
                    try await runUpdate(configuration: configuration, state: state, operations: operations)
                    try channel.flush()
                } catch {
                    channel.discardBatch()
                    if channel.isCancelled, !(error is ConnectorError) {
                        throw ConnectorError(.cancelled, "the host cancelled the sync")
                    }
                    throw error
                }
                return .success(UpdateResult().json)
            case ShutdownRequest.method:
                return .success(EmptyResult().json)
            default:
                return .failure(RPCError(.methodNotFound, "unknown method \"\(method)\""))
            }
        } catch let error as InvalidParams {
            return .failure(RPCError(.invalidParams, error.reason))
        } catch let error as ConnectorError {
            writeStderr("connector: \(method) failed: \(error.message)")
            return .failure(RPCError(error.code, error.message))
        } catch {
            writeStderr("connector: \(method) failed: \(error)")
            return .failure(RPCError(.sourceError, "\(type(of: error)): \(error)", data: ["type": .string("\(type(of: error))")]))
        }
    }
}

func writeStderr(_ text: String) {
    try? LineWriter(fileDescriptor: 2).write(Array((text + "\n").utf8))
}
