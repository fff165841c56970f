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
    public init(fileDescriptor: Int32, tailLimit: Int = 20, sink: @escaping @Sendable (String) -> Void) {
        self.tailLimit = tailLimit
        let thread = Thread { [self] in
            let reader = LineReader(fileDescriptor: fileDescriptor, maximumLineLength: 1 << 20)
            while true {
                let text: String
                do throws(LineReadError) {
                    guard let line = try reader.nextLine() else { break }
                    text = String(decoding: line, as: UTF8.self)
                } catch {
                    switch error {
                    case .partialLineAtEOF(_, let prefix): text = String(decoding: prefix, as: UTF8.self)
                    case .lineTooLong:
                        // Keep the pipe drained so the connector never blocks on a full stderr.
                        sink("(stderr: a line longer than 1 MiB; the rest of stderr is discarded)")
                        Self.drain(fileDescriptor)
                        text = ""
                    default: text = ""
                    }
                    if text.isEmpty { break }
                }
                sink(text)
                tail.withLock { tail in
                    tail.lines.append(text)
                    if tail.lines.count > tailLimit { tail.lines.removeFirst(tail.lines.count - tailLimit) }
                }
            }
            tail.withLock { $0.finished = true }
            done.signal()
        }
        thread.name = "connector-stderr"
        thread.start()
    }

    private static func drain(_ fileDescriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 || (count < 0 && errno == EINTR) { continue }
            return
        }
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
