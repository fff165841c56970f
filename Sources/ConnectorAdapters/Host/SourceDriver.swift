import ConnectorProtocol

/// One foreign protocol (Singer, Airbyte) driven on behalf of the host: the requests of protocol
/// v1, answered by running the tap or source. Called on the adapter's main thread only.
protocol SourceDriver: AnyObject {
    /// For `initialize`: who the source is and which configuration keys hold secrets.
    func describe(configuration: JSONObject) throws(AdapterError) -> SourceIdentity

    /// For `schema`: the tables of the streams that will be synced.
    func tables(configuration: JSONObject, log: LogSink) throws(AdapterError) -> [TableDefinition]

    /// For `test`: whether the source can be reached with this configuration.
    func test(configuration: JSONObject, log: LogSink) throws(AdapterError) -> (ok: Bool, message: String)

    /// For `update`: runs the sync from `state`, sending operations and checkpoints to `operations`.
    /// - Parameter tables: the tables the user selected (`run --tables`; the adapter declares
    ///   `selectTables`), by stream name, or `nil` for every table of `schema`. The tap or source
    ///   runs with only those streams, so that its state, which the host then stores, covers them
    ///   alone (the state of the other streams is carried over as it was).
    func update(configuration: JSONObject, state: JSONObject, tables: [String]?, operations: OperationStream) throws(AdapterError)
}

/// What `initialize` answers about the source.
struct SourceIdentity {
    var name: String
    var version: String
    /// Configuration keys whose values are secret (Airbyte `airbyte_secret`, Singer SDK `secret`).
    var secretKeys: [String]
    /// Whether `test` is implemented for this source.
    var hasConnectionTest: Bool
}

/// Where a driver sends log lines outside `update` (during `schema` and `test`).
typealias LogSink = (LogLevel, String) -> Void

extension JSONObject {
    /// The configuration as the source gets it: without the host's own `__secrets` list, which a
    /// source with a strict spec (`additionalProperties: false`) would refuse.
    var forSource: JSONValue { .object(JSONObject(members.filter { $0.key != "__secrets" })) }
}
