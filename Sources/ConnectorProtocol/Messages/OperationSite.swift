/// `operationSite`, host to connector: where in its code the connector made an operation the host
/// refused (sent only to a connector that declares `operationSites`, while `update` is pending).
public struct OperationSiteRequest: ProtocolRequest, Equatable {
    public typealias Result = OperationSiteResult
    public static let method = "operationSite"

    /// The 1-based index of the op among all the ops of the current `update` (PROTOCOL.md 6.8).
    public var operationIndex: Int64

    public init(operationIndex: Int64) { self.operationIndex = operationIndex }

    public init(params: JSONValue) throws(InvalidParams) {
        guard let index = params["operationIndex"]?.int64Value, index >= 1 else {
            throw InvalidParams(method: Self.method, "needs an integer operationIndex of at least 1")
        }
        operationIndex = index
    }

    public var params: JSONValue { ["operationIndex": .number(JSONNumber(operationIndex))] }
}

/// The answer to `operationSite`: the user's code that called the SDK's op function, or `{}` when the
/// connector does not know.
public struct OperationSiteResult: ProtocolResult, Equatable {
    /// The absolute path of the file.
    public var file: String?
    /// The 1-based line.
    public var line: Int64?
    /// The function that made the call, when known.
    public var function: String?

    public init(file: String? = nil, line: Int64? = nil, function: String? = nil) {
        self.file = file
        self.line = line
        self.function = function
    }

    public init(json: JSONValue) throws(InvalidParams) {
        guard json.objectValue != nil else { throw InvalidParams("the operationSite result is not an object") }
        file = json["file"]?.stringValue
        line = json["line"]?.int64Value
        function = json["function"]?.stringValue
    }

    public var json: JSONValue {
        var object = JSONObject()
        if let file { object["file"] = .string(file) }
        if let line { object["line"] = .number(JSONNumber(line)) }
        if let function { object["function"] = .string(function) }
        return .object(object)
    }
}
