/// `update`, host to connector: stream the changes since `state` (records, checkpoints, logs), then answer.
public struct UpdateRequest: ProtocolRequest, Equatable {
    public typealias Result = UpdateResult
    public static let method = "update"

    public var configuration: JSONObject
    /// The state of the last acknowledged checkpoint, `{}` on the first run.
    public var state: JSONValue
    /// The tables the user selected (`run --tables`), sent only to a connector whose `initialize`
    /// result declares `selectTables`; `nil` (absent) means every table. Never empty.
    public var tables: [TableIdentity]?
    /// The absolute folder the connector stages file uploads in (PROTOCOL.md 5.4, 6.11); `nil` from
    /// a host without file uploads.
    public var fileStaging: String?

    public init(configuration: JSONObject, state: JSONValue, tables: [TableIdentity]? = nil, fileStaging: String? = nil) {
        self.configuration = configuration
        self.state = state
        self.tables = tables
        self.fileStaging = fileStaging
    }

    public init(params: JSONValue) throws(InvalidParams) {
        configuration = try params.objectMember("configuration", of: Self.method)
        state = params["state"] ?? [:]
        switch params["tables"] {
        case nil, .null?: tables = nil
        case .array(let elements)?:
            var identities: [TableIdentity] = []
            for element in elements {
                guard let table = element["table"]?.stringValue else {
                    throw InvalidParams(method: Self.method, "has a tables element without a \"table\" string")
                }
                identities.append(TableIdentity(table: table, schema: element["schema"]?.stringValue))
            }
            tables = identities
        default: throw InvalidParams(method: Self.method, "has tables that are not an array")
        }
        switch params["fileStaging"] {
        case nil, .null?: fileStaging = nil
        case .string(let folder)?: fileStaging = folder
        default: throw InvalidParams(method: Self.method, "has fileStaging that is not a string")
        }
    }

    public var params: JSONValue {
        var object: JSONObject = ["configuration": .object(configuration), "state": state]
        if let tables { object["tables"] = .array(tables.map(\.json)) }
        if let fileStaging { object["fileStaging"] = .string(fileStaging) }
        return .object(object)
    }
}

/// A table as the connector declared it in its `schema` result: its `table` and, when it has one,
/// its destination `schema` (`nil` for the default schema).
public struct TableIdentity: Sendable, Hashable {
    public var table: String
    public var schema: String?

    public init(table: String, schema: String? = nil) {
        self.table = table
        self.schema = schema
    }

    /// `{"table": ..., "schema": ...}` (schema only when there is one).
    public var json: JSONValue {
        var object: JSONObject = ["table": .string(table)]
        if let schema { object["schema"] = .string(schema) }
        return .object(object)
    }

    /// `schema.table`, or `table` in the default schema.
    public var shown: String { schema.map { "\($0).\(table)" } ?? table }
}

/// The answer to `update`: `{}` or a summary the host ignores.
public struct UpdateResult: ProtocolResult, Equatable {
    public var json: JSONValue
    public init() { json = [:] }
    public init(json: JSONValue) throws(InvalidParams) { self.json = json }
}
