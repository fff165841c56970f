import ConnectorProtocol
import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The connector's end of the protocol: one reader of the host's lines, one writer of its own,
/// and the pending `records` batch.
///
/// One reader, on a serial queue of its own, reads every line the host sends, as the Python SDK's
/// reader thread does: requests go to ``inbox`` in order for the runtime's loop, each response goes
/// to the ``ResponseWaiter`` of its request id, and `cancel` takes effect at once (the flag is set,
/// the running `update` is cancelled through ``untilStopped()`` and every waiting checkpoint is woken). So any number of
/// tasks may checkpoint at once, and a connector hears `cancel` while it works, not at its next
/// checkpoint.
///
/// Sendable because every piece of mutable state sits behind a `Mutex` (or is an `Atomic`):
/// `Operations` may be used from several tasks at once, and a `Log` call may come from any thread.
final class ProtocolChannel: Sendable {
    /// Flush a batch once it holds this many operations...
    static let batchOperationLimit = 1000
    /// ...or this many bytes.
    static let batchByteLimit = 1 << 20

    private struct Outbox {
        var writer: LineWriter
        var batch: [UInt8] = []
        var batchCount = 0
        var nextRequestID: Int64 = 1
    }

    /// What the reader knows that others wait on.
    private struct Session {
        /// The waiter of every request of ours not answered yet, by id.
        var waiters: [Int64: ResponseWaiter] = [:]
        /// Set by `cancel` or by the end of input; every later wait ends with it at once.
        var stopped: ResponseWaiter.Outcome?
        /// The tasks waiting in ``untilStopped()``, by a token of each.
        var stopWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextStopToken = 0
    }

    /// What the reader hands to the runtime's loop, in the order the host sent it.
    enum InboxItem: Sendable {
        /// A request from the host.
        case request(id: RequestID, method: String, params: JSONValue)
        /// A line that is not a valid message: the error answer to send.
        case invalid(Message)
        /// The host closed its end (`nil`) or the stream broke (the reason, for stderr).
        case end(LineReadError?)
    }

    private let input: Int32
    private let outbox: Mutex<Outbox>
    private let session = Mutex(Session())
    private let cancelledFlag = Atomic<Bool>(false)
    private let closedFlag = Atomic<Bool>(false)
    /// Requests and invalid lines from the host, in order; ends at the end of input.
    let inbox: AsyncStream<InboxItem>
    private let inboxContinuation: AsyncStream<InboxItem>.Continuation

    init(input: Int32, output: Int32) {
        self.input = input
        outbox = Mutex(Outbox(writer: LineWriter(fileDescriptor: output)))
        (inbox, inboxContinuation) = AsyncStream.makeStream(of: InboxItem.self)
    }

    /// Whether the host sent `cancel` (or closed stdin during the session).
    var isCancelled: Bool { cancelledFlag.load(ordering: .relaxed) }

    /// Whether the host closed stdin.
    var isClosed: Bool { closedFlag.load(ordering: .relaxed) }

    // MARK: Reading

    /// Starts the reader on a queue of its own: it blocks in read(2) for the whole session, so it
    /// stays off the cooperative thread pool.
    func startReading() {
        let input = self.input
        DispatchQueue(label: "connector-sdk.protocol-reader").async { [self] in
            let reader = LineReader(fileDescriptor: input)
            while true {
                let line: UnsafeBufferPointer<UInt8>?
                do throws(LineReadError) { line = try reader.nextLine() } catch {
                    endOfInput(error)
                    return
                }
                guard let line else {
                    endOfInput(nil)
                    return
                }
                route(line)
            }
        }
    }

    private func route(_ line: UnsafeBufferPointer<UInt8>) {
        let message: Message
        do throws(JSONSyntaxError) {
            let json = try JSONParser.parse(line)
            do throws(MessageShapeError) { message = try Message(json: json) } catch {
                inboxContinuation.yield(.invalid(.errorResponse(id: error.id, error: RPCError(.invalidRequest, error.reason))))
                return
            }
        } catch {
            inboxContinuation.yield(.invalid(.errorResponse(id: nil, error: RPCError(.parseError, "invalid JSON: \(error)"))))
            return
        }
        switch message {
        case .request(let id, let method, let params):
            inboxContinuation.yield(.request(id: id, method: method, params: params))
        case .notification(CancelNotification.method, _):
            stop(.cancelled)
        case .notification:
            break  // Unknown notifications are ignored (PROTOCOL.md section 3).
        case .response(let id, let result):
            answer(id, .answered(.success(result)))
        case .errorResponse(let id?, let error):
            answer(id, .answered(.failure(error)))
        case .errorResponse(nil, let error):
            // The host could not tell which request failed: every waiting one has.
            for waiter in session.withLock({ $0.waiters.values }) { waiter.resolve(.answered(.failure(error))) }
        }
    }

    private func answer(_ id: RequestID, _ outcome: ResponseWaiter.Outcome) {
        guard case .number(let number) = id, let waiter = session.withLock({ $0.waiters.removeValue(forKey: number) }) else {
            writeStderr("connector: ignoring an answer to request id \(id), which is not waiting")
            return
        }
        waiter.resolve(outcome)
    }

    /// `cancel`, or the end of input: the flag, the update task, every waiter.
    private func stop(_ outcome: ResponseWaiter.Outcome) {
        cancelledFlag.store(true, ordering: .relaxed)
        let (waiters, stopWaiters) = session.withLock { session in
            if session.stopped == nil { session.stopped = outcome }
            defer {
                session.waiters.removeAll()
                session.stopWaiters.removeAll()
            }
            return (Array(session.waiters.values), Array(session.stopWaiters.values))
        }
        for waiter in stopWaiters { waiter.resume() }
        for waiter in waiters { waiter.resolve(outcome) }
    }

    private func endOfInput(_ error: LineReadError?) {
        closedFlag.store(true, ordering: .relaxed)
        stop(.closed)
        inboxContinuation.yield(.end(error))
        inboxContinuation.finish()
    }

    /// Returns once the host has sent `cancel` or closed stdin (at once if it already has), or when
    /// the calling task is cancelled. The runtime races the connector's `update` against it.
    func untilStopped() async {
        let token = session.withLock { session in
            session.nextStopToken += 1
            return session.nextStopToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let stopped = session.withLock { session in
                    if session.stopped == nil { session.stopWaiters[token] = continuation }
                    return session.stopped != nil
                }
                if stopped {
                    continuation.resume()
                } else if Task.isCancelled, let waiting = session.withLock({ $0.stopWaiters.removeValue(forKey: token) }) {
                    waiting.resume()  // Cancelled before the continuation was registered: onCancel found nothing.
                }
            }
        } onCancel: {
            session.withLock { $0.stopWaiters.removeValue(forKey: token) }?.resume()
        }
    }

    // MARK: Writing

    /// Sends one message now (after flushing pending records, which must precede it on the wire).
    func send(_ message: Message) throws(LineWriteError) {
        try outbox.withLock { outbox throws(LineWriteError) in
            try Self.flush(&outbox)
            try outbox.writer.send(message)
        }
    }

    /// Sends a request (after the pending records) and returns the waiter of its answer. The waiter
    /// is registered before the request is written, so no answer can come first.
    func sendRequest<Request: ProtocolRequest>(_ request: Request) throws(LineWriteError) -> ResponseWaiter {
        try outbox.withLock { outbox throws(LineWriteError) -> ResponseWaiter in
            try Self.flush(&outbox)
            let number = outbox.nextRequestID
            outbox.nextRequestID += 1
            let waiter = ResponseWaiter()
            let stopped = session.withLock { session in
                if session.stopped == nil { session.waiters[number] = waiter }
                return session.stopped
            }
            if let stopped {
                waiter.resolve(stopped)
                return waiter
            }
            do throws(LineWriteError) {
                try outbox.writer.send(.request(id: .number(number), request))
            } catch {
                _ = session.withLock { $0.waiters.removeValue(forKey: number) }
                throw error
            }
            return waiter
        }
    }

    /// Appends one encoded operation to the batch, flushing when it is full.
    func appendOperation(_ encode: (inout [UInt8]) -> Void) throws(LineWriteError) {
        try outbox.withLock { outbox throws(LineWriteError) in
            if outbox.batchCount == 0 {
                outbox.batch.removeAll(keepingCapacity: true)
                outbox.batch.append(contentsOf: Self.batchPrefix)
            } else {
                outbox.batch.append(UInt8(ascii: ","))
            }
            encode(&outbox.batch)
            outbox.batchCount += 1
            if outbox.batchCount >= Self.batchOperationLimit || outbox.batch.count >= Self.batchByteLimit {
                try Self.flush(&outbox)
            }
        }
    }

    /// Writes the pending batch, if any.
    func flush() throws(LineWriteError) {
        try outbox.withLock { outbox throws(LineWriteError) in try Self.flush(&outbox) }
    }

    /// Drops the pending batch (after a failed update: the host rolls back anyway).
    func discardBatch() {
        outbox.withLock { outbox in
            outbox.batch.removeAll(keepingCapacity: true)
            outbox.batchCount = 0
        }
    }

    private static let batchPrefix = Array(#"{"jsonrpc":"2.0","method":"records","params":{"ops":["#.utf8)
    private static let batchSuffix = Array("]}}\n".utf8)

    private static func flush(_ outbox: inout Outbox) throws(LineWriteError) {
        guard outbox.batchCount > 0 else { return }
        outbox.batch.append(contentsOf: batchSuffix)
        outbox.batchCount = 0
        try outbox.writer.write(outbox.batch)
        outbox.batch.removeAll(keepingCapacity: true)
    }
}

/// Where the answer to one request of the connector arrives; the requesting thread blocks in
/// ``wait()`` until the reader resolves it.
final class ResponseWaiter: Sendable {
    /// How a request ended.
    enum Outcome: Sendable {
        /// The host answered.
        case answered(Result<JSONValue, RPCError>)
        /// The host sent `cancel`.
        case cancelled
        /// The host closed stdin.
        case closed
    }

    private let outcome = Mutex<Outcome?>(nil)
    private let resolved = DispatchSemaphore(value: 0)

    /// Sets the outcome (the first one wins) and wakes the waiting thread.
    func resolve(_ value: Outcome) {
        let first = outcome.withLock { outcome in
            guard outcome == nil else { return false }
            outcome = value
            return true
        }
        if first { resolved.signal() }
    }

    /// Blocks until the outcome is known.
    func wait() -> Outcome {
        resolved.wait()
        return outcome.withLock { $0! }
    }
}
