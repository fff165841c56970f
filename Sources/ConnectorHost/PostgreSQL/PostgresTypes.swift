import ConnectorProtocol

/// How the protocol's types map to PostgreSQL's native types, and how a column widens there.
///
/// Every type holds the values SQLite holds for it (TypeRules), so the same sync leaves the same
/// rows in both. Two choices follow from that: FLOAT is `double precision` (SQLite keeps the double
/// a FLOAT value reads as, and widening FLOAT to DOUBLE must not change it), and XML is `text` (the
/// host does not check that XML is well-formed, and `xml` would refuse, mid-sync, what SQLite stores).
enum PostgresTypes {
    /// The type of a column that has only seen nulls (an undeclared primary-key column before its
    /// first value): no row can exist yet, so its first type replaces this one without converting anything.
    static let untyped = "text"

    /// The column type that holds values of `type` exactly.
    static func sqlType(_ type: ColumnType?) -> String {
        guard let type else { return untyped }
        switch type.dataType {
        case .boolean: return "boolean"
        case .short: return "smallint"
        case .int: return "integer"
        case .long: return "bigint"
        case .decimal: return "numeric(\(type.precision ?? 38),\(type.scale ?? 10))"
        case .float, .double: return "double precision"
        case .naiveDate: return "date"
        case .naiveDateTime: return "timestamp"
        case .utcDateTime: return "timestamptz"
        case .binary: return "bytea"
        case .xml, .string: return "text"
        case .json: return "jsonb"
        }
    }

    /// How stored values change when a column widens from `old` to `new` (a result of
    /// ``TypeRules/widened(_:_:)``): the expression for `ALTER COLUMN ... TYPE ... USING`, `{}`
    /// standing for the quoted column, or `nil` when the stored values need no change (same type).
    /// Text forms are SQLite's: BOOLEAN as `true`/`false`, BINARY as base64, times as ISO 8601.
    /// DOUBLE to STRING is not here: its text (Swift's shortest form) is computed per value
    /// (``PostgresDestination``).
    static func conversion(from old: ColumnType, to new: ColumnType) -> String? {
        if sqlType(old) == sqlType(new) { return nil }
        switch (old.dataType, new.dataType) {
        case (.boolean, .string): return "CASE {} WHEN true THEN 'true' WHEN false THEN 'false' END"
        case (.boolean, _): return "CASE {} WHEN true THEN 1 WHEN false THEN 0 END::\(sqlType(new))"
        case (.binary, .string): return "translate(encode({}, 'base64'), E'\\n', '')"
        case (.naiveDate, .utcDateTime): return "({}::timestamp AT TIME ZONE 'UTC')"
        case (.naiveDateTime, .utcDateTime): return "({} AT TIME ZONE 'UTC')"
        case (.naiveDate, .string): return dateText("{}")
        case (.naiveDateTime, .string): return dateText("{}") + " || 'T' || " + timeText("{}")
        case (.utcDateTime, .string):
            return dateText("({} AT TIME ZONE 'UTC')") + " || 'T' || " + timeText("({} AT TIME ZONE 'UTC')") + " || 'Z'"
        default: return "{}::\(sqlType(new))"
        }
    }

    /// `YYYY-MM-DD` of a date or timestamp expression, the year 1 BC written 0000 (ISO 8601's year 0).
    private static func dateText(_ value: String) -> String {
        "(CASE WHEN \(value) < '0001-01-01' THEN '0000' || to_char(\(value), '-MM-DD') ELSE to_char(\(value), 'YYYY-MM-DD') END)"
    }

    /// `HH:MM:SS` and the fraction without trailing zeros (none when it is zero) of a timestamp expression.
    private static func timeText(_ value: String) -> String {
        "to_char(\(value), 'HH24:MI:SS') || rtrim(rtrim(to_char(\(value), '.US'), '0'), '.')"
    }
}
