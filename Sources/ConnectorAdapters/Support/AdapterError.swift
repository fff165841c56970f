import ConnectorProtocol

/// Why an adapter request failed: the message for the user and the protocol error it becomes.
public struct AdapterError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, which decides the JSON-RPC error code of the answer.
    public enum Kind: Sendable {
        /// The configuration (or the manifest's command) is wrong: -32012.
        case configuration
        /// The tap or source failed, or said something the adapter cannot use: -32013.
        case source
        /// The host sent `cancel` or closed the adapter's stdin: -32014.
        case cancelled
        /// The host refused a checkpoint: its own code.
        case refused(RPCErrorCode)
    }

    public var kind: Kind
    public var message: String
    /// `error.data` of the answer: `type` (e.g. the Airbyte failure type) and `traceback`.
    public var data: JSONValue?

    public init(_ kind: Kind, _ message: String, data: JSONValue? = nil) {
        self.kind = kind
        self.message = message
        self.data = data
    }

    public var description: String { message }

    /// The error answer of a request.
    var rpcError: RPCError {
        let code: RPCErrorCode =
            switch kind {
            case .configuration: .configurationError
            case .source: .sourceError
            case .cancelled: .cancelled
            case .refused(let code): code
            }
        return RPCError(code, message, data: data)
    }

    static let cancelled = AdapterError(.cancelled, "the host cancelled the sync")
}
