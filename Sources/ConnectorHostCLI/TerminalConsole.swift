import ConnectorHost
import ConnectorProtocol
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The console of the CLI: the connector's log and the host's notes on stderr, a progress line on a TTY.
public final class TerminalConsole: SyncConsole {
    private let isTerminal = isatty(2) == 1
    private let progressShown = Mutex(false)
    /// The least severe `log` level shown.
    public let minimumLevel: LogLevel
    /// Whether to print anything but errors.
    public let quiet: Bool

    public init(minimumLevel: LogLevel = .info, quiet: Bool = false) {
        self.minimumLevel = minimumLevel
        self.quiet = quiet
    }

    public func connectorLog(_ connector: String, level: LogLevel?, _ message: String) {
        if let level, level < minimumLevel { return }
        if quiet, (level ?? .info) < .error { return }
        let label = level.map { " \($0.rawValue.uppercased())" } ?? ""
        write("[\(connector)\(label)] \(message)")
    }

    public func note(_ message: String) {
        if quiet { return }
        write(message)
    }

    public func progress(_ counts: OperationCounts, elapsed: Double) {
        guard isTerminal, !quiet else { return }
        let rate = elapsed > 0 ? SyncReportFormatter.wholeNumber(Double(counts.rowOperations) / elapsed) : 0
        let line =
            "\r  \(SyncReportFormatter.group(counts.rowOperations)) rows, \(counts.checkpoints) checkpoints, \(SyncReportFormatter.group(rate)) rows/s, \(SyncReportFormatter.wholeNumber(elapsed)) s\u{1B}[K"
        progressShown.withLock { $0 = true }
        writeRaw(line)
    }

    /// Writes a line to stderr, first clearing a progress line.
    public func write(_ line: String) {
        let clear = progressShown.withLock { shown -> Bool in
            defer { shown = false }
            return shown
        }
        writeRaw((clear ? "\r\u{1B}[K" : "") + line + "\n")
    }

    private func writeRaw(_ text: String) {
        try? LineWriter(fileDescriptor: 2).write(Array(text.utf8))
    }
}
