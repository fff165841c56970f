/// The fourteen data types of a column.
public enum DataType: String, Sendable, Hashable, CaseIterable {
    case boolean = "BOOLEAN"
    case short = "SHORT"
    case int = "INT"
    case long = "LONG"
    case decimal = "DECIMAL"
    case float = "FLOAT"
    case double = "DOUBLE"
    case naiveDate = "NAIVE_DATE"
    case naiveDateTime = "NAIVE_DATETIME"
    case utcDateTime = "UTC_DATETIME"
    case binary = "BINARY"
    case xml = "XML"
    case string = "STRING"
    case json = "JSON"
}

/// A column's declared type: a data type, with precision and scale for DECIMAL.
public struct ColumnType: Sendable, Hashable, CustomStringConvertible {
    public var dataType: DataType
    public var precision: Int?
    public var scale: Int?

    public init(_ dataType: DataType, precision: Int? = nil, scale: Int? = nil) {
        self.dataType = dataType
        self.precision = precision
        self.scale = scale
    }

    /// `DECIMAL(p,s)` for decimals, else the type name.
    public var description: String {
        if dataType == .decimal, let precision, let scale { return "DECIMAL(\(precision),\(scale))" }
        return dataType.rawValue
    }

    /// The wire form: the type name, or an object for DECIMAL.
    public var json: JSONValue {
        if dataType == .decimal, let precision, let scale {
            return ["type": "DECIMAL", "precision": .number(JSONNumber(precision)), "scale": .number(JSONNumber(scale))]
        }
        return .string(dataType.rawValue)
    }
}

/// A table as a connector declares it in its schema.
public struct TableDefinition: Sendable, Hashable {
    public var name: String
    /// The destination schema the table belongs to (Fivetran's `schema`), `nil` for the default one.
    public var schema: String?
    public var primaryKey: [String]
    /// Declared columns in order; columns not listed are inferred from data.
    public var columns: [(name: String, type: ColumnType)]

    public init(name: String, primaryKey: [String] = [], columns: [(name: String, type: ColumnType)] = []) {
        self.init(name: name, schema: nil, primaryKey: primaryKey, columns: columns)
    }

    /// A table of the destination schema `schema` (`nil`: the default one).
    public init(name: String, schema: String?, primaryKey: [String] = [], columns: [(name: String, type: ColumnType)] = []) {
        self.name = name
        self.schema = schema
        self.primaryKey = primaryKey
        self.columns = columns
    }

    /// The wire form of the table.
    public var json: JSONValue {
        let columnsObject = JSONObject(columns.map { (key: $0.name, value: $0.type.json) })
        var object: JSONObject = ["table": .string(name)]
        if let schema { object["schema"] = .string(schema) }
        object["primaryKey"] = .array(primaryKey.map(JSONValue.string))
        object["columns"] = .object(columnsObject)
        return .object(object)
    }

    public static func == (lhs: TableDefinition, rhs: TableDefinition) -> Bool {
        lhs.name == rhs.name && lhs.schema == rhs.schema && lhs.primaryKey == rhs.primaryKey
            && lhs.columns.map(\.name) == rhs.columns.map(\.name) && lhs.columns.map(\.type) == rhs.columns.map(\.type)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(schema)
        hasher.combine(primaryKey)
    }
}
