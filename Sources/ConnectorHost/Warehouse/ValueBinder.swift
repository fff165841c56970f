import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a value cannot be stored in a column of its declared type.
struct ValueProblem: Error {
    let reason: String
}

/// Converts record values to their declared column types and binds them to statement parameters.
///
/// The hot path: values arrive as byte views; common forms (integers, plain ASCII strings, canonical
/// UTC timestamps) are bound without allocation. Scratch buffers are reused across calls.
struct ValueBinder {
    /// Holds unescaped or normalised bytes until the statement has run (bound without copying).
    private var scratch: [[UInt8]] = []
    private var scratchUsed = 0

    /// Releases scratch buffers for reuse; call after the statement ran.
    mutating func recycle() { scratchUsed = 0 }

    /// Binds `value` as `type` to parameter `index`.
    mutating func bind(
        _ value: FieldValue, as type: ColumnType, from source: RecordSource, to statement: SQLiteStatement, at index: Int
    ) throws(ValueProblem) {
        switch value {
        case .null:
            statement.bindNull(index)
            return
        case .bool(let flag):
            switch type.dataType {
            case .boolean: statement.bind(Int64(flag ? 1 : 0), at: index)
            case .string, .xml: statement.bind(flag ? "true" : "false", at: index)
            case .json: statement.bind(flag ? "true" : "false", at: index)
            default: throw mismatch(value, type)
            }
        case .number(let range):
            let literal = source.slice(range)
            switch type.dataType {
            case .short, .int, .long:
                statement.bind(try Self.integer(literal, type), at: index)
            case .float, .double:
                statement.bind(Self.double(literal), at: index)
            case .decimal:
                statement.bind(try Self.decimal(literal, type), at: index)
            case .string, .xml, .json:
                statement.bindText(borrowing: literal, at: index)
            case .boolean:
                guard literal.count == 1, literal[0] == UInt8(ascii: "0") || literal[0] == UInt8(ascii: "1") else {
                    throw mismatch(value, type)
                }
                statement.bind(Int64(literal[0] == UInt8(ascii: "1") ? 1 : 0), at: index)
            default: throw mismatch(value, type)
            }
        case .string(let token):
            let text = try unescaped(token, source)
            switch type.dataType {
            case .string, .xml:
                statement.bindText(borrowing: text, at: index)
            case .utcDateTime:
                if TemporalValues.isCanonicalUTC(text) {
                    statement.bindText(borrowing: text, at: index)
                } else {
                    guard let normalised = TemporalValues.utcDateTime(text) else {
                        throw ValueProblem(
                            reason: "\(quoted(text)) is not an RFC 3339 timestamp with Z or an offset, e.g. \"2024-05-01T12:00:00Z\"")
                    }
                    statement.bindText(borrowing: keep(normalised), at: index)
                }
            case .naiveDateTime:
                guard let normalised = TemporalValues.naiveDateTime(text) else {
                    throw ValueProblem(reason: "\(quoted(text)) is not a NAIVE_DATETIME like \"2024-05-01T12:00:00\"")
                }
                statement.bindText(borrowing: keep(normalised), at: index)
            case .naiveDate:
                guard TemporalValues.isNaiveDate(text) else {
                    throw ValueProblem(reason: "\(quoted(text)) is not a NAIVE_DATE like \"2024-05-01\"")
                }
                statement.bindText(borrowing: text, at: index)
            case .short, .int, .long:
                statement.bind(try Self.integer(text, type), at: index)
            case .float, .double:
                guard let number = Self.parseDouble(text) else {
                    throw ValueProblem(reason: "\(quoted(text)) is not a number")
                }
                statement.bind(number, at: index)
            case .decimal:
                statement.bind(try Self.decimal(text, type), at: index)
            case .boolean:
                switch String(decoding: text, as: UTF8.self).lowercased() {
                case "true": statement.bind(Int64(1), at: index)
                case "false": statement.bind(Int64(0), at: index)
                default: throw ValueProblem(reason: "\(quoted(text)) is not true or false")
                }
            case .binary:
                guard let decoded = Base64.decode(text) else {
                    throw ValueProblem(reason: "\(quoted(text)) is not base64 (BINARY values are base64 strings)")
                }
                decoded.withUnsafeBytes { statement.bindBlob(copying: $0, at: index) }
            case .json:
                statement.bindText(borrowing: source.slice(token.start - 1..<token.end + 1), at: index)
            }
        case .composite(let range):
            switch type.dataType {
            case .json, .string, .xml: statement.bindText(borrowing: source.slice(range), at: index)
            default: throw mismatch(value, type)
            }
        }
    }

    /// The unescaped, UTF-8-validated bytes of a string token (the line's own bytes when no escapes).
    private mutating func unescaped(_ token: JSONStringToken, _ source: RecordSource) throws(ValueProblem)
        -> UnsafeBufferPointer<UInt8>
    {
        let raw = source.slice(token)
        var result = raw
        if token.hasEscapes {
            var buffer = nextScratch()
            do throws(JSONSyntaxError) { try JSONScanner.unescape(raw, into: &buffer) } catch {
                throw ValueProblem(reason: "invalid string escape: \(error.reason)")
            }
            result = keep(buffer)
        }
        if token.hasNonASCII || token.hasEscapes, !isValidUTF8(result) {
            throw ValueProblem(reason: "the string is not valid UTF-8")
        }
        return result
    }

    private mutating func nextScratch() -> [UInt8] {
        if scratchUsed < scratch.count {
            var buffer = scratch[scratchUsed]
            scratch[scratchUsed] = []
            buffer.removeAll(keepingCapacity: true)
            return buffer
        }
        return []
    }

    /// Stores `bytes` in a scratch slot that lives until ``recycle()`` and returns a view of it.
    private mutating func keep(_ bytes: [UInt8]) -> UnsafeBufferPointer<UInt8> {
        if scratchUsed < scratch.count { scratch[scratchUsed] = bytes } else { scratch.append(bytes) }
        scratchUsed += 1
        // The array is not mutated again until recycle(), so its storage stays put.
        return scratch[scratchUsed - 1].withUnsafeBufferPointer { $0 }
    }

    private func mismatch(_ value: FieldValue, _ type: ColumnType) -> ValueProblem {
        ValueProblem(reason: "a JSON \(value.kindName) cannot be stored in a \(type) column")
    }

    private func quoted(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: bytes.prefix(80), as: UTF8.self)
        return "\"\(text)\(bytes.count > 80 ? "…" : "")\""
    }

    /// Parses a decimal integer literal with overflow and range checks for the column's width.
    @inline(__always)
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>, _ type: ColumnType) throws(ValueProblem) -> Int64 {
        var index = 0
        var negative = false
        if bytes.count > 0 && bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        guard index < bytes.count else { throw ValueProblem(reason: "\"\(String(decoding: bytes, as: UTF8.self))\" is not an integer") }
        var magnitude: UInt64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else {
                throw ValueProblem(reason: "\(String(decoding: bytes, as: UTF8.self)) is not an integer (\(type) takes whole numbers)")
            }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1 && !overflow2 else { throw outOfRange(bytes, type) }
            magnitude = sum
            index += 1
        }
        let limit: UInt64 =
            switch type.dataType {
            case .short: 1 << 15
            case .int: 1 << 31
            default: 1 << 63
            }
        guard negative ? magnitude <= limit : magnitude < limit else { throw outOfRange(bytes, type) }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }

    private static func outOfRange(_ bytes: UnsafeBufferPointer<UInt8>, _ type: ColumnType) -> ValueProblem {
        ValueProblem(reason: "\(String(decoding: bytes, as: UTF8.self)) is out of range for \(type)")
    }

    /// A JSON number literal as the nearest double (strtod stops at the delimiter that follows it).
    @inline(__always)
    static func double(_ bytes: UnsafeBufferPointer<UInt8>) -> Double {
        // The literal is followed by a delimiter (',', '}', ']' or the line's end), so strtod stops there;
        // a copy is needed only at the very end of the buffer.
        var buffer = (0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64)
        if bytes.count < 32 {
            return withUnsafeMutableBytes(of: &buffer) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(bytes))
                return strtod(raw.baseAddress!.assumingMemoryBound(to: CChar.self), nil)
            }
        }
        return strtod(String(decoding: bytes, as: UTF8.self), nil)
    }

    /// A numeric string as a double, or `nil` when it is not entirely a number.
    static func parseDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        Double(String(decoding: bytes, as: UTF8.self))
    }

    static func decimal(_ bytes: UnsafeBufferPointer<UInt8>, _ type: ColumnType) throws(ValueProblem) -> String {
        do throws(DecimalText.Problem) {
            return try DecimalText.canonical(bytes, precision: type.precision ?? 38, scale: type.scale ?? 10)
        } catch {
            switch error {
            case .notANumber: throw ValueProblem(reason: "\"\(String(decoding: bytes, as: UTF8.self))\" is not a decimal number")
            case .tooManyIntegerDigits(let allowed):
                throw ValueProblem(
                    reason: "\(String(decoding: bytes, as: UTF8.self)) has more than \(allowed) integer digits, too many for \(type)")
            }
        }
    }
}
