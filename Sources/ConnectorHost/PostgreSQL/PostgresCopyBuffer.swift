/// Rows in the text format of `COPY ... FROM STDIN`, built in one reused byte buffer.
///
/// Fields are separated by a tab and rows end with a newline; NULL is `\N`; a backslash, tab,
/// newline or carriage return inside a value is escaped (PostgreSQL's manual, COPY, "Text Format").
/// Every other byte goes as is: the values are valid UTF-8 (the host checks) and the connection's
/// client encoding is UTF8.
package struct PostgresCopyBuffer {
    package private(set) var bytes: [UInt8] = []
    /// Rows completed since the last ``removeAll()``.
    package private(set) var rowCount = 0
    private var fieldsInRow = 0

    package init(capacity: Int = 1 << 20) { bytes.reserveCapacity(capacity) }

    package var isEmpty: Bool { bytes.isEmpty }

    package mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        rowCount = 0
        fieldsInRow = 0
    }

    @inline(__always)
    private mutating func startField() {
        if fieldsInRow > 0 { bytes.append(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }

    /// A NULL field.
    @inline(__always)
    package mutating func appendNull() {
        startField()
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "N"))
    }

    /// A field whose bytes need no escaping (digits, signs, `t`/`f`, timestamps, hex): the caller knows.
    @inline(__always)
    package mutating func appendPlain(_ text: UnsafeBufferPointer<UInt8>) {
        startField()
        bytes.append(contentsOf: text)
    }

    /// A field of ASCII the caller built (numbers, `t`/`f`): no escaping needed.
    @inline(__always)
    package mutating func appendPlain(_ text: StaticString) {
        startField()
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A field of text, escaped as needed.
    @inline(__always)
    package mutating func appendText(_ text: UnsafeBufferPointer<UInt8>) {
        startField()
        var needsEscape = false
        for byte in text where byte < 0x20 || byte == UInt8(ascii: "\\") {
            needsEscape = true
            break
        }
        guard needsEscape else {
            bytes.append(contentsOf: text)
            return
        }
        for byte in text {
            switch byte {
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: bytes.append(byte)
            }
        }
    }

    /// A field of text from a Swift string, escaped as needed.
    package mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { appendText($0) }
    }

    /// An integer field.
    @inline(__always)
    package mutating func appendInteger(_ value: Int64) {
        startField()
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        while magnitude > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        }
        bytes[start...].reverse()
    }

    /// A double field, as the shortest text that reads back as the same double.
    @inline(__always)
    package mutating func appendDouble(_ value: Double) {
        startField()
        // Swift's description is the shortest round-tripping form ("0.1", "1e+20"), which the server's
        // float8 input reads back to the same bits.
        var text = value.description
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// A bytea field: `\\x` and the bytes in hex (the backslash itself escaped for COPY).
    package mutating func appendBytea(_ value: UnsafeRawBufferPointer) {
        startField()
        bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { digits in
            for byte in value {
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            }
        }
    }

    /// Ends the row.
    @inline(__always)
    package mutating func endRow() {
        bytes.append(UInt8(ascii: "\n"))
        fieldsInRow = 0
        rowCount += 1
    }

    /// Sends the buffered rows on `connection` (inside a COPY it started) and empties the buffer.
    package mutating func send(on connection: PostgresConnection) throws(PostgresError) {
        let failure: PostgresError? = bytes.withUnsafeBytes { raw in
            do throws(PostgresError) {
                try connection.putCopyData(raw)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        removeAll()
    }
}
