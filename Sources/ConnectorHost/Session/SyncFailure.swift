import ConnectorProtocol

/// Why a sync failed: one precise message (what, where, how to fix) and the exit code.
public struct SyncFailure: Error, Sendable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable {
        /// The connector's directory, manifest, build or executable.
        case launch
        /// The configuration file.
        case configuration
        /// A line on stdout that breaks the protocol.
        case protocolViolation
        /// The schema the connector declared.
        case invalidSchema
        /// An operation the connector sent.
        case invalidOperation
        /// The connector answered with a JSON-RPC error.
        case connectorError
        /// The connector exited or was killed before finishing.
        case connectorExited
        /// The connector sent nothing for too long.
        case timeout
        /// The host was asked to stop: Ctrl-C, SIGTERM or SIGHUP (``SyncFailure/cancellation``).
        case cancelled
        /// The warehouse (SQLite, the state file, the lock).
        case warehouse
    }

    public let kind: Kind
    public let message: String
    /// Structured details for `--json` output (table, column, operation index, line).
    public let details: [String: String]
    /// Why the sync was cancelled (kind `cancelled` only).
    public let cancellation: CancellationReason?
    /// Whether the failure is a mistake of the command line, found before anything started: a
    /// folder that does not exist or holds no connector, a configuration file that cannot be read.
    /// The command then exits 2 with the message alone, without a report of zeros.
    public let isUsageError: Bool

    public init(
        _ kind: Kind, _ message: String, details: [String: String] = [:], cancellation: CancellationReason? = nil,
        isUsageError: Bool = false
    ) {
        self.kind = kind
        self.message = message
        self.details = details
        self.cancellation = kind == .cancelled ? cancellation ?? .interrupt : nil
        self.isUsageError = isUsageError
    }

    /// The same failure with another message (the stderr tail or the teardown added).
    func replacingMessage(_ message: String) -> SyncFailure {
        SyncFailure(kind, message, details: details, cancellation: cancellation, isUsageError: isUsageError)
    }

    /// A protocol violation on stdout line `number`: the message starts "stdout line N " and the
    /// details carry the line.
    static func atLine(_ number: Int, _ message: String) -> SyncFailure {
        SyncFailure(.protocolViolation, "stdout line \(number) " + message, details: ["line": String(number)])
    }

    /// Whether the message carries the connector's traceback (its error answer's `data.traceback`).
    var carriesTraceback: Bool { details["traceback"] != nil }

    /// 128 + the signal for a cancellation (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP: the
    /// shells' convention), 2 for a usage error, 1 for every other failure.
    public var exitCode: Int32 { cancellation?.exitCode ?? (isUsageError ? 2 : 1) }

    public var description: String { message }
}

extension InvalidOperation {
    /// The operation's failure as one message, with the configuration's secret values masked
    /// wherever they appear (the operation's excerpt, the value in the reason, names).
    func failure(redacting redactor: Redactor) -> SyncFailure {
        var details = ["operationIndex": String(operationIndex), "line": String(line)]
        details["table"] = table
        details["column"] = column
        let message =
            "invalid operation: \(self.location): \(reason)\n  the operation: \(excerpt)\n  Nothing after the last checkpoint was kept; fix the connector and run again."
        return SyncFailure(.invalidOperation, message, details: details).shown(by: redactor)
    }
}

extension SyncFailure {
    /// The failure as it is shown and stored: the configuration's secrets masked in the message and
    /// the details, and control characters escaped (the message's own line breaks kept: connector
    /// text embedded in it escaped its line breaks already, with ``Redactor/show(_:limit:)``).
    func shown(by redactor: Redactor) -> SyncFailure {
        SyncFailure(
            kind, HumanText.escapingControls(redactor.mask(message), keepingLineBreaks: true),
            details: details.mapValues { HumanText.escapingControls(redactor.mask($0)) }, cancellation: cancellation,
            isUsageError: isUsageError)
    }
}
