import ConnectorProtocol

/// One value of a record, as a view into the line it arrived on (no copy, no allocation).
public enum FieldValue {
    case null
    case bool(Bool)
    /// A number literal's byte range.
    case number(Range<Int>)
    case string(JSONStringToken)
    /// An object or array: its raw JSON byte range.
    case composite(Range<Int>)

    /// The JSON kind, for messages and inference.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .composite: "object or array"
        }
    }
}

/// A record's field: its key token and value, both views into the same line.
public struct Field {
    public var key: JSONStringToken
    public var value: FieldValue
}

/// The line a record came from, with helpers to read tokens out of it.
public struct RecordSource {
    /// The whole line.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The shape of the keys of the record being applied (``RecentKeys/shape``): records of one
    /// shape name the same keys in the same order, so a table resolves them to columns once per
    /// shape. 0 when unknown (then every key is looked up).
    var keyShape: UInt64 = 0

    @inline(__always)
    func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[range]) }

    @inline(__always)
    func slice(_ token: JSONStringToken) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[token.start..<token.end])
    }

    /// The decoded text of a string token (unescaped, UTF-8 checked).
    func string(_ token: JSONStringToken) throws(JSONSyntaxError) -> String {
        try JSONScanner(bytes).string(token)
    }

    /// The raw JSON text of a value, as sent.
    func rawJSON(_ value: FieldValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let range), .composite(let range): String(decoding: slice(range), as: UTF8.self)
        case .string(let token): String(decoding: slice(token.start - 1..<token.end + 1), as: UTF8.self)
        }
    }
}

/// Checks that bytes are well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    let count = bytes.count
    while index < count {
        let lead = bytes[index]
        if lead < 0x80 {
            index += 1
            continue
        }
        let length: Int
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07)
        default: return false
        }
        guard index + length <= count else { return false }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return false }
            scalar = scalar << 6 | UInt32(byte & 0x3F)
        }
        if length == 3 && (scalar < 0x800 || (scalar >= 0xD800 && scalar < 0xE000)) { return false }
        if length == 4 && (scalar < 0x10000 || scalar > 0x10FFFF) { return false }
        index += length
    }
    return true
}
