import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a value cannot be stored in a column of its declared type.
struct ValueProblem: Error {
    /// The value as sent, when the message quotes it: kept whole, so that it is masked before it is cut.
    var value: [UInt8]? = nil
    /// What is wrong; with `value`, it follows the value ("is not a valid LONG: send an integer ...").
    var reason: String

    /// The message, the value's secrets masked by `redactor` before its preview is cut after 80 bytes.
    func message(masking redactor: Redactor) -> String {
        guard let value else { return reason }
        return ValueBinder.preview(redactor.mask(value)) + " " + reason
    }
}

/// Where ``ValueBinder`` puts converted values: an SQLite statement's parameters, or a PostgreSQL
/// COPY row. `index` is the parameter number (1-based). Text and blobs passed as `borrowing` stay
/// valid only until the binder is recycled: a sink that keeps them past the statement copies them.
protocol ValueSink: AnyObject {
    func bindNull(_ index: Int)
    func bind(_ value: Int64, at index: Int)
    func bind(_ value: Double, at index: Int)
    func bindBoolean(_ value: Bool, at index: Int)
    func bind(_ value: String, at index: Int)
    func bindText(borrowing bytes: UnsafeBufferPointer<UInt8>, at index: Int)
    func bindBlob(copying bytes: UnsafeRawBufferPointer, at index: Int)
}

extension SQLiteStatement: ValueSink {
    /// BOOLEAN is stored as the integer 1 or 0.
    @inline(__always)
    func bindBoolean(_ value: Bool, at index: Int) { bind(Int64(value ? 1 : 0), at: index) }
}

/// Where a converted value goes: a sink's parameter (``StatementParameter``), or the canonical form
/// the row hash is computed on (``CanonicalValue``).
protocol BindingTarget {
    mutating func bindNull()
    mutating func bind(_ value: Int64)
    mutating func bind(_ value: Double)
    mutating func bindBoolean(_ value: Bool)
    mutating func bind(_ value: String)
    /// UTF-8 text that stays valid until the statement has run.
    mutating func bindText(borrowing bytes: UnsafeBufferPointer<UInt8>)
    mutating func bindBlob(copying bytes: UnsafeRawBufferPointer)
}

extension BindingTarget {
    /// BOOLEAN as SQLite stores it: the integer 1 or 0.
    @inline(__always)
    mutating func bindBoolean(_ value: Bool) { bind(Int64(value ? 1 : 0)) }
}

/// A sink's parameter as a ``BindingTarget``.
struct StatementParameter<Sink: ValueSink>: BindingTarget {
    let statement: Sink
    let index: Int
    @inline(__always) func bindNull() { statement.bindNull(index) }
    @inline(__always) func bind(_ value: Int64) { statement.bind(value, at: index) }
    @inline(__always) func bind(_ value: Double) { statement.bind(value, at: index) }
    @inline(__always) func bindBoolean(_ value: Bool) { statement.bindBoolean(value, at: index) }
    @inline(__always) func bind(_ value: String) { statement.bind(value, at: index) }
    @inline(__always) func bindText(borrowing bytes: UnsafeBufferPointer<UInt8>) { statement.bindText(borrowing: bytes, at: index) }
    @inline(__always) func bindBlob(copying bytes: UnsafeRawBufferPointer) { statement.bindBlob(copying: bytes, at: index) }
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
    ///
    /// The accepted JSON forms per type are those of PROTOCOL.md section 8: numeric types take a JSON
    /// number or a string holding one (integers and decimals without exponent), dates and times and
    /// BINARY take strings, STRING takes any value (non-strings as their JSON text), JSON any value
    /// (as compact JSON text).
    mutating func bind<Sink: ValueSink>(
        _ value: FieldValue, as type: ColumnType, from source: RecordSource, to statement: Sink, at index: Int
    ) throws(ValueProblem) {
        var parameter = StatementParameter(statement: statement, index: index)
        try bind(value, as: type, from: source, to: &parameter)
    }

    /// Converts `value` to `type` and hands the stored form to `target` (a statement's parameter,
    /// or the row hash, which is computed over the values as stored).
    @inline(__always)
    mutating func bind<Target: BindingTarget>(
        _ value: FieldValue, as type: ColumnType, from source: RecordSource, to statement: inout Target
    ) throws(ValueProblem) {
        switch value {
        case .null:
            statement.bindNull()
        case .bool(let flag):
            switch type.dataType {
            case .boolean: statement.bindBoolean(flag)
            case .string, .json: statement.bind(flag ? "true" : "false")
            default: throw Self.invalid(value, source, type)
            }
        case .number(let range):
            let literal = source.slice(range)
            switch type.dataType {
            case .short, .int, .long:
                statement.bind(try Self.integer(literal, type, shown: literal))
            case .float, .double:
                statement.bind(try Self.finiteDouble(literal, type, shown: literal))
            case .decimal:
                statement.bind(try Self.decimal(literal, type, shown: literal))
            case .string, .json:
                statement.bindText(borrowing: literal)
            default: throw Self.invalid(value, source, type)
            }
        case .string(let token):
            let text = try unescaped(token, source)
            let shown = source.slice(token.start - 1..<token.end + 1)
            switch type.dataType {
            case .string, .xml:
                // Only an escape (\u0000) can put a NUL in a string. SQLite's own text functions, its
                // shell and most of its clients stop at one, and PostgreSQL's text cannot hold one:
                // refused on every destination, never kept in part.
                if token.hasEscapes, let base = text.baseAddress, memchr(base, 0, text.count) != nil {
                    throw ValueProblem(
                        value: Array(shown),
                        reason:
                            "holds a NUL character (\\u0000), which warehouse text cannot hold whole (SQLite's text functions and tools cut the text at it; PostgreSQL refuses it); remove it, or declare the column BINARY and send base64"
                    )
                }
                statement.bindText(borrowing: text)
            case .utcDateTime:
                if TemporalValues.isCanonicalUTC(text) {
                    statement.bindText(borrowing: text)
                } else {
                    guard let normalised = TemporalValues.utcDateTime(text) else { throw Self.invalid(shown, type) }
                    statement.bindText(borrowing: keep(normalised))
                }
            case .naiveDateTime:
                guard let normalised = TemporalValues.naiveDateTime(text) else { throw Self.invalid(shown, type) }
                statement.bindText(borrowing: keep(normalised))
            case .naiveDate:
                guard TemporalValues.isNaiveDate(text) else { throw Self.invalid(shown, type) }
                statement.bindText(borrowing: text)
            case .short, .int, .long:
                statement.bind(try Self.integer(text, type, shown: shown))
            case .float, .double:
                guard Self.isJSONNumber(text) else { throw Self.invalid(shown, type) }
                statement.bind(try Self.finiteDouble(text, type, shown: shown))
            case .decimal:
                guard DecimalText.isPlain(text) else { throw Self.invalid(shown, type) }
                statement.bind(try Self.decimal(text, type, shown: shown))
            case .binary:
                guard let decoded = Base64.decode(text) else { throw Self.invalid(shown, type) }
                decoded.withUnsafeBytes { statement.bindBlob(copying: $0) }
            case .json:
                // The string's JSON text, quotes included: every JSON column holds valid JSON.
                statement.bindText(borrowing: shown)
            case .boolean:
                throw Self.invalid(shown, type)
            }
        case .composite(let range):
            switch type.dataType {
            case .json, .string:
                let raw = source.slice(range)
                guard !raw.contains(where: { $0 >= 0x80 }) || isValidUTF8(raw) else {
                    throw ValueProblem(reason: "the value is not valid UTF-8")
                }
                if let compact = Self.compactJSON(raw) {
                    statement.bindText(borrowing: keep(compact))
                } else {
                    statement.bindText(borrowing: raw)
                }
            default: throw Self.invalid(value, source, type)
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

    /// A value of the wrong JSON kind, or malformed for its type.
    private static func invalid(_ value: FieldValue, _ source: RecordSource, _ type: ColumnType) -> ValueProblem {
        var raw = source.rawJSON(value)
        return raw.withUTF8 { invalid($0, type) }
    }

    private static func invalid(_ shown: UnsafeBufferPointer<UInt8>, _ type: ColumnType) -> ValueProblem {
        ValueProblem(value: Array(shown), reason: "is not a valid \(type): \(hint(type))")
    }

    /// What to send instead, per type.
    static func hint(_ type: ColumnType) -> String {
        switch type.dataType {
        case .boolean: "send true or false"
        case .short, .int, .long: "send an integer like 42 or \"42\""
        case .decimal: "send a decimal string like \"12.34\" (or a JSON number)"
        case .float, .double: "send a JSON number like 1.5 (or a string holding one)"
        case .naiveDate: "send a date string like \"2024-05-01\""
        case .naiveDateTime: "send a string like \"2024-05-01T12:00:00\" (no offset)"
        case .utcDateTime: "send an RFC 3339 string with Z or an offset, like \"2024-05-01T12:00:00Z\""
        case .binary: "send standard base64 with = padding, like \"aGVsbG8=\""
        case .xml: "send the XML document as a string"
        case .string, .json: "send any JSON value"
        }
    }

    /// A value's JSON text for a message (mask its secrets first: ``Redactor/mask(_:)``), cut after 80 bytes.
    static func preview(_ bytes: [UInt8]) -> String {
        guard bytes.count > 80 else { return String(decoding: bytes, as: UTF8.self) }
        var cut = 80
        while cut > 0, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }  // never split a UTF-8 sequence
        return String(decoding: bytes[0..<cut], as: UTF8.self) + "… (\(bytes.count) bytes)"
    }

    /// Parses a decimal integer literal with overflow and range checks for the column's width.
    /// `shown` is the value as sent, for the message.
    @inline(__always)
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>, _ type: ColumnType, shown: UnsafeBufferPointer<UInt8>) throws(ValueProblem)
        -> Int64
    {
        var index = 0
        var negative = false
        if bytes.count > 0 && bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        guard index < bytes.count else { throw invalid(shown, type) }
        var magnitude: UInt64 = 0
        var overflow = false
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { throw invalid(shown, type) }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            overflow = overflow || overflow1 || overflow2
            magnitude = sum
            index += 1
        }
        let limit: UInt64 =
            switch type.dataType {
            case .short: 1 << 15
            case .int: 1 << 31
            default: 1 << 63
            }
        guard !overflow, negative ? magnitude <= limit : magnitude < limit else {
            throw ValueProblem(
                value: Array(shown), reason: "is out of range for \(type) (\(0 &- Int64(truncatingIfNeeded: limit)) to \(limit - 1))")
        }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }

    /// A JSON number literal as the nearest double; infinity (a literal beyond ±1.8e308) is refused.
    @inline(__always)
    static func finiteDouble(_ bytes: UnsafeBufferPointer<UInt8>, _ type: ColumnType, shown: UnsafeBufferPointer<UInt8>)
        throws(ValueProblem) -> Double
    {
        let value = double(bytes)
        guard value.isFinite else {
            throw ValueProblem(
                value: Array(shown), reason: "is out of range for \(type) (at most ±1.7976931348623157e308; send null for infinity)")
        }
        return value
    }

    /// Exact powers of ten as doubles (10^22 is the largest that is exact).
    private static let exactPowersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// A JSON number literal as the nearest double.
    ///
    /// Plain decimals with at most 15 significant digits (prices, scores, coordinates) take Clinger's
    /// fast path: the digits as an integer below 2^53 and the power of ten are both exact doubles, so
    /// one IEEE division gives the correctly rounded result, the same double strtod returns. Anything
    /// else (exponents, more digits) goes to strtod.
    @inline(__always)
    static func double(_ bytes: UnsafeBufferPointer<UInt8>) -> Double {
        var index = 0
        let negative = bytes.count > 0 && bytes[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var sawPoint = false
        while index < bytes.count {
            let byte = bytes[index]
            let digit = byte &- UInt8(ascii: "0")
            if digit < 10 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                if mantissa != 0 { digits += 1 }
                if sawPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: "."), !sawPoint {
                sawPoint = true
            } else {
                return slowDouble(bytes)  // an exponent
            }
            index += 1
        }
        guard digits <= 15, fractionDigits <= 22 else { return slowDouble(bytes) }
        let value = Double(mantissa) / exactPowersOfTen[fractionDigits]
        return negative ? -value : value
    }

    /// strtod on the literal (it stops at the delimiter that follows the literal in the line).
    private static func slowDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> Double {
        // A literal in a line is followed by a delimiter (',', '}', ']' or a quote), so strtod stops
        // there; short literals are copied to a terminated buffer anyway, long ones through a String.
        var buffer = (0 as UInt64, 0 as UInt64, 0 as UInt64, 0 as UInt64)
        if bytes.count < 32 {
            return withUnsafeMutableBytes(of: &buffer) { raw in
                raw.copyMemory(from: UnsafeRawBufferPointer(bytes))
                return strtod(raw.baseAddress!.assumingMemoryBound(to: CChar.self), nil)
            }
        }
        return strtod(String(decoding: bytes, as: UTF8.self), nil)
    }

    /// Whether `bytes` is exactly one JSON number (RFC 8259 grammar, no surrounding space).
    static func isJSONNumber(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first, first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else {
            return false
        }
        var scanner = JSONScanner(bytes)
        guard let range = try? scanner.scanNumber() else { return false }
        return range.upperBound == bytes.count
    }

    static func decimal(_ bytes: UnsafeBufferPointer<UInt8>, _ type: ColumnType, shown: UnsafeBufferPointer<UInt8>) throws(ValueProblem)
        -> String
    {
        let scale = type.scale ?? 10
        do throws(DecimalText.Problem) {
            return try DecimalText.canonical(bytes, precision: type.precision ?? 38, scale: scale)
        } catch {
            switch error {
            case .notANumber: throw invalid(shown, type)
            case .tooManyIntegerDigits(let allowed):
                throw ValueProblem(
                    value: Array(shown),
                    reason:
                        "does not fit \(type): at most \(allowed) digit\(allowed == 1 ? "" : "s") before the point (after rounding to \(scale) decimal\(scale == 1 ? "" : "s"))"
                )
            }
        }
    }

    /// `json` without the whitespace between tokens, or `nil` when it has none (the common case,
    /// which then costs one scan and no allocation).
    static func compactJSON(_ json: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var output: [UInt8]?
        var inString = false
        var escaped = false
        for (offset, byte) in json.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                if output == nil {
                    output = Array(json[0..<offset])
                    output!.reserveCapacity(json.count)
                }
                continue
            }
            output?.append(byte)
        }
        return output
    }
}
