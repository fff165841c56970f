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
    /// Strings are never read as dates or numbers: that needs a declaration.
    static func inferredType(_ value: FieldValue, _ source: RecordSource) -> ColumnType? {
        switch value {
        case .null: return nil
        case .bool: return ColumnType(.boolean)
        case .number(let range):
            let literal = source.slice(range)
            let isInteger = !literal.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            if isInteger, (try? ValueBinder.integer(literal, ColumnType(.long), shown: literal)) != nil { return ColumnType(.long) }
            return ColumnType(.double)
        case .string: return ColumnType(.string)
        case .composite: return ColumnType(.json)
        }
    }

    /// The inferred type under Fivetran's string typing: a string that reads as a boolean
    /// (`true`/`false`/`t`/`f`, any case), an integer within LONG (no `+`, no leading zero unless
    /// negative), a JSON number with a decimal point, a date, a timestamp (`T`, a space or `t`) or
    /// one with `Z`/`±HH:MM` after a `T` types its column so (fivetran-behaviour 4.1); anything else,
    /// and any string with an escape, is STRING.
    static func inferredType(_ value: FieldValue, _ source: RecordSource, strings: StringTyping) -> ColumnType? {
        guard strings == .fivetran, case .string(let token) = value, !token.hasEscapes else { return inferredType(value, source) }
        return ColumnType(shapeType(source.slice(token)))
    }

    static func shapeType(_ text: UnsafeBufferPointer<UInt8>) -> DataType {
        let count = text.count
        guard count > 0 else { return .string }
        if isBooleanText(text) != nil { return .boolean }
        let first = text[0]
        if first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) {
            let digits = first == UInt8(ascii: "-") ? UnsafeBufferPointer(rebasing: text[1...]) : text
            if !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                if first != UInt8(ascii: "-"), count > 1, first == UInt8(ascii: "0") { return .string }
                return (try? ValueBinder.integer(text, ColumnType(.long), shown: text)) != nil ? .long : .string
            }
            if text.contains(UInt8(ascii: ".")), ValueBinder.isJSONNumber(text) { return .double }
            if count == 10, TemporalValues.isNaiveDate(text) { return .naiveDate }
            if count >= 16, TemporalValues.isNaiveDate(UnsafeBufferPointer(rebasing: text[0..<10])) {
                // Only forms the value binder stores as they are (a lower-case `t` or a time without
                // seconds, which Fivetran also reads as timestamps, stay STRING here).
                if TemporalValues.naiveDateTime(text) != nil { return .naiveDateTime }
                if text[10] != UInt8(ascii: " "), TemporalValues.utcDateTime(text) != nil { return .utcDateTime }
            }
        }
        return .string
    }

    /// `true`/`false`/`t`/`f` in any case, as Fivetran reads booleans in strings.
    static func isBooleanText(_ text: UnsafeBufferPointer<UInt8>) -> Bool? {
        func lower(_ index: Int) -> UInt8 { text[index] | 0x20 }
        switch text.count {
        case 1: return lower(0) == UInt8(ascii: "t") ? true : lower(0) == UInt8(ascii: "f") ? false : nil
        case 4:
            return lower(0) == UInt8(ascii: "t") && lower(1) == UInt8(ascii: "r") && lower(2) == UInt8(ascii: "u")
                && lower(3) == UInt8(ascii: "e") ? true : nil
        case 5:
            return lower(0) == UInt8(ascii: "f") && lower(1) == UInt8(ascii: "a") && lower(2) == UInt8(ascii: "l")
                && lower(3) == UInt8(ascii: "s") && lower(4) == UInt8(ascii: "e") ? false : nil
        default: return nil
        }
    }

    private static let numericOrder: [DataType] = [.boolean, .short, .int, .long, .float, .double]
    private static let temporalOrder: [DataType] = [.naiveDate, .naiveDateTime, .utcDateTime]

    /// The narrowest type that holds values of both `existing` and `incoming`:
    /// BOOLEAN < SHORT < INT < LONG < FLOAT < DOUBLE; NAIVE_DATE < NAIVE_DATETIME < UTC_DATETIME;
    /// DECIMAL(p,s) widens to the precision and scale that hold both; JSON stays JSON; any other mix
    /// becomes STRING.
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

    /// How stored values change when a column widens from `old` to `new`.
    enum Conversion {
        /// The stored values are already right (same storage, same text form).
        case none
        /// An SQL expression over the column, `{}` standing for the quoted column name.
        case sql(String)
        /// A per-value conversion in Swift, for forms SQL cannot produce (shortest double text, base64).
        case perValue((SQLiteValue) -> SQLiteValue)
    }

    /// The conversion that keeps every stored value readable, and in the canonical text of its new
    /// type, when a column widens from `old` to `new` (a result of ``widened(_:_:)``).
    static func conversion(from old: ColumnType, to new: ColumnType) -> Conversion {
        switch (old.dataType, new.dataType) {
        case (.boolean, .string): return .sql("CASE {} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END")
        case (.short, .string), (.int, .string), (.long, .string): return .sql("CAST({} AS TEXT)")
        case (.float, .string), (.double, .string):
            // The shortest text that reads back as the same double, as a number sent to a STRING column.
            return .perValue { value in
                if case .real(let number) = value { return .text("\(number)") }
                return value
            }
        case (.binary, .string):
            return .perValue { value in
                if case .blob(let bytes) = value { return .text(Base64.encode(bytes)) }
                return value
            }
        case (.decimal, .decimal):
            let added = (new.scale ?? 0) - (old.scale ?? 0)
            guard added > 0 else { return .none }
            let zeros = String(repeating: "0", count: added)
            return .sql((old.scale ?? 0) == 0 ? "{} || '.\(zeros)'" : "{} || '\(zeros)'")
        case (.naiveDate, .naiveDateTime): return .sql("{} || 'T00:00:00'")
        case (.naiveDate, .utcDateTime): return .sql("{} || 'T00:00:00Z'")
        case (.naiveDateTime, .utcDateTime): return .sql("{} || 'Z'")
        default:
            return sqlType(old) == sqlType(new) ? .none : .sql("CAST({} AS \(sqlType(new)))")
        }
    }
}
