import ConnectorProtocol

/// The stdout of a running tap or source, line by line, for the length of one sync.
///
/// Reading waits on the source and on the host connection's wake descriptor together, so a `cancel`
/// or the end of the host's stdin interrupts a source that is slow to produce its next line.
final class SourceOutput {
    let process: SourceProcess
    private let reader: LineReader
    private let connection: HostConnection
    /// What the source is called in messages ("the tap", "the source").
    let role: String

    /// Starts `arguments` with stderr shared with the adapter (the host shows it as the connector's log).
    init(arguments: [String], connection: HostConnection, role: String) throws(AdapterError) {
        process = try SourceProcess(arguments: arguments, captureStderr: false)
        reader = LineReader(fileDescriptor: process.output)
        reader.wakeDescriptor = connection.wakeDescriptor
        self.connection = connection
        self.role = role
    }

    /// The number of the last line returned (1-based), for messages.
    var lineNumber: Int { reader.lineNumber }

    /// The next line (valid until the next call), or `nil` at the end of the source's stdout.
    /// - Throws: ``AdapterError`` `.cancelled` when the host stopped the sync, `.source` for an unreadable stream.
    func nextLine() throws(AdapterError) -> UnsafeBufferPointer<UInt8>? {
        if connection.isStopped { throw .cancelled }
        do {
            return try reader.nextLine()
        } catch {
            switch error {
            case .interrupted: throw .cancelled
            case .lineTooLong(let line, let limit):
                throw AdapterError(.source, "\(role)'s stdout line \(line) is longer than \(limit) bytes")
            case .partialLineAtEOF(let line, _):
                throw AdapterError(
                    .source,
                    "\(role)'s stdout ended in the middle of line \(line) (\(role) \(process.wait())): it stopped while writing a message")
            case .timedOut: throw AdapterError(.source, "\(role) timed out")
            case .system(let operation, let code):
                throw AdapterError(.source, "reading \(role)'s stdout failed (\(operation): errno \(code))")
            }
        }
    }

    /// Waits for the source to exit after its stdout ended; a non-zero exit is a failure.
    /// - Parameter unreported: what the source failed to do to report its error itself, if its
    ///   protocol has a way (Airbyte's TRACE messages).
    func finish(unreported: String? = nil) throws(AdapterError) {
        let exit = process.wait()
        guard exit == .exited(0) else {
            throw AdapterError(
                .source, "\(role) (\(process.displayName)) \(exit)\(unreported.map { " " + $0 } ?? ""); its stderr says why")
        }
    }

    /// Stops the source early (after a failure or a cancel): SIGTERM, then SIGKILL after a second.
    func stop() { process.terminate(grace: 1) }
}
