/// `update`, host to connector: stream the changes since `state` (records, checkpoints, logs), then answer.
public struct UpdateRequest: ProtocolRequest, Equatable {
    public typealias Result = UpdateResult
    public static let method = "update"

    public var configuration: JSONObject
    /// The state of the last acknowledged checkpoint, `{}` on the first run.
    public var state: JSONValue

    public init(configuration: JSONObject, state: JSONValue) {
        self.configuration = configuration
        self.state = state
    }

    public init(params: JSONValue) throws(InvalidParams) {
        configuration = try params.objectMember("configuration", of: Self.method)
        state = params["state"] ?? [:]
    }

    public var params: JSONValue { ["configuration": .object(configuration), "state": state] }
}

/// The answer to `update`: `{}` or a summary the host ignores.
public struct UpdateResult: ProtocolResult, Equatable {
    public var json: JSONValue
    public init() { json = [:] }
    public init(json: JSONValue) throws(InvalidParams) { self.json = json }
}
