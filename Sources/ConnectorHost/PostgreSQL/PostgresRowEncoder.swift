import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One row of a PostgreSQL run as ``ValueBinder`` binds it: each parameter's value in COPY's text
/// format, kept until the row is complete, then written out in column order.
///
/// The binder's checks are the SQLite warehouse's, so the same operations are accepted and refused;
/// on top of them, what PostgreSQL cannot store is refused here with a reason (``problem``): a NUL
/// character in text or JSON. The year 0000 (ISO 8601's year 0) is written `0001 ... BC`, the same day.
///
/// Confined to the sync's thread, like the destination that owns it. Its properties are read and
/// written for every value, and never while another access is in progress (each method accesses
/// them in turn, on the one thread): their dynamic exclusivity checks are off
/// (`@exclusivity(unchecked)`), as the SQLite warehouse's record-path properties' are.
final class PostgresRowEncoder: ValueSink {
    /// The encoded values of the current row, back to back.
    @exclusivity(unchecked) private var bytes: [UInt8] = []
    /// Per parameter (1-based; slot 0 unused): the range of its value in ``bytes``, `nil` for NULL.
    @exclusivity(unchecked) private var slots: [Range<Int>?] = []
    /// Per parameter: the column's type, which decides how text is checked and written.
    @exclusivity(unchecked) private var types: [DataType?] = []
    /// Why the last value cannot be stored in PostgreSQL, or `nil`.
    @exclusivity(unchecked) private(set) var problem: String?
    /// Scratch for number text.
    @exclusivity(unchecked) private var digits: [UInt8] = []

    init() {
        bytes.reserveCapacity(4096)
        digits.reserveCapacity(32)
    }

    /// Starts a row of `types.count - 1` parameters (index 0 unused), all NULL.
    @inline(__always)
    func beginRow(types: [DataType?]) {
        self.types = types
        bytes.removeAll(keepingCapacity: true)
        if slots.count != types.count {
            slots = Array(repeating: nil, count: types.count)
        } else {
            for index in slots.indices { slots[index] = nil }
        }
        problem = nil
    }

    /// The value of parameter `index` as encoded, or `nil` for NULL.
    @inline(__always)
    func value(_ index: Int) -> UnsafeBufferPointer<UInt8>? {
        guard let range = slots[index] else { return nil }
        return bytes.withUnsafeBufferPointer { UnsafeBufferPointer(rebasing: $0[range]) }
    }

    /// Appends parameter `index` as a COPY field to `buffer`.
    @inline(__always)
    func append(_ index: Int, to buffer: inout PostgresCopyBuffer) {
        guard let range = slots[index] else {
            buffer.appendNull()
            return
        }
        bytes.withUnsafeBufferPointer { buffer.appendPlain(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// Appends the bytes of parameter `index` (its COPY form) to `key`, with a separator, for
    /// comparing rows by key.
    @inline(__always)
    func appendKey(_ index: Int, to key: inout [UInt8]) {
        if let range = slots[index] {
            key.append(1)
            bytes.withUnsafeBufferPointer { key.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
        } else {
            key.append(0)
        }
        key.append(0x09)
    }

    // MARK: ValueSink

    @inline(__always)
    func bindNull(_ index: Int) { slots[index] = nil }

    @inline(__always)
    func bind(_ value: Int64, at index: Int) {
        let start = bytes.count
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let digitsStart = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[digitsStart...].reverse()
        slots[index] = start..<bytes.count
    }

    @inline(__always)
    func bind(_ value: Double, at index: Int) {
        // The shortest text that reads back as the same double (Swift's description; PostgreSQL's
        // float8 input is correctly rounded, so it gets the same bits). Finite: the binder refused the rest.
        let start = bytes.count
        var text = value.description
        text.withUTF8 { bytes.append(contentsOf: $0) }
        slots[index] = start..<bytes.count
    }

    @inline(__always)
    func bindBoolean(_ value: Bool, at index: Int) {
        let start = bytes.count
        bytes.append(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        slots[index] = start..<bytes.count
    }

    func bind(_ value: String, at index: Int) {
        var value = value
        value.withUTF8 { bindText(borrowing: $0, at: index) }
    }

    @inline(__always)
    func bindText(borrowing text: UnsafeBufferPointer<UInt8>, at index: Int) {
        let start = bytes.count
        switch types[index] {
        case .naiveDate?, .naiveDateTime?, .utcDateTime?:
            appendTemporal(text)
        case .json?:
            if let reason = Self.jsonProblem(text) { problem = reason }
            appendEscaped(text)
        case .string?, .xml?:
            if text.count > 0, memchr(text.baseAddress!, 0, text.count) != nil {
                problem = "the text contains the NUL character (\\u0000), which PostgreSQL text cannot hold; remove it in the connector"
            }
            appendEscaped(text)
        default:
            appendEscaped(text)
        }
        slots[index] = start..<bytes.count
    }

    func bindBlob(copying value: UnsafeRawBufferPointer, at index: Int) {
        let start = bytes.count
        // bytea's hex format, its backslash escaped for COPY: \\x0a1b...
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        let hex: StaticString = "0123456789abcdef"
        hex.withUTF8Buffer { hex in
            for byte in value {
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        slots[index] = start..<bytes.count
    }

    // MARK: Text forms

    /// Text with COPY's escapes for backslash, tab, newline and carriage return.
    @inline(__always)
    private func appendEscaped(_ text: UnsafeBufferPointer<UInt8>) {
        var plain = true
        for byte in text where byte < 0x20 || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        if plain {
            bytes.append(contentsOf: text)
            return
        }
        for byte in text {
            switch byte {
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: bytes.append(byte)
            }
        }
    }

    /// A date or time as the binder normalised it (ISO 8601, years 0000-9999). PostgreSQL has no
    /// year 0: ISO 8601's year 0000 is 1 BC, written `0001-... BC` (the zone, if any, before the era).
    @inline(__always)
    private func appendTemporal(_ text: UnsafeBufferPointer<UInt8>) {
        guard text.count >= 4, text[0] == UInt8(ascii: "0"), text[1] == UInt8(ascii: "0"), text[2] == UInt8(ascii: "0"),
            text[3] == UInt8(ascii: "0")
        else {
            bytes.append(contentsOf: text)
            return
        }
        bytes.append(contentsOf: Array("0001".utf8))
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[4...]))
        bytes.append(contentsOf: Array(" BC".utf8))
    }

    /// Why `json` cannot be a jsonb value although it is valid JSON: jsonb refuses the escape `\u0000`
    /// and surrogate escapes that do not pair up. `nil` when it can.
    static func jsonProblem(_ json: UnsafeBufferPointer<UInt8>) -> String? {
        guard json.count >= 6, memchr(json.baseAddress!, Int32(UInt8(ascii: "\\")), json.count) != nil else { return nil }
        var index = 0
        var inString = false
        var pendingHigh = false
        while index < json.count {
            let byte = json[index]
            if !inString {
                if byte == UInt8(ascii: "\"") { inString = true }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                if pendingHigh { return unpaired }
                inString = false
                index += 1
                continue
            }
            guard byte == UInt8(ascii: "\\"), index + 1 < json.count else {
                if pendingHigh { return unpaired }
                index += 1
                continue
            }
            if json[index + 1] == UInt8(ascii: "u"), index + 5 < json.count, let code = hex4(json, index + 2) {
                if code == 0 {
                    return "the JSON value contains the escape \\u0000, which PostgreSQL's jsonb cannot hold; remove it in the connector"
                }
                if code >= 0xD800 && code < 0xDC00 {
                    if pendingHigh { return unpaired }
                    pendingHigh = true
                } else if code >= 0xDC00 && code < 0xE000 {
                    if !pendingHigh { return unpaired }
                    pendingHigh = false
                } else if pendingHigh {
                    return unpaired
                }
                index += 6
            } else {
                if pendingHigh { return unpaired }
                index += 2
            }
        }
        return nil
    }

    private static let unpaired =
        "the JSON value contains a \\u surrogate escape that is not part of a pair, which PostgreSQL's jsonb cannot hold; send the character itself"

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> UInt32? {
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[start + offset]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}

@available(*, unavailable)
extension PostgresRowEncoder: Sendable {}
