import ConnectorProtocol

/// The rules every table and column name follows, in the schema and in operations alike.
///
/// SQLite compares identifiers case-insensitively for ASCII letters only (`"Items"` and `"items"` are
/// one table, `"É"` and `"é"` are two), so collisions and the reserved prefix are compared on the
/// ASCII-folded name.
enum NameRules {
    /// Why `name` cannot be a table or column name (`what` is "table" or "column"), or `nil`.
    static func problem(_ name: String, what: String) -> String? {
        if name.isEmpty { return "empty \(what) name" }
        if folded(name).hasPrefix(systemPrefix) {
            return "\(what) name \(quoted(name)) uses the reserved prefix \(systemPrefix) (in any letter case)"
        }
        if what == "table", folded(name).hasPrefix("sqlite_") {
            // SQLite reserves these names for its own tables (sqlite_master, sqlite_sequence, ...).
            return "table name \(quoted(name)) uses SQLite's reserved prefix sqlite_ (in any letter case); rename the table"
        }
        if name.unicodeScalars.contains(where: isControl) {
            return "\(what) name \(quoted(name)) contains a control character"
        }
        return nil
    }

    /// The name with ASCII letters lower-cased: equal folded names are the same SQLite identifier.
    static func folded(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return name }
        return String(decoding: name.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// The message for two names that SQLite would take for one.
    static func caseCollision(_ name: String, existing: String, what: String) -> String {
        "\(what) \(quoted(name)) differs from the existing \(what) \(quoted(existing)) only in letter case; SQLite names are case-insensitive, so use \(quoted(existing)) everywhere"
    }

    /// U+0000-U+001F and U+007F-U+009F (C0, DEL and C1).
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F)
    }

    /// The name as a JSON string, so control characters show as escapes.
    static func quoted(_ name: String) -> String { JSONWriter.string(.string(name)) }
}
