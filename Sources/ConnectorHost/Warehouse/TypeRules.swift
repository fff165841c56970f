import ConnectorProtocol

/// How values map to SQLite storage, how undeclared columns get a type, and how types widen.
enum TypeRules {
    /// The SQLite column type (and so affinity) that stores values of `type` unchanged.
    static func sqlType(_ type: ColumnType?) -> String {
        guard let type else { return "" }
        switch type.dataType {
        case .boolean, .short, .int, .long: return "INTEGER"
        case .float, .double: return "REAL"
        case .binary: return "BLOB"
        case .decimal, .naiveDate, .naiveDateTime, .utcDateTime, .xml, .string, .json: return "TEXT"
        }
    }

    /// The type inferred for an undeclared column from one JSON value; `nil` for null (no type yet).
    static func inferredType(_ value: FieldValue, _ source: RecordSource) -> ColumnType? {
        switch value {
        case .null: return nil
        case .bool: return ColumnType(.boolean)
        case .number(let range):
            let literal = source.slice(range)
            let isInteger = !literal.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            if isInteger, (try? ValueBinder.integer(literal, ColumnType(.long))) != nil { return ColumnType(.long) }
            return ColumnType(.double)
        case .string: return ColumnType(.string)
        case .composite: return ColumnType(.json)
        }
    }

    private static let numericOrder: [DataType] = [.boolean, .short, .int, .long, .float, .double]
    private static let temporalOrder: [DataType] = [.naiveDate, .naiveDateTime, .utcDateTime]

    /// The narrowest type that holds values of both `existing` and `incoming`:
    /// BOOLEAN < SHORT < INT < LONG < FLOAT < DOUBLE; NAIVE_DATE < NAIVE_DATETIME < UTC_DATETIME;
    /// JSON stays JSON; any other mix becomes STRING.
    static func widened(_ existing: ColumnType, _ incoming: ColumnType) -> ColumnType {
        if existing == incoming { return existing }
        if existing.dataType == .json { return existing }
        for order in [numericOrder, temporalOrder] {
            if let left = order.firstIndex(of: existing.dataType), let right = order.firstIndex(of: incoming.dataType) {
                return left >= right ? existing : incoming
            }
        }
        if existing.dataType == .decimal, incoming.dataType == .decimal {
            let scale = max(existing.scale ?? 0, incoming.scale ?? 0)
            let integerDigits = max((existing.precision ?? 38) - (existing.scale ?? 0), (incoming.precision ?? 38) - (incoming.scale ?? 0))
            return ColumnType(.decimal, precision: min(38, integerDigits + scale), scale: scale)
        }
        return ColumnType(.string)
    }

    /// SQL that converts a column's stored values from `old` to `new` storage, for a widening.
    static func conversionExpression(column: String, from old: ColumnType, to new: ColumnType) -> String {
        let quoted = quoteIdentifier(column)
        switch (old.dataType, sqlType(new)) {
        case (.boolean, "TEXT"): return "CASE \(quoted) WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
        case (_, "TEXT"): return "CAST(\(quoted) AS TEXT)"
        case (_, "REAL"): return "CAST(\(quoted) AS REAL)"
        default: return quoted
        }
    }
}
