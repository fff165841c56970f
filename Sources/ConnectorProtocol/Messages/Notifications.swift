/// `records`, connector to host: a batch of operations.
///
/// Only the name lives here: the host reads a batch with its record scanner, byte by byte, never
/// through a `JSONValue` (the protocol's hot path); the SDKs write it directly into their buffers.
public struct RecordsNotification: ProtocolNotification {
    public static let method = "records"

    /// The operations, as sent.
    public var operations: [JSONValue]

    public init(operations: [JSONValue]) { self.operations = operations }

    public init(params: JSONValue) throws(InvalidParams) {
        guard let operations = params["ops"]?.arrayValue else { throw InvalidParams("records has no \"ops\" array") }
        self.operations = operations
    }

    public var params: JSONValue { ["ops": .array(operations)] }
}

/// `log`, connector to host: a message for the user, with a level.
public struct LogNotification: ProtocolNotification, Equatable {
    public static let method = "log"

    /// `nil` when the level is missing or unknown (the host shows it as info).
    public var level: LogLevel?
    public var message: String

    public init(level: LogLevel?, message: String) {
        self.level = level
        self.message = message
    }

    /// Lenient, as the host is with logs: a level it does not know is `nil`, a message that is not
    /// a string is shown as its JSON.
    public init(params: JSONValue) {
        level = params["level"]?.stringValue.flatMap(LogLevel.init(wireName:))
        message = params["message"]?.stringValue ?? JSONWriter.string(params["message"] ?? .null)
    }

    public var params: JSONValue { ["level": .string((level ?? .info).rawValue), "message": .string(message)] }
}

/// `cancel`, host to connector: stop the current work; the host closes stdin next.
public struct CancelNotification: ProtocolNotification, Equatable {
    public static let method = "cancel"

    public var reason: String

    public init(reason: String) { self.reason = reason }

    public init(params: JSONValue) {
        reason = params["reason"]?.stringValue ?? ""
    }

    public var params: JSONValue { ["reason": .string(reason)] }
}
