/// Serialises JSON compactly (no whitespace), one allocation-light pass into a byte buffer.
public struct JSONWriter {
    /// The bytes written so far.
    public var bytes: [UInt8] = []
    /// Whether object members are written in sorted key order (for golden tests and stable hashes).
    public var sortedKeys: Bool

    public init(sortedKeys: Bool = false, capacity: Int = 256) {
        self.sortedKeys = sortedKeys
        bytes.reserveCapacity(capacity)
    }

    /// The compact JSON text of `value`.
    public static func string(_ value: JSONValue, sortedKeys: Bool = false) -> String {
        var writer = JSONWriter(sortedKeys: sortedKeys)
        writer.write(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Appends `value`.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: appendASCII("null")
        case .bool(let flag): appendASCII(flag ? "true" : "false")
        case .number(let number): bytes.append(contentsOf: number.literal.utf8)
        case .string(let text): writeString(text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            let members = sortedKeys ? object.members.sorted { $0.key < $1.key } : object.members
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends ASCII text verbatim (the caller guarantees it is valid JSON in context).
    @inline(__always)
    public mutating func appendASCII(_ text: StaticString) { Self.appendASCII(text, to: &bytes) }

    /// Appends a string literal with JSON escaping.
    @inline(__always)
    public mutating func writeString(_ text: String) { Self.appendString(text, to: &bytes) }

    /// Appends UTF-8 bytes with JSON escaping (quote, backslash and control characters).
    @inline(__always)
    public mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) { Self.appendEscaped(utf8, to: &bytes) }

    // MARK: Appending to any byte buffer (the SDK's row writer encodes straight into its batch)

    /// Appends ASCII text verbatim (the caller guarantees it is valid JSON in context).
    @inline(__always)
    public static func appendASCII(_ text: StaticString, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `text` as a JSON string literal.
    @inline(__always)
    public static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var copy = text
        copy.withUTF8 { utf8 in appendEscaped(utf8, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends an integer in decimal, without an intermediate `String`.
    @inline(__always)
    public static func appendInteger(_ value: Int64, to bytes: inout [UInt8]) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: 19 digits and a sign fit
        var magnitude = value.magnitude
        withUnsafeMutableBytes(of: &digits) { raw in
            var index = raw.count
            repeat {
                index -= 1
                raw[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                index -= 1
                raw[index] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[index...]))
        }
    }

    /// Appends a double in its shortest round-tripping form (the bytes of `description`); non-finite
    /// values become `null`.
    @inline(__always)
    public static func appendDouble(_ value: Double, to bytes: inout [UInt8]) {
        guard value.isFinite else {
            appendASCII("null", to: &bytes)
            return
        }
        if appendShortDecimal(value, to: &bytes) { return }
        var text = value.description  // usually at most 15 bytes: a small string, no allocation
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Exact powers of ten as doubles, for ``appendShortDecimal(_:to:)``.
    @usableFromInline
    static let powersOfTen: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]

    /// Appends `value` as `description` writes it when it has at most nine decimals and its digits
    /// as an integer are below 2^50 (prices, scores, coordinates); returns `false`, appending nothing,
    /// for any other value.
    ///
    /// For d = 0, 1, ... the digits m = value * 10^d rounded are tried: m / 10^d, one correctly
    /// rounded IEEE division of two exact doubles, is the double the text "m / 10^d" parses to, so
    /// the first d for which it gives back `value` is the shortest text that round-trips. Below 2^50
    /// the step 10^-d is more than four units in the last place of `value`, so no other m of d
    /// decimals round-trips too: the digits are the ones `description` chooses. `description`
    /// writes plain decimals (never an exponent) from 0.001 up to 2^53, a trailing ".0" on integers.
    @inlinable
    public static func appendShortDecimal(_ value: Double, to bytes: inout [UInt8]) -> Bool {
        let magnitude = value.magnitude
        guard magnitude >= 0.001, magnitude < 0x1p50 else { return false }
        var decimals = 0
        var digits: UInt64 = 0
        while true {
            let power = powersOfTen[decimals]
            let scaled = (magnitude * power).rounded()
            if scaled < 0x1p50, scaled / power == magnitude {
                digits = UInt64(scaled)
                break
            }
            decimals += 1
            if decimals == powersOfTen.count { return false }
        }
        // Up to 16 integer digits, the point, 9 decimals (or "0"), a sign, leading zeros: 32 bytes.
        var buffer: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { raw in
            var index = raw.count
            if decimals == 0 {
                index -= 2
                raw[index] = UInt8(ascii: ".")
                raw[index + 1] = UInt8(ascii: "0")
            } else {
                for _ in 0..<decimals {
                    index -= 1
                    raw[index] = UInt8(ascii: "0") + UInt8(digits % 10)
                    digits /= 10
                }
                index -= 1
                raw[index] = UInt8(ascii: ".")
            }
            repeat {
                index -= 1
                raw[index] = UInt8(ascii: "0") + UInt8(digits % 10)
                digits /= 10
            } while digits > 0
            if value < 0 {
                index -= 1
                raw[index] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[index...]))
        }
        return true
    }

    /// Appends UTF-8 bytes with JSON escaping (quote, backslash and control characters).
    @inline(__always)
    public static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        var runStart = 0
        var index = 0
        while index < utf8.count {
            // Eight bytes at a time up to the first that needs escaping (usually none: one append).
            if index + 8 <= utf8.count {
                let word = UInt64(littleEndian: UnsafeRawPointer(utf8.baseAddress! + index).loadUnaligned(as: UInt64.self))
                let plain = JSONScanner.attentionMask(word).trailingZeroBitCount >> 3
                index += plain
                if plain == 8 { continue }
            }
            let byte = utf8[index]
            index += 1
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < index - 1 { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index - 1])) }
            runStart = index
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
        if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
    }
}
