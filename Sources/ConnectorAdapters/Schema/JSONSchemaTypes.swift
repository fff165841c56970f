public import ConnectorProtocol

/// Maps the JSON Schema of a Singer stream or an Airbyte stream onto column types of protocol v1.
///
/// Both ecosystems describe a record as a JSON Schema object whose `properties` are the columns.
/// The mapping, property by property (a `"null"` member of a type list only makes the column
/// nullable, which every non-key column is anyway):
///
/// | JSON Schema | column type |
/// |---|---|
/// | `integer`, or `number` with `airbyte_type: integer` | LONG |
/// | `number`, or `integer` and `number` | DOUBLE |
/// | `boolean` | BOOLEAN |
/// | `string` with `format: date-time` | UTC_DATETIME (NAIVE_DATETIME with `airbyte_type: timestamp_without_timezone`) |
/// | `string` with `format: date` | NAIVE_DATE |
/// | any other `string` | STRING |
/// | `object`, `array` | JSON |
/// | a union (`type` list, `anyOf`, `oneOf`) of the above | the one type they share; JSON when one of them is an object or array; else STRING |
/// | no type at all (`{}`, a `$ref`, only `null`) | not declared: the host infers it from the values |
public enum JSONSchemaTypes {
    /// The column type of one property schema, or `nil` when the schema says nothing usable (the
    /// column is then left undeclared and typed by the host from its values).
    public static func columnType(of schema: JSONValue) -> ColumnType? {
        kinds(of: schema).flatMap(columnType(for:))
    }

    /// The declared columns of a record schema: its `properties` in order, each with its type;
    /// properties without a usable type are left out.
    public static func columns(of recordSchema: JSONValue) -> [(name: String, type: ColumnType)] {
        guard let properties = recordSchema["properties"]?.objectValue else { return [] }
        return properties.compactMap { member in columnType(of: member.value).map { (name: member.key, type: $0) } }
    }

    /// What a property schema can hold, with `null` dropped; `nil` when it does not say.
    private static func kinds(of schema: JSONValue) -> Set<Kind>? {
        guard let object = schema.objectValue else { return nil }
        var result: Set<Kind> = []
        var said = false
        switch object["type"] {
        case .string(let name)?:
            said = true
            result.formUnion(kinds(named: name, in: object))
        case .array(let names)?:
            said = true
            for case .string(let name) in names { result.formUnion(kinds(named: name, in: object)) }
        default: break
        }
        for keyword in ["anyOf", "oneOf"] {
            guard let alternatives = object[keyword]?.arrayValue else { continue }
            for alternative in alternatives {
                guard let alternativeKinds = kinds(of: alternative) else {
                    // An alternative that says nothing may hold anything: the union says nothing either.
                    if !isNullOnly(alternative) { return nil }
                    continue
                }
                said = true
                result.formUnion(alternativeKinds)
            }
        }
        return said && !result.isEmpty ? result : nil
    }

    private static func isNullOnly(_ schema: JSONValue) -> Bool {
        schema["type"] == .string("null") || schema["type"] == .array([.string("null")])
    }

    /// The kinds of one `type` name, refined by the schema's `format` and `airbyte_type`.
    private static func kinds(named name: String, in schema: JSONObject) -> Set<Kind> {
        let airbyteType = schema["airbyte_type"]?.stringValue
        switch name {
        case "integer": return [.integer]
        case "number": return airbyteType == "integer" ? [.integer] : [.number]
        case "boolean": return [.boolean]
        case "object": return [.object]
        case "array": return [.array]
        case "string":
            switch schema["format"]?.stringValue {
            case "date-time": return airbyteType == "timestamp_without_timezone" ? [.naiveDateTime] : [.dateTime]
            case "date": return [.date]
            default: return [.string]
            }
        default: return []  // "null", and names JSON Schema does not define
        }
    }

    private static func columnType(for kinds: Set<Kind>) -> ColumnType? {
        if kinds.count == 1, let kind = kinds.first { return ColumnType(kind.dataType) }
        if kinds == [.integer, .number] { return ColumnType(.double) }
        if kinds.contains(.object) || kinds.contains(.array) { return ColumnType(.json) }
        return ColumnType(.string)
    }

    private enum Kind: Hashable {
        case integer, number, boolean, string, dateTime, naiveDateTime, date, object, array

        var dataType: DataType {
            switch self {
            case .integer: .long
            case .number: .double
            case .boolean: .boolean
            case .string: .string
            case .dateTime: .utcDateTime
            case .naiveDateTime: .naiveDateTime
            case .date: .naiveDate
            case .object, .array: .json
            }
        }
    }
}
