/// `schema`, host to connector: the tables the connector writes.
public struct SchemaRequest: ConfigurationRequest, Equatable {
    public typealias Result = SchemaResult
    public static let method = "schema"

    public var configuration: JSONObject

    public init(configuration: JSONObject) { self.configuration = configuration }
}

/// The answer to `schema`: `{"tables": [...]}`.
///
/// Kept as JSON: the host validates it member by member with every problem's path
/// (`SchemaValidator`), which a decode that stops at the first problem could not report.
public struct SchemaResult: ProtocolResult, Equatable {
    public var json: JSONValue

    public init(tables: [TableDefinition]) { json = ["tables": .array(tables.map(\.json))] }

    public init(json: JSONValue) throws(InvalidParams) {
        guard json["tables"]?.arrayValue != nil else { throw InvalidParams("the schema result has no \"tables\" array") }
        self.json = json
    }
}
