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
        guard let requested = params["protocolVersion"]?.int64Value else {
            return .failure(RPCError(.invalidParams, "initialize needs an integer protocolVersion"))
        }
        let version = ProtocolVersion.supported.contains(Int(requested)) ? Int(requested) : ProtocolVersion.current
        return .success([
            "protocolVersion": .number(JSONNumber(version)),
            "connector": ["name": .string(connector.name), "version": .string(connector.version)],
            "capabilities": ["test": .bool(connector.hasConnectionTest)],
        ])
    }

    private func handle(method: String, params: JSONValue) async -> Result<JSONValue, RPCError> {
        let configuration = Configuration(params["configuration"]?.objectValue ?? [:])
        do {
            switch method {
            case Method.schema:
                let tables = try await connector.schema(configuration: configuration)
                return .success(["tables": .array(tables.map(\.json))])
            case Method.test:
                guard let result = try await connector.test(configuration: configuration) else {
                    return .failure(RPCError(.methodNotFound, "this connector has no connection test"))
                }
                return .success(["ok": .bool(result.ok), "message": .string(result.message)])
            case Method.update:
                let operations = Operations(channel: channel)
                let state = params["state"] ?? [:]
                // A task of its own, so that `cancel` (seen by the channel's reader) cancels it: Task.sleep,
                // Task.checkCancellation and cancellation-aware libraries stop at once.
                let update = Task { [connector] in
                    try await connector.update(configuration: configuration, state: state, operations: operations)
                }
                channel.setUpdateTask(update)
                defer { channel.setUpdateTask(nil) }
                do {
                    try await update.value
                    try channel.flush()
                } catch {
                    channel.discardBatch()
                    if channel.isCancelled, !(error is ConnectorError) {
                        throw ConnectorError(.cancelled, "the host cancelled the sync")
                    }
                    throw error
                }
                return .success([:])
            case Method.shutdown:
                return .success([:])
            default:
                return .failure(RPCError(.methodNotFound, "unknown method \"\(method)\""))
            }
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
