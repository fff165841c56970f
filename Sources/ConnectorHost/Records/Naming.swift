import Foundation

/// How the names a connector sends (tables, columns, destination schemas) become warehouse names.
public enum NamingStrategy: String, Sendable, CaseIterable {
    /// Fivetran's default naming: `createdAt` is `created_at`, `val1` is `val_1`, accents are
    /// stripped, tables are lower-cased (``FivetranNames``).
    case fivetran
    /// Names exactly as sent (Fivetran's `--naming SOURCE`).
    case source

    /// Reads `--naming` values in any letter case, with Fivetran's own spellings
    /// (`FIVETRAN`, `SOURCE`, `FIVETRAN_NAMING`, `SOURCE_NAMING`).
    public init?(argument: String) {
        switch argument.lowercased() {
        case "fivetran", "fivetran_naming": self = .fivetran
        case "source", "source_naming": self = .source
        default: return nil
        }
    }
}

/// How the type of an undeclared column is inferred from a string value (PROTOCOL.md 6.6).
public enum StringTyping: String, Sendable, CaseIterable {
    /// As `fivetran debug` does: a string that reads as a boolean, an integer, a decimal number with
    /// a point, a date or a timestamp types its column so (`"2024-05-01T12:00:00Z"` is UTC_DATETIME).
    case fivetran
    /// Every string is STRING (declare the columns whose type matters).
    case string

    /// Reads `--string-types` values in any letter case.
    public init?(argument: String) {
        switch argument.lowercased() {
        case "fivetran": self = .fivetran
        case "string", "strings": self = .string
        default: return nil
        }
    }
}

/// Maps source names to warehouse names under a ``NamingStrategy``. Each name is mapped on its own;
/// two source names may map to one warehouse name (callers notice and say so).
struct Naming: Sendable, Equatable {
    let strategy: NamingStrategy

    func table(_ name: String) -> String { strategy == .fivetran ? FivetranNames.table(name) : name }
    func column(_ name: String) -> String { strategy == .fivetran ? FivetranNames.column(name) : name }
    func schema(_ name: String) -> String { strategy == .fivetran ? FivetranNames.schema(name) : name }
}

/// Fivetran's naming of tables, columns and schemas, as the Fivetran Connector SDK 3.0 applies it
/// by default (learned from its behaviour; see PROTOCOL.md section 6.9 for the rules).
///
/// A column name: accents are removed (the name in canonical decomposition without its
/// non-spacing marks) unless it holds only ASCII letters, digits, `_`, `-` and `.`; every character
/// that is not an ASCII letter, digit or `_` becomes `_`; letters are lower-cased, with a `_`
/// before an upper-case letter that follows a lower-case one and at every switch between digits
/// and non-digits (so a leading digit gets one too); runs of `_` become one. A table name is the
/// column form without the leading underscores before a letter (`_Hidden` is `hidden`). A schema
/// is only lower-cased, every character but ASCII letters, digits and `_` becoming `_`.
enum FivetranNames {
    static func column(_ name: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count + 4)
        var previous: UInt8 = 0
        for scalar in transliterated(name).unicodeScalars {
            let byte: UInt8 = scalar.isASCII && isWordByte(UInt8(scalar.value)) ? UInt8(scalar.value) : UInt8(ascii: "_")
            if (isLower(previous) && isUpper(byte)) || (isDigit(previous) != isDigit(byte)) {
                appendCollapsing(UInt8(ascii: "_"), to: &out)
            }
            appendCollapsing(isUpper(byte) ? byte + 32 : byte, to: &out)
            previous = byte
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func table(_ name: String) -> String {
        let safe = Array(column(name).utf8)
        guard let firstOther = safe.firstIndex(where: { $0 != UInt8(ascii: "_") }), firstOther > 0,
            isUpper(safe[firstOther]) || isLower(safe[firstOther])
        else { return String(decoding: safe, as: UTF8.self) }
        return String(decoding: safe[firstOther...], as: UTF8.self)
    }

    static func schema(_ name: String) -> String {
        String(
            decoding: name.unicodeScalars.map { scalar -> UInt8 in
                guard scalar.isASCII, isWordByte(UInt8(scalar.value)) else { return UInt8(ascii: "_") }
                let byte = UInt8(scalar.value)
                return isUpper(byte) ? byte + 32 : byte
            }, as: UTF8.self)
    }

    /// Appends `byte`, except a `_` right after a `_` (runs of underscores become one).
    @inline(__always) private static func appendCollapsing(_ byte: UInt8, to out: inout [UInt8]) {
        if byte == UInt8(ascii: "_"), out.last == UInt8(ascii: "_") { return }
        out.append(byte)
    }

    /// The name without accents: canonically decomposed, non-spacing marks dropped, recomposed.
    /// Names made only of ASCII word characters, `-` and `.` are returned as they are.
    private static func transliterated(_ name: String) -> String {
        if name.utf8.allSatisfy({ isWordByte($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) { return name }
        var kept = String.UnicodeScalarView()
        for scalar in name.decomposedStringWithCanonicalMapping.unicodeScalars where scalar.properties.generalCategory != .nonspacingMark {
            kept.append(scalar)
        }
        return String(kept).precomposedStringWithCanonicalMapping
    }

    @inline(__always) private static func isUpper(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
    @inline(__always) private static func isLower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    @inline(__always) private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    @inline(__always) private static func isWordByte(_ byte: UInt8) -> Bool {
        isUpper(byte) || isLower(byte) || isDigit(byte) || byte == UInt8(ascii: "_")
    }
}
