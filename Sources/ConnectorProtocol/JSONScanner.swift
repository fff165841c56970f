/// A JSON syntax error, with the byte offset where it was found.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. "expected ':' after an object key".
    public let reason: String
    /// Byte offset into the scanned text (0-based).
    public let offset: Int
    /// Whether the text is (so far) valid JSON that only nests deeper than the scanner accepts.
    public let isNestingLimit: Bool

    public init(_ reason: String, at offset: Int, isNestingLimit: Bool = false) {
        self.reason = reason
        self.offset = offset
        self.isNestingLimit = isNestingLimit
    }

    public var description: String { "\(reason) at byte \(offset + 1)" }
}

/// A string token: where its content lies in the scanned bytes, and whether it needs unescaping.
public struct JSONStringToken: Sendable {
    /// Offset of the first content byte (after the opening quote).
    public var start: Int
    /// Offset one past the last content byte (the closing quote).
    public var end: Int
    /// Whether the content holds backslash escapes.
    public var hasEscapes: Bool
    /// Whether the content holds bytes >= 0x80 (and so may need UTF-8 validation).
    public var hasNonASCII: Bool

    @inlinable
    public init(start: Int, end: Int, hasEscapes: Bool, hasNonASCII: Bool) {
        self.start = start
        self.end = end
        self.hasEscapes = hasEscapes
        self.hasNonASCII = hasNonASCII
    }
}

/// A forward-only, allocation-free JSON tokenizer over borrowed bytes.
///
/// It is the one place that knows JSON's grammar; the tree parser (``JSONParser``) and the
/// host's record scanner both drive it, so they accept exactly the same language (RFC 8259,
/// with a nesting limit). The bytes must outlive the scanner.
public struct JSONScanner {
    /// The bytes being scanned.
    public let bytes: UnsafeBufferPointer<UInt8>
    /// The current offset.
    public var position: Int
    /// The deepest nesting of arrays and objects accepted.
    public let maximumDepth: Int

    public init(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int = 128) {
        self.bytes = bytes
        self.position = 0
        self.maximumDepth = maximumDepth
    }

    /// Whether every byte has been consumed.
    public var isAtEnd: Bool { position >= bytes.count }

    /// The next byte, or 0 at the end.
    @inlinable @inline(__always)
    public var peek: UInt8 { position < bytes.count ? bytes[position] : 0 }

    /// Skips JSON whitespace (space, tab, CR, LF).
    @inlinable @inline(__always)
    public mutating func skipWhitespace() {
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 } else { return }
        }
    }

    /// Consumes `byte` (after whitespace) or throws with `what` as the expectation.
    @inlinable @inline(__always)
    public mutating func expect(_ byte: UInt8, _ what: @autoclosure () -> String) throws(JSONSyntaxError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { throw error("expected \(what())") }
        position += 1
    }

    /// Consumes `byte` (after whitespace) if it is next.
    @inlinable @inline(__always)
    public mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if position < bytes.count, bytes[position] == byte {
            position += 1
            return true
        }
        return false
    }

    /// An error at the current position.
    public func error(_ reason: String) -> JSONSyntaxError {
        if position >= bytes.count { return JSONSyntaxError("unexpected end of input, \(reason)", at: position) }
        return JSONSyntaxError("\(reason), found \(JSONScanner.describe(bytes[position]))", at: position)
    }

    /// The error for an array or object opened beyond ``maximumDepth``.
    public func nestingError() -> JSONSyntaxError {
        JSONSyntaxError("nesting deeper than \(maximumDepth) levels", at: position, isNestingLimit: true)
    }

    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    /// Scans a string token; the scanner must be at its opening quote (after whitespace).
    @inlinable @inline(__always)
    public mutating func scanString() throws(JSONSyntaxError) -> JSONStringToken {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string") }
        position += 1
        let start = position
        var hasEscapes = false
        var nonASCII = false
        while position < bytes.count {
            // Eight bytes at a time up to the first that ends the string, escapes or is a control byte.
            if position + 8 <= bytes.count {
                let word = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: UInt64.self))
                let hits = Self.attentionMask(word)
                let plain = hits.trailingZeroBitCount >> 3  // bytes before the first hit (8 when none)
                let plainBits: UInt64 = plain == 8 ? ~0 : (1 << UInt64(plain * 8)) - 1
                if word & plainBits & 0x8080_8080_8080_8080 != 0 { nonASCII = true }
                position += plain
                if plain == 8 { continue }
            }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let token = JSONStringToken(start: start, end: position, hasEscapes: hasEscapes, hasNonASCII: nonASCII)
                position += 1
                return token
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                position += 1
                guard position < bytes.count else { break }
                switch bytes[position] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    guard position + 4 < bytes.count,
                        (1...4).allSatisfy({ JSONScanner.hexValue(bytes[position + $0]) != nil })
                    else { throw error("invalid \\u escape in string") }
                    position += 5
                default:
                    throw error("invalid escape in string")
                }
                continue
            }
            if byte < 0x20 { throw error("control character in string (escape it)") }
            if byte >= 0x80 { nonASCII = true }
            position += 1
        }
        throw JSONSyntaxError("unterminated string", at: start - 1)
    }

    /// The high bit of each byte of `word` (little-endian order) that is a quote, a backslash or
    /// below 0x20, found without branches: a byte that is zero after XOR with a pattern sets its high
    /// bit in `(v - 0x01…) & ~v & 0x80…`, a byte below 0x20 in `(w - 0x20…) & ~w & 0x80…`. Borrows make
    /// false hits only above a true one, so the lowest hit is always real.
    @inlinable @inline(__always)
    static func attentionMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let hasQuote = (quotes &- ones) & ~quotes
        let hasBackslash = (backslashes &- ones) & ~backslashes
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl) & 0x8080_8080_8080_8080
    }

    /// Scans a number literal and returns its byte range.
    @inlinable @inline(__always)
    public mutating func scanNumber() throws(JSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = position
        if peek == UInt8(ascii: "-") { position += 1 }
        if peek == UInt8(ascii: "0") {
            position += 1
        } else if peek >= UInt8(ascii: "1") && peek <= UInt8(ascii: "9") {
            while peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9") { position += 1 }
        } else {
            throw error("invalid number")
        }
        if peek == UInt8(ascii: ".") {
            position += 1
            guard peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9") else { throw error("expected a digit after '.'") }
            while peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9") { position += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            position += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
            guard peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9") else { throw error("expected a digit in exponent") }
            while peek >= UInt8(ascii: "0") && peek <= UInt8(ascii: "9") { position += 1 }
        }
        return start..<position
    }

    /// Consumes the literal `word` (`true`, `false`, `null`).
    @inlinable @inline(__always)
    public mutating func scanLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("invalid literal") }
        let pointer = word.utf8Start
        for index in 0..<count where bytes[position + index] != pointer[index] {
            throw error("invalid literal")
        }
        position += count
    }

    /// Skips one complete value, validating it, and returns its byte range (without surrounding whitespace).
    public mutating func skipValue(depth: Int = 0) throws(JSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = position
        switch peek {
        case UInt8(ascii: "{"):
            guard depth < maximumDepth else { throw nestingError() }
            position += 1
            if !consume(UInt8(ascii: "}")) {
                repeat {
                    _ = try scanString()
                    try expect(UInt8(ascii: ":"), "':' after an object key")
                    _ = try skipValue(depth: depth + 1)
                } while consume(UInt8(ascii: ","))
                try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            }
        case UInt8(ascii: "["):
            guard depth < maximumDepth else { throw nestingError() }
            position += 1
            if !consume(UInt8(ascii: "]")) {
                repeat { _ = try skipValue(depth: depth + 1) } while consume(UInt8(ascii: ","))
                try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            }
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "n"): try scanLiteral("null")
        default: _ = try scanNumber()
        }
        return start..<position
    }

    /// Whether the content of `token` equals `text` byte for byte (no unescaping).
    @inlinable @inline(__always)
    public func tokenEquals(_ token: JSONStringToken, _ text: StaticString) -> Bool {
        let count = token.end - token.start
        guard count == text.utf8CodeUnitCount, !token.hasEscapes else { return false }
        let pointer = text.utf8Start
        for index in 0..<count where bytes[token.start + index] != pointer[index] { return false }
        return true
    }

    /// The decoded content of a string token, validating UTF-8.
    public func string(_ token: JSONStringToken) throws(JSONSyntaxError) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[token.start..<token.end])
        if !token.hasEscapes {
            if token.hasNonASCII {
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw JSONSyntaxError("invalid UTF-8 in string", at: token.start)
                }
                return text
            }
            return String(decoding: raw, as: UTF8.self)
        }
        var output: [UInt8] = []
        output.reserveCapacity(raw.count)
        try JSONScanner.unescape(raw, baseOffset: token.start, into: &output)
        if token.hasNonASCII || output.contains(where: { $0 >= 0x80 }) {
            guard let text = String(validating: output, as: UTF8.self) else {
                throw JSONSyntaxError("invalid UTF-8 in string", at: token.start)
            }
            return text
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the unescaped form of an escaped string's content to `output` (as UTF-8).
    public static func unescape(
        _ raw: UnsafeBufferPointer<UInt8>, baseOffset: Int = 0, into output: inout [UInt8]
    ) throws(JSONSyntaxError) {
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let kind = raw[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = hex4(raw, index)
                index += 4
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"), raw[index + 1] == UInt8(ascii: "u")
                    else { throw JSONSyntaxError("unpaired surrogate in \\u escape", at: baseOffset + index) }
                    let low = hex4(raw, index + 2)
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw JSONSyntaxError("unpaired surrogate in \\u escape", at: baseOffset + index)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw JSONSyntaxError("unpaired surrogate in \\u escape", at: baseOffset + index)
                }
                appendUTF8(scalar, to: &output)
            default: output.append(kind)  // \" \\ \/
            }
        }
    }

    @inline(__always)
    static func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | UInt32(hexValue(raw[at + offset]) ?? 0) }
        return value
    }

    @usableFromInline @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: output.append(UInt8(scalar))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | (scalar >> 6)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | (scalar >> 12)))
            output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            output.append(UInt8(0xF0 | (scalar >> 18)))
            output.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            output.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}
