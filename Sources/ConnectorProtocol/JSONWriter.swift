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

    /// Appends a double in its shortest round-tripping form (`description`); non-finite values become `null`.
    @inline(__always)
    public static func appendDouble(_ value: Double, to bytes: inout [UInt8]) {
        guard value.isFinite else {
            appendASCII("null", to: &bytes)
            return
        }
        var text = value.description  // usually at most 15 bytes: a small string, no allocation
        text.withUTF8 { bytes.append(contentsOf: $0) }
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
