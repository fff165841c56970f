import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fault-injection connector: a deterministic stream of operations, a checkpoint every K
/// operations, and a kill at a chosen message. It speaks the raw protocol (not the SDK) so that it
/// controls every byte it writes and can die between any two of them.
///
/// Configuration:
///
///     {"rows": N, "every": K, "batch": B, "delay": MICROSECONDS,
///      "kill": {"at": M, "how": "before" | "midline" | "after", "target": "self" | "host",
///               "signal": "KILL" | "TERM" | "HUP", "then": "stop" | "continue"}}
///
/// The stream is operations 1...N (see `operation(_:)`); `update` resumes after `state.cursor`.
/// Operations go out in `records` batches of at most B, a batch is flushed before each checkpoint,
/// and a checkpoint `{"cursor": p}` follows every operation p with p % K == 0, and the last one.
/// The messages of one `update` (records, checkpoints, then its answer) are numbered from 0;
/// message M is where the kill happens: before writing it, after writing half of its bytes, or
/// after writing all of it (without waiting for a checkpoint's answer). The target is this process
/// (SIGKILL) or the host (its parent), with `signal` (SIGKILL by default). After a SIGKILL to the
/// host it exits at once; after a SIGTERM or SIGHUP, which the host survives to stop the sync, it
/// either stops (reads until the host's `cancel` or the end of stdin, then exits 0) or continues
/// (writes the rest of message M and of the stream, as if nothing had happened), as `then` says.
/// `delay` (default 0) is a pause before each message, so a sync lasts long enough to be met by a
/// `reset`. Every `update` appends the state it received to `received.jsonl` in the working
/// directory, and the connector writes its pid to `connector.pid` when it starts.
///
/// FaultInjectionTests models the same stream; keep the two in step.
@main
struct FaultInjectionConnector {
    /// The host, read at start: a kill aimed at it must not hit whoever adopts an orphan.
    let parent = getppid()
    let input = LineReader(fileDescriptor: 0)

    static func main() { FaultInjectionConnector().run() }

    func run() {
        if let file = fopen("connector.pid", "w") {
            fputs("\(getpid())\n", file)
            fclose(file)
        }
        var configuration: JSONValue = [:]
        while let message = readMessage() {
            guard case .request(let id, let method, let params) = message else { continue }
            switch method {
            case "initialize":
                configuration = params["configuration"] ?? [:]
                write(
                    Message.response(
                        id: id,
                        result: ["protocolVersion": 1, "connector": ["name": "fault-injection", "version": "1.0.0"], "capabilities": [:]]
                    ).line)
            case "schema":
                write(Message.response(id: id, result: ["tables": Self.tables]).line)
            case "update":
                update(id: id, state: params["state"] ?? [:], configuration: configuration)
            default:
                write(Message.response(id: id, result: [:]).line)
            }
        }
        exit(0)
    }

    static let tables: JSONValue = [
        ["table": "items", "primaryKey": ["id"], "columns": ["id": "LONG", "value": "STRING", "amount": "DOUBLE"]],
        ["table": "events", "primaryKey": [], "columns": ["kind": "STRING", "n": "LONG"]],
    ]

    /// Operation number `p` (1-based) of the stream.
    static func operation(_ p: Int) -> JSONValue {
        let position = JSONValue.number(JSONNumber(p))
        if p % 7 == 0 && p > 3 { return ["op": "delete", "table": "items", "keys": ["id": .number(JSONNumber(p - 3))]] }
        if p % 5 == 0 && p > 2 {
            return ["op": "update", "table": "items", "data": ["id": .number(JSONNumber(p - 2)), "value": .string("update \(p)")]]
        }
        if p % 29 == 0 { return ["op": "truncate", "table": "events"] }
        if p % 11 == 0 { return ["op": "upsert", "table": "events", "data": ["kind": .string("k\(p % 3)"), "n": position]] }
        return [
            "op": "upsert", "table": "items",
            "data": ["id": position, "value": .string("row \(p)"), "amount": .number(JSONNumber(Double(p) * 0.25))],
        ]
    }

    /// The messages of an update that resumes after `start`: records batches and checkpoints.
    static func messages(after start: Int, rows: Int, every: Int, batch: Int) -> [Message] {
        var result: [Message] = []
        var pending: [JSONValue] = []
        guard start < rows else { return [] }
        for p in (start + 1)...rows {
            pending.append(operation(p))
            if pending.count == batch {
                result.append(.notification(method: "records", params: ["ops": .array(pending)]))
                pending = []
            }
            if p % every == 0 || p == rows {
                if !pending.isEmpty { result.append(.notification(method: "records", params: ["ops": .array(pending)])) }
                pending = []
                result.append(.request(id: .string("cp-\(p)"), method: "checkpoint", params: ["state": ["cursor": .number(JSONNumber(p))]]))
            }
        }
        return result
    }

    func update(id: RequestID, state: JSONValue, configuration: JSONValue) {
        record(state)
        let int = { (key: String) in Int(configuration[key]?.int64Value ?? 1) }
        let plan = Self.messages(after: Int(state["cursor"]?.int64Value ?? 0), rows: int("rows"), every: int("every"), batch: int("batch"))
        let fault = configuration["kill"]
        let delay = useconds_t(max(0, min(1_000_000, configuration["delay"]?.int64Value ?? 0)))
        for (index, message) in plan.enumerated() {
            if delay > 0 { usleep(delay) }
            emit(index, message.line, fault)
            guard case .request(let checkpointID, _, _) = message else { continue }
            while let answer = readMessage() {
                if case .response(checkpointID, _) = answer { break }
                if case .errorResponse(checkpointID?, let error) = answer {
                    try? LineWriter(fileDescriptor: 2).write(Array("checkpoint refused: \(error.message)\n".utf8))
                    exit(2)
                }
            }
        }
        emit(plan.count, Message.response(id: id, result: [:]).line, fault)
    }

    /// Writes one message, or dies around it when it is the chosen one.
    func emit(_ index: Int, _ line: [UInt8], _ fault: JSONValue?) {
        guard let fault, fault["at"]?.int64Value == Int64(index) else { return write(line) }
        switch fault["how"]?.stringValue {
        case "midline": write(Array(line.prefix(line.count / 2)))
        case "after": write(line)
        default: break
        }
        if fault["target"]?.stringValue == "host" {
            let signal =
                switch fault["signal"]?.stringValue {
                case "TERM": SIGTERM
                case "HUP": SIGHUP
                default: SIGKILL
                }
            // Only while the host is still the parent: never signal whoever adopted an orphan.
            if getppid() == parent { kill(parent, signal) }
            guard signal != SIGKILL else { _exit(0) }
            guard fault["then"]?.stringValue == "continue" else {
                // Stops as a connector should: at the host's cancel, or when the host closes stdin.
                while let message = readMessage() {
                    if case .notification("cancel", _) = message { break }
                }
                exit(0)
            }
            switch fault["how"]?.stringValue {
            case "midline": write(Array(line.dropFirst(line.count / 2)))
            case "after": break
            default: write(line)
            }
            return
        }
        kill(getpid(), SIGKILL)
    }

    func record(_ state: JSONValue) {
        guard let file = fopen("received.jsonl", "a") else { return }
        fputs(JSONWriter.string(state, sortedKeys: true) + "\n", file)
        fclose(file)
    }

    func readMessage() -> Message? {
        guard let line = try? input.nextLine() else { return nil }
        return try? Message.decode(line: line)
    }

    func write(_ bytes: [UInt8]) {
        try? LineWriter(fileDescriptor: 1).write(bytes)
    }
}
