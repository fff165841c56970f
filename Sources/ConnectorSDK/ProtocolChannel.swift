import ConnectorProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The connector's end of the protocol: one reader of the host's lines, one writer of its own,
/// and the pending `records` batch.
///
/// Sendable because every piece of mutable state sits behind a `Mutex`: `Operations` may be used
/// from several tasks of a connector at once, and a `Log` call may come from any thread.
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

    private let outbox: Mutex<Outbox>
    private let reader: Mutex<LineReader>
    private let cancelledFlag = Atomic<Bool>(false)

    init(input: Int32, output: Int32) {
        outbox = Mutex(Outbox(writer: LineWriter(fileDescriptor: output)))
        reader = Mutex(LineReader(fileDescriptor: input))
    }

    /// Whether the host sent `cancel`.
    var isCancelled: Bool { cancelledFlag.load(ordering: .relaxed) }

    func markCancelled() { cancelledFlag.store(true, ordering: .relaxed) }

    /// Reads and classifies the next message; `nil` at end of input.
    /// - Throws: ``ChannelReadError`` for framing, JSON and envelope problems.
    func readMessage() throws(ChannelReadError) -> Message? {
        try reader.withLock { reader throws(ChannelReadError) -> Message? in
            let line: UnsafeBufferPointer<UInt8>?
            do throws(LineReadError) { line = try reader.nextLine() } catch { throw .framing(error) }
            guard let line else { return nil }
            let json: JSONValue
            do throws(JSONSyntaxError) { json = try JSONParser.parse(line) } catch { throw .syntax(error) }
            do throws(MessageShapeError) { return try Message(json: json) } catch { throw .shape(error) }
        }
    }

    /// Sends one message now (after flushing pending records, which must precede it on the wire).
    func send(_ message: Message) throws(LineWriteError) {
        try outbox.withLock { outbox throws(LineWriteError) in
            try Self.flush(&outbox)
            try outbox.writer.send(message)
        }
    }

    /// Sends a request and returns its id; the caller reads the answer.
    func sendRequest(method: String, params: JSONValue) throws(LineWriteError) -> RequestID {
        try outbox.withLock { outbox throws(LineWriteError) -> RequestID in
            try Self.flush(&outbox)
            let id = RequestID.number(outbox.nextRequestID)
            outbox.nextRequestID += 1
            try outbox.writer.send(.request(id: id, method: method, params: params))
            return id
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

/// Why the channel could not read a message from the host.
enum ChannelReadError: Error {
    case framing(LineReadError)
    case syntax(JSONSyntaxError)
    case shape(MessageShapeError)
}
