import ConnectorProtocol
import Foundation
import Synchronization

/// Reads a connector's stderr on its own thread until EOF, forwards each line to a sink (the
/// console), and keeps the last lines for error messages.
public final class StderrCollector: Sendable {
    private struct Tail {
        var lines: [String] = []
        var finished = false
    }

    private let tail = Mutex(Tail())
    private let done = DispatchSemaphore(value: 0)
    private let tailLimit: Int

    /// Starts reading `fileDescriptor` on a new thread.
    /// - Parameters:
    ///   - sink: called on the reader thread for every line.
    ///   - tailLimit: how many of the last lines to keep.
    ///   - lineLimit: a longer line is cut to its first `lineLimit` bytes (marked as cut); the lines
    ///     after it are read as usual.
    ///   - redactor: masks secrets in each line, before it is cut (so a cut never shows part of one).
    public init(
        fileDescriptor: Int32, tailLimit: Int = 20, lineLimit: Int = 1 << 20, redactor: Redactor = .none,
        sink: @escaping @Sendable (String) -> Void
    ) {
        self.tailLimit = tailLimit
        let thread = Thread { [self] in
            var splitter = LineSplitter(limit: lineLimit, redactor: redactor)
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let emit = { (text: String) in
                sink(text)
                self.tail.withLock { tail in
                    tail.lines.append(text)
                    if tail.lines.count > tailLimit { tail.lines.removeFirst(tail.lines.count - tailLimit) }
                }
            }
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                chunk.withUnsafeBufferPointer { splitter.take(UnsafeBufferPointer(rebasing: $0[0..<count]), emit) }
            }
            splitter.finish(emit)
            tail.withLock { $0.finished = true }
            done.signal()
        }
        thread.name = "connector-stderr"
        thread.start()
    }

    /// Waits (at most `timeout` seconds) until stderr reached EOF.
    public func waitUntilFinished(timeout: Double) {
        _ = done.wait(timeout: .now() + timeout)
    }

    /// Whether the descriptor reached EOF (every line has been passed to the sink).
    public var isFinished: Bool { tail.withLock { $0.finished } }

    /// The last lines read so far.
    public var lastLines: [String] { tail.withLock { $0.lines } }
}

/// Splits a byte stream into lines of at most `limit` bytes: a longer line keeps its first `limit`
/// bytes and a note of its length, the rest of it is dropped, and the next line starts afresh.
/// Secrets are masked on a little more than the limit, before the cut.
struct LineSplitter {
    let limit: Int
    let redactor: Redactor
    /// The current line's bytes, at most `limit` plus a margin for masking across the cut.
    private var kept: [UInt8] = []
    /// The current line's length so far, all of its bytes.
    private var length = 0

    /// The bytes past the limit that are still kept, so a secret that straddles the cut is masked whole.
    static let maskingMargin = 64 << 10

    init(limit: Int, redactor: Redactor) {
        self.limit = limit
        self.redactor = redactor
    }

    mutating func take(_ bytes: UnsafeBufferPointer<UInt8>, _ emit: (String) -> Void) {
        var position = 0
        while position < bytes.count {
            let rest = UnsafeBufferPointer(rebasing: bytes[position...])
            let newline = memchr(rest.baseAddress!, 0x0A, rest.count).map {
                rest.baseAddress!.distance(to: $0.assumingMemoryBound(to: UInt8.self))
            }
            let piece = UnsafeBufferPointer(rebasing: rest[0..<(newline ?? rest.count)])
            let room = max(0, limit + Self.maskingMargin - kept.count)
            kept.append(contentsOf: piece.prefix(room))
            length += piece.count
            guard let newline else { return }
            line(emit)
            position += newline + 1
        }
    }

    /// Emits a last line without a newline, if any.
    mutating func finish(_ emit: (String) -> Void) {
        if length > 0 { line(emit) }
    }

    private mutating func line(_ emit: (String) -> Void) {
        defer {
            kept.removeAll(keepingCapacity: kept.count <= 1 << 16)
            length = 0
        }
        if length <= limit, kept.last == 0x0D {
            kept.removeLast()
        }
        var masked = redactor.isEmpty ? kept : redactor.mask(kept)
        guard length > limit else { return emit(String(decoding: masked, as: UTF8.self)) }
        var cut = min(limit, masked.count)
        while cut > 0, cut < masked.count, masked[cut] & 0xC0 == 0x80 { cut -= 1 }  // never split a UTF-8 sequence
        masked.removeSubrange(cut...)
        emit(String(decoding: masked, as: UTF8.self) + "… (cut: the line has \(length) bytes, more than \(limit))")
    }
}
