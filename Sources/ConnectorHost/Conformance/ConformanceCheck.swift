import ConnectorProtocol

/// One requirement of protocol/PROTOCOL.md that `connector-host conformance` checks.
///
/// The order of the cases is the order of the report. Section 16 of PROTOCOL.md describes what
/// the suite sends for each check and what it expects back.
public enum ConformanceCheck: String, Sendable, CaseIterable, Hashable {
    case handshake
    case notInitialized = "not-initialized"
    case versionNegotiation = "version-negotiation"
    case stdout
    case responseIDs = "response-ids"
    case unknownRequest = "unknown-request"
    case unknownNotification = "unknown-notification"
    case schema
    case update
    case records
    case resume
    case selectTables = "select-tables"
    case eofExit = "eof-exit"
    case shutdown
    case errorReporting = "error-reporting"
    case setupTests = "setup-tests"
    case configurationForm = "configuration-form"
    case warnings = "warning"
    /// Only with `conformance --resumption`.
    case resumption

    /// The checks every conformance run makes (all but ``resumption``, which is asked for).
    public static var standard: [ConformanceCheck] { allCases.filter { $0 != .resumption } }

    /// What the check requires, in one line.
    public var requirement: String {
        switch self {
        case .handshake: "initialize is answered with protocolVersion 1, connector {name, version} and capabilities"
        case .notInitialized: "a request before initialize is answered with error -32002"
        case .versionNegotiation: "initialize asking for an unknown version (2) is answered with version 1, or error -32015"
        case .stdout: "every line on stdout is one JSON-RPC 2.0 object"
        case .responseIDs: "every response carries the id of the request it answers, with the same JSON type"
        case .unknownRequest: "an unknown request is answered with error -32601"
        case .unknownNotification: "an unknown notification is ignored: not answered, and the next request still works"
        case .schema: "the schema result follows the schema rules (PROTOCOL.md section 9)"
        case .update: "update succeeds after at least one checkpoint, and each checkpoint waits for its acknowledgement"
        case .records: "every operation is well-formed, fits its column types and names a declared table"
        case .resume: "a second update, from the first update's last checkpointed state, succeeds"
        case .selectTables: "a connector declaring selectTables sends operations only for the tables update's tables names"
        case .eofExit: "stdin EOF makes the connector exit with status 0 promptly (idle, and while waiting for a checkpoint answer)"
        case .shutdown: "shutdown is answered with {} and the connector exits with status 0 on the EOF that follows"
        case .resumption:
            "(--resumption) stopped after each checkpoint and resumed, the connector leaves the same rows as one uninterrupted sync"
        case .errorReporting: "after a refused checkpoint the connector answers update with a JSON-RPC error, not only an exit code"
        case .setupTests:
            "a connector declaring test answers it with {ok, message} and, with setup tests, one {label, ok, message} each, ok their conjunction"
        case .configurationForm: "a connector declaring configurationForm answers it with a valid form (PROTOCOL.md 5.10)"
        case .warnings: "every warning notification has a non-empty string message"
        }
    }
}

/// The verdict on one check.
public struct ConformanceResult: Sendable, Equatable {
    public enum Status: String, Sendable {
        case passed, failed
        /// The check could not run because something it needs failed (named in the reason).
        case skipped
    }

    public var check: ConformanceCheck
    public var status: Status
    /// Why, in one line: what was observed, and for a failure what the protocol expects instead.
    public var reason: String

    public init(_ check: ConformanceCheck, _ status: Status, _ reason: String) {
        self.check = check
        self.status = status
        self.reason = reason
    }
}

/// The outcome of a conformance run.
public struct ConformanceReport: Sendable {
    /// The connector's name (from its directory or manifest).
    public var connector: String
    public var directory: String
    /// One result per check, in ``ConformanceCheck`` order; empty when the connector could not be started.
    public var results: [ConformanceResult]
    /// Set when the connector could not be prepared or started at all (no checks ran).
    public var launchFailure: String?
    /// Whether ``launchFailure`` is a mistake of the command line (no connector in the folder, an
    /// unreadable configuration): the command exits 2 with the message alone.
    public var launchFailureIsUsageError = false

    /// True only when every check passed.
    public var passed: Bool { launchFailure == nil && !results.isEmpty && results.allSatisfy { $0.status == .passed } }

    /// The result of one check.
    public func result(_ check: ConformanceCheck) -> ConformanceResult? { results.first { $0.check == check } }

    /// The checks that failed, in report order.
    public var failedChecks: [ConformanceCheck] { results.filter { $0.status == .failed }.map(\.check) }
}
