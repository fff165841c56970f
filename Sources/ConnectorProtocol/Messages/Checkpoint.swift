/// `checkpoint`, connector to host: commit every operation sent before it together with `state`.
public struct CheckpointRequest: ProtocolRequest, Equatable {
    public typealias Result = EmptyResult
    public static let method = "checkpoint"

    /// The complete state to resume from, a JSON object.
    public var state: JSONValue

    public init(state: JSONValue) { self.state = state }

    public init(params: JSONValue) throws(InvalidParams) {
        guard let state = params["state"] else { throw InvalidParams(method: Self.method, "has no params.state") }
        guard state.objectValue != nil else {
            throw InvalidParams(method: Self.method, "has a params.state that is a JSON \(state.kindName), not an object")
        }
        self.state = state
    }

    public var params: JSONValue { ["state": state] }
}
