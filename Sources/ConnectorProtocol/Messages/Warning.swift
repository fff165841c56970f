/// `warning`, connector to host: a warning for the user that does not fail the sync (Fivetran's
/// `op.warning`). The host shows the first ten of a sync, counts them all and records them.
public struct WarningNotification: ProtocolNotification, Equatable {
    public static let method = "warning"

    public var message: String

    public init(message: String) { self.message = message }

    /// Lenient, as the host is with logs: a message that is not a string is shown as its JSON.
    public init(params: JSONValue) {
        message = params["message"]?.stringValue ?? JSONWriter.string(params["message"] ?? .null)
    }

    public var params: JSONValue { ["message": .string(message)] }
}
