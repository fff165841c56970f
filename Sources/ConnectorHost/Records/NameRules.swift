import ConnectorProtocol

/// The rules every table and column name follows, in the schema and in operations alike.
///
/// SQLite compares identifiers byte for byte after folding ASCII letters (`"Items"` and `"items"` are
/// one table, `"É"` and `"é"` are two), so names are compared with ``same(_:_:)``, never with Swift's
/// `==` (which takes canonically equivalent spellings, NFC `"é"` and NFD `"e\u{301}"`, for one
/// string). Two names that SQLite would take for one (letter case), or that people would (the same
/// characters in another Unicode normalization), are a collision: an error, never a silent mapping.
/// Collisions and the reserved prefix are found on the folded name, a Swift string, whose equality
/// covers both.
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
        if name.utf8.count > maximumBytes {
            // Every statement quotes each name: 2,000 columns of megabyte names would make statements
            // beyond SQLite's limit on SQL length (SQLITE_MAX_SQL_LENGTH) and the host's memory.
            return
                "\(what) name \(quoted(String(name.prefix(40))))… is \(name.utf8.count) bytes long; names are at most \(maximumBytes) bytes (UTF-8)"
        }
        return nil
    }

    /// Why `name` cannot be a destination schema (as the warehouse names it), or `nil`. A `.` would
    /// make `schema.table` ambiguous (PROTOCOL.md section 6.10).
    static func schemaProblem(_ name: String) -> String? {
        if name.isEmpty { return "empty schema name" }
        if name.unicodeScalars.contains(where: isControl) { return "schema name \(quoted(name)) contains a control character" }
        if name.contains(".") {
            return "schema name \(quoted(name)) contains a \".\", which separates the schema from the table in the warehouse's table names"
        }
        return nil
    }

    /// The longest name, in bytes of UTF-8.
    static let maximumBytes = 4096

    /// The name with ASCII letters lower-cased: equal folded names are the same SQLite identifier.
    static func folded(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return name }
        return String(decoding: name.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Whether two names are one name to SQLite before its case folding: the same bytes.
    @inline(__always)
    static func same(_ first: String, _ second: String) -> Bool { first.utf8.elementsEqual(second.utf8) }

    /// Whether two lists of names (primary keys) are the same names in the same order.
    static func same(_ first: [String], _ second: [String]) -> Bool {
        first.count == second.count && zip(first, second).allSatisfy { same($0, $1) }
    }

    /// The message for a name that collides with an existing one (equal folded names, different bytes).
    static func collision(_ name: String, existing: String, what: String) -> String {
        if same(folded(name), folded(existing)) {
            return
                "\(what) \(quoted(name)) differs from the existing \(what) \(quoted(existing)) only in letter case; SQLite names are case-insensitive, so use \(quoted(existing)) everywhere"
        }
        return
            "\(what) \(codePoints(name)) is the existing \(what) \(codePoints(existing)) written with other Unicode code points (another normalization, or letter case too); SQLite compares names byte for byte, so they would be two \(what)s that look alike. Send one form (NFC) everywhere"
    }

    /// The name quoted with its non-ASCII characters as `\u{...}` code points, so two spellings
    /// that look alike can be told apart.
    static func codePoints(_ name: String) -> String {
        "\"" + name.unicodeScalars.map { $0.isASCII ? String($0) : "\\u{" + String($0.value, radix: 16, uppercase: true) + "}" }.joined()
            + "\""
    }

    /// U+0000-U+001F and U+007F-U+009F (C0, DEL and C1).
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F)
    }

    /// The name as a JSON string, so control characters show as escapes.
    static func quoted(_ name: String) -> String { JSONWriter.string(.string(name)) }
}
