import ConnectorProtocol

/// Fivetran's `_fivetran_id` of a row of a table without a primary key (PROTOCOL.md 6.5): the
/// standard base64 of the SHA-1 of `name=repr(cell)` for every column of the row, nulls included,
/// sorted by (mapped) name and joined by U+001F, where `repr` is Python's repr of the cell as the
/// Fivetran SDK encodes it: text for strings, integers and booleans (`'1'`, `'true'`), the number
/// for floats (`1.5`), `None` for null, the `json.dumps` text for objects and arrays, a bytes
/// literal for bytes. Checked against `fivetran debug` 3.0.0 (Tests: FivetranRowHashTests).
enum FivetranRowHash {
    /// One cell: its mapped column name and its value as the op sent it.
    static func digest(_ cells: [(name: String, repr: String)]) -> String {
        var sorted = cells
        sorted.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var text: [UInt8] = []
        for (index, cell) in sorted.enumerated() {
            if index > 0 { text.append(contentsOf: "\u{1F}".utf8) }
            text.append(contentsOf: cell.name.utf8)
            text.append(UInt8(ascii: "="))
            text.append(contentsOf: cell.repr.utf8)
        }
        return Base64.encode(SHA1.hash(text))
    }

    /// The Python repr of a cell as Fivetran's SDK would have encoded the value the op carries.
    /// `hint` is the op's type hint for the column (`BINARY`: base64 bytes; datetimes: `str(dt)`).
    static func repr(_ value: FieldValue, _ source: RecordSource, hint: DataType?) -> String {
        switch value {
        case .null: return "None"
        case .bool(let flag): return flag ? "'true'" : "'false'"
        case .number(let range):
            let literal = String(decoding: source.slice(range), as: UTF8.self)
            if JSONNumber(literal: literal).isIntegerLiteral { return pythonRepr(literal) }
            return pythonFloat(literal)
        case .string(let token):
            let text = (try? source.string(token)) ?? ""
            switch hint {
            case .binary?:
                if let bytes = Array(text.utf8).withUnsafeBufferPointer({ Base64.decode($0) }) { return bytesRepr(bytes) }
                return pythonRepr(text)
            case .naiveDateTime?:
                // str(datetime) has a space where the SDK's ISO text has a T.
                return pythonRepr(text.replacingFirst("T", with: " "))
            case .utcDateTime?:
                // The SDK sends aware datetimes in UTC with Z; str() of a UTC datetime ends +00:00.
                var shown = text.replacingFirst("T", with: " ")
                if shown.hasSuffix("Z") { shown = String(shown.dropLast()) + "+00:00" }
                return pythonRepr(shown)
            default: return pythonRepr(text)
            }
        case .composite(let range):
            guard let parsed = try? JSONParser.parse(source.slice(range)) else {
                return pythonRepr(String(decoding: source.slice(range), as: UTF8.self))
            }
            var out = ""
            pythonJSONDumps(parsed, into: &out)
            return pythonRepr(out)
        }
    }

    /// `repr(float(literal))`: Python's shortest round-tripping text (`1.5`, `1e+16`, `inf`).
    static func pythonFloat(_ literal: String) -> String {
        guard let value = Double(literal) else { return literal }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value.isNaN { return "nan" }
        var text = "\(value)"  // Swift: shortest round trip, like Python, with "e+16"/"e-05" exponents
        if !text.contains(".") && !text.contains("e") { text += ".0" }
        let magnitude = Swift.abs(value)
        // Python uses an exponent from 1e16 up and below 1e-4; Swift's switch points differ.
        if magnitude != 0, magnitude < 1e16, magnitude >= 1e-4, text.contains("e") {
            text = plainDecimal(value)
        }
        return text
    }

    private static func plainDecimal(_ value: Double) -> String {
        let text = "\(value)"
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text }
        let mantissa = String(text[..<e])
        let exponent = Int(text[text.index(after: e)...]) ?? 0
        let negative = mantissa.hasPrefix("-")
        let digits = mantissa.filter(\.isNumber)
        let point =
            (mantissa.firstIndex(of: ".").map { mantissa.distance(from: mantissa.startIndex, to: $0) } ?? mantissa.count)
            - (negative ? 1 : 0)
        var position = point + exponent
        var body = digits
        if position <= 0 {
            body = "0." + String(repeating: "0", count: -position) + digits
        } else if position >= digits.count {
            body = digits + String(repeating: "0", count: position - digits.count) + ".0"
        } else {
            body.insert(".", at: body.index(body.startIndex, offsetBy: position))
            position = 0
        }
        return (negative ? "-" : "") + body
    }

    /// Python's `repr(str)`.
    static func pythonRepr(_ text: String) -> String {
        let quote: Unicode.Scalar = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case quote:
                out.append("\\")
                out.append(quote)
            default:
                if scalar.value >= 0x20 && scalar.value < 0x7F || scalar.value > 0x7F && isPrintable(scalar) {
                    out.append(scalar)
                } else {
                    out.append(contentsOf: escaped(scalar.value).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// Python's `repr(bytes)`: `b'...'` with `\xNN` for bytes outside printable ASCII.
    static func bytesRepr(_ bytes: [UInt8]) -> String {
        let quote: UInt8 = bytes.contains(UInt8(ascii: "'")) && !bytes.contains(UInt8(ascii: "\"")) ? UInt8(ascii: "\"") : UInt8(ascii: "'")
        var out = "b" + String(UnicodeScalar(quote))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "\t"): out += "\\t"
            case quote: out += "\\" + String(UnicodeScalar(quote))
            case 0x20..<0x7F: out.append(Character(UnicodeScalar(byte)))
            default: out += escaped(UInt32(byte))
            }
        }
        return out + String(UnicodeScalar(quote))
    }

    private static func escaped(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        if value < 0x100 { return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex }
        if value < 0x10000 { return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex }
        return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Python's `str.isprintable` for one non-ASCII character: not a control, format, surrogate,
    /// private-use, unassigned or separator character.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default: return true
        }
    }

    /// `json.dumps(value)` with Python's defaults: `", "` and `": "` separators, non-ASCII escaped.
    static func pythonJSONDumps(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let number): out += number.isIntegerLiteral ? number.literal : pythonFloat(number.literal)
        case .string(let text): jsonString(text, into: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += ", " }
                pythonJSONDumps(item, into: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (index, member) in object.members.enumerated() {
                if index > 0 { out += ", " }
                jsonString(member.key, into: &out)
                out += ": "
                pythonJSONDumps(member.value, into: &out)
            }
            out += "}"
        }
    }

    private static func jsonString(_ text: String, into out: inout String) {
        out += "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.append(Character(UnicodeScalar(UInt8(unit))))
            default:
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        out += "\""
    }
}

extension String {
    fileprivate func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: target) else { return self }
        return String(self[..<index]) + replacement + String(self[self.index(after: index)...])
    }
}

/// SHA-1 (FIPS 180-4), for Fivetran's row ids only (not for security).
enum SHA1 {
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let j = chunk + i * 4
                w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
            }
            for i in 16..<80 {
                let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = x << 1 | x >> 31
            }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for i in 0..<80 {
                let (f, k): (UInt32, UInt32)
                switch i {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
                (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, temp)
            }
            h[0] = h[0] &+ a
            h[1] = h[1] &+ b
            h[2] = h[2] &+ c
            h[3] = h[3] &+ d
            h[4] = h[4] &+ e
        }
        return h.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) } }
    }
}
