import ConnectorProtocol
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The adapter's end of protocol v1: requests from the host in, messages to the host out.
///
/// A thread of its own reads the host's lines all the time, so that a `cancel` or the end of stdin
/// is noticed while the adapter is busy reading its source: it then makes ``wakeDescriptor``
/// readable, which interrupts the source reader (`LineReader.wakeDescriptor`). Requests wait in a
/// queue for the main thread; answers to the adapter's checkpoints are handed to the thread that
/// waits for them. Writes go through one lock, so lines never interleave.
final class HostConnection: Sendable {
    /// One request from the host.
    struct Request: Sendable {
        var id: RequestID
        var method: String
        var params: JSONValue
    }

    private struct Inbox {
        var requests: [Request] = []
        var answers: [RequestID: Result<JSONValue, RPCError>] = [:]
        var closed = false
        var cancelled = false
    }

    private let inbox = Guarded(Inbox())
    private let writer: Mutex<LineWriter>
    private let nextCheckpointID = Atomic<Int64>(1)
    /// Readable once the host has cancelled or closed stdin (never drained: it stays readable).
    let wakeDescriptor: Int32
    private let wakeSignal: Int32

    /// Starts reading `input` on a thread of its own; messages go to `output`.
    init(input: Int32, output: Int32) {
        writer = Mutex(LineWriter(fileDescriptor: output))
        var wake: [Int32] = [0, 0]
        _ = pipe(&wake)
        for descriptor in wake { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        wakeDescriptor = wake[0]
        wakeSignal = wake[1]
        let thread = Thread { [self] in readLoop(LineReader(fileDescriptor: input)) }
        thread.name = "host stdin"
        thread.start()
    }

    /// Whether the host sent `cancel` or closed stdin.
    var isStopped: Bool { inbox.withLock { $0.cancelled || $0.closed } }

    /// The next request, in arrival order; `nil` once the host closed stdin and none is left.
    func nextRequest() -> Request? {
        inbox.wait { inbox -> Request?? in
            if !inbox.requests.isEmpty { return .some(inbox.requests.removeFirst()) }
            return inbox.closed ? .some(nil) : nil
        }
    }

    /// Writes one message.
    func send(_ message: Message) throws(AdapterError) { try sendBytes(message.line) }

    /// Writes bytes that hold whole lines.
    func sendBytes(_ bytes: [UInt8]) throws(AdapterError) {
        let result = writer.withLock { writer in Result { () throws(LineWriteError) in try writer.write(bytes) } }
        if case .failure = result { throw AdapterError(.cancelled, "the host stopped reading the adapter's messages") }
    }

    /// Sends a `log` notification.
    func log(_ level: LogLevel, _ message: String) throws(AdapterError) {
        try send(.notification(method: Method.log, params: ["level": .string(level.rawValue), "message": .string(message)]))
    }

    /// Sends a `checkpoint` request and blocks until the host answers it.
    /// - Throws: ``AdapterError`` when the host refuses, cancels or closes stdin first.
    func checkpoint(_ state: JSONValue) throws(AdapterError) {
        let id = RequestID.number(nextCheckpointID.wrappingAdd(1, ordering: .relaxed).oldValue)
        try send(.request(id: id, method: Method.checkpoint, params: ["state": state]))
        let answer = inbox.wait { inbox -> Result<JSONValue, AdapterError>? in
            if let answer = inbox.answers.removeValue(forKey: id) {
                return answer.mapError { AdapterError(.refused($0.code), "the host refused the checkpoint: \($0.message)") }
            }
            if inbox.cancelled { return .failure(.cancelled) }
            if inbox.closed {
                return .failure(AdapterError(.cancelled, "the host closed the connection before acknowledging the checkpoint"))
            }
            return nil
        }
        _ = try answer.get()
    }

    private func readLoop(_ reader: LineReader) {
        while true {
            let line: UnsafeBufferPointer<UInt8>?
            do { line = try reader.nextLine() } catch { break }
            guard let line else { break }
            let message: Message
            do {
                message = try Message(json: JSONParser.parse(line))
            } catch let error as MessageShapeError {
                try? send(.errorResponse(id: error.id, error: RPCError(.invalidRequest, error.reason)))
                continue
            } catch {
                try? send(.errorResponse(id: nil, error: RPCError(.parseError, "invalid JSON: \(error)")))
                continue
            }
            switch message {
            case .request(let id, let method, let params):
                inbox.withLock { $0.requests.append(Request(id: id, method: method, params: params)) }
            case .notification(Method.cancel, _):
                inbox.withLock { $0.cancelled = true }
                wake()
            case .notification:
                continue  // Unknown notifications are ignored (PROTOCOL.md section 3).
            case .response(let id, let result):
                inbox.withLock { $0.answers[id] = .success(result) }
            case .errorResponse(let id?, let error):
                inbox.withLock { $0.answers[id] = .failure(error) }
            case .errorResponse(nil, _):
                continue
            }
        }
        inbox.withLock { $0.closed = true }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeSignal, &byte, 1)
    }
}
