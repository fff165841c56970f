/// PostgreSQL's text output of a stored value as the value SQLite holds for the same operation, so
/// the two destinations can be compared row for row (tests, and commands that compare warehouses).
///
/// The mapping is the inverse of ``PostgresTypes``: booleans are SQLite's 1 and 0, numbers its
/// integers and doubles, NUMERIC its canonical decimal text, times its ISO 8601 text (`T`, `Z`, the
/// year 1 BC as 0000), BYTEA its blob, JSONB compact JSON text. Where PostgreSQL keeps less than the
/// text SQLite keeps, the instant is the same but the text is PostgreSQL's: fractions of a second to
/// the microsecond without trailing zeros, JSON objects with their keys in jsonb's order.
package enum PostgresValues {
    /// Type OIDs of the types the destination uses (pg_type.dat).
    package enum TypeOID {
        package static let boolean: UInt32 = 16
        package static let bytea: UInt32 = 17
        package static let int8: UInt32 = 20
        package static let int2: UInt32 = 21
        package static let int4: UInt32 = 23
        package static let oid: UInt32 = 26
        package static let json: UInt32 = 114
        package static let float4: UInt32 = 700
        package static let float8: UInt32 = 701
        package static let date: UInt32 = 1082
        package static let timestamp: UInt32 = 1114
        package static let timestamptz: UInt32 = 1184
        package static let numeric: UInt32 = 1700
        package static let jsonb: UInt32 = 3802
    }

    /// The SQLite value of a PostgreSQL text value of type `oid` (`nil` is NULL).
    package static func sqliteValue(_ text: String?, type oid: UInt32) -> SQLiteValue {
        guard let text else { return .null }
        switch oid {
        case TypeOID.boolean: return .integer(text == "t" ? 1 : 0)
        case TypeOID.int2, TypeOID.int4, TypeOID.int8, TypeOID.oid: return Int64(text).map(SQLiteValue.integer) ?? .text(text)
        case TypeOID.float4, TypeOID.float8: return Double(text).map(SQLiteValue.real) ?? .text(text)
        case TypeOID.bytea: return .blob(bytes(ofHex: text))
        case TypeOID.date: return .text(isoDate(text))
        case TypeOID.timestamp: return .text(isoTimestamp(text, zone: false))
        case TypeOID.timestamptz: return .text(isoTimestamp(text, zone: true))
        case TypeOID.json, TypeOID.jsonb:
            let compact = Array(text.utf8).withUnsafeBufferPointer { ValueBinder.compactJSON($0) }
            return .text(compact.map { String(decoding: $0, as: UTF8.self) } ?? text)
        default: return .text(text)
        }
    }

    /// `\x0a1b...` (bytea's hex output) as bytes.
    private static func bytes(ofHex text: String) -> [UInt8] {
        let digits = Array(text.utf8.dropFirst(2))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index + 1 < digits.count {
            bytes.append(UInt8(hexValue(digits[index]) << 4 | hexValue(digits[index + 1])))
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: digit &- UInt8(ascii: "A") &+ 10
        }
    }

    /// `YYYY-MM-DD`, or `0001-MM-DD BC` as `0000-MM-DD` (ISO 8601's year 0).
    private static func isoDate(_ text: String) -> String {
        guard text.hasSuffix(" BC") else { return text }
        return "0000" + text.dropFirst(4).dropLast(3)
    }

    /// `YYYY-MM-DD HH:MM:SS[.f][+00][ BC]` (DateStyle ISO, TimeZone UTC) as `YYYY-MM-DDTHH:MM:SS[.f][Z]`.
    private static func isoTimestamp(_ text: String, zone: Bool) -> String {
        var text = Substring(text)
        var bc = false
        if text.hasSuffix(" BC") {
            bc = true
            text = text.dropLast(3)
        }
        if zone, text.hasSuffix("+00") { text = text.dropLast(3) }
        var result = String(text).replacingOccurrences(of: " ", with: "T")
        if bc { result = "0000" + result.dropFirst(4) }
        return zone ? result + "Z" : result
    }
}
