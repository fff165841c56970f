public import ConnectorProtocol

/// The table one stream becomes, and what the record path needs to know about it.
public struct StreamTable: Sendable {
    /// The table as declared to the host.
    public var definition: TableDefinition
    /// The UTF-8 names of its UTC_DATETIME columns, whose values get ``TimestampRepair``.
    var timestampColumns: [[UInt8]]

    /// The table of the stream `name` with record schema `schema` and primary key `primaryKey`.
    ///
    /// Property types follow ``JSONSchemaTypes``. A primary-key column typed JSON or DOUBLE (which
    /// cannot be keys) is declared STRING: its values are stored as their JSON text, which identifies
    /// a row as well. A primary-key column the schema does not type is left undeclared: the host
    /// types it from its first value (a partial declaration).
    public init(name: String, schema: JSONValue, primaryKey: [String]) {
        var columns = JSONSchemaTypes.columns(of: schema)
        for index in columns.indices where primaryKey.contains(columns[index].name) {
            if [.json, .double, .float, .binary].contains(columns[index].type.dataType) { columns[index].type = ColumnType(.string) }
        }
        definition = TableDefinition(name: name, primaryKey: primaryKey, columns: columns)
        timestampColumns = columns.filter { $0.type.dataType == .utcDateTime }.map { Array($0.name.utf8) }
    }
}
