/// Canonical text of DECIMAL(p,s) values, computed on digits so no binary rounding ever happens.
enum DecimalText {
    enum Problem: Error, Equatable {
        case notANumber
        case tooManyIntegerDigits(allowed: Int)
    }

    /// Whether `bytes` is a decimal string as PROTOCOL.md 8.4 defines it: `-?[0-9]+(\.[0-9]+)?`
    /// (no `+`, exponent, spaces or separators).
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = bytes.first == UInt8(ascii: "-") ? 1 : 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 { index += 1 }
            return index - start
        }
        guard digits() > 0 else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }

    /// Parses a JSON-number-like literal (`-12.5`, `1e3`, `"0.10"`) and returns it with exactly
    /// `scale` fraction digits, rounded half away from zero.
    static func canonical(_ bytes: UnsafeBufferPointer<UInt8>, precision: Int, scale: Int) throws(Problem) -> String {
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        var digits: [UInt8] = []
        var pointPosition: Int?
        var sawDigit = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                digits.append(byte - UInt8(ascii: "0"))
                sawDigit = true
            } else if byte == UInt8(ascii: "."), pointPosition == nil {
                pointPosition = digits.count
            } else {
                break
            }
            index += 1
        }
        guard sawDigit else { throw .notANumber }
        var exponent = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var sawExponentDigit = false
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                exponent = min(exponent * 10 + Int(bytes[index] - UInt8(ascii: "0")), 10_000)
                sawExponentDigit = true
                index += 1
            }
            guard sawExponentDigit else { throw .notANumber }
            if exponentNegative { exponent = -exponent }
        }
        guard index == bytes.count else { throw .notANumber }
        // value = digits × 10^(exponent - fractionDigits)
        let fractionDigits = digits.count - (pointPosition ?? digits.count)
        var integerCount = digits.count - fractionDigits + exponent
        var all = digits
        if integerCount < 0 {
            all.insert(contentsOf: repeatElement(0, count: -integerCount), at: 0)
            integerCount = 0
        }
        while all.count < integerCount + scale + 1 { all.append(0) }
        var integerPart = Array(all[0..<integerCount])
        var fractionPart = Array(all[integerCount..<(integerCount + scale)])
        let roundDigit = all[integerCount + scale]
        if roundDigit >= 5 {
            var carry = true
            for position in stride(from: fractionPart.count - 1, through: 0, by: -1) where carry {
                fractionPart[position] += 1
                carry = fractionPart[position] == 10
                if carry { fractionPart[position] = 0 }
            }
            for position in stride(from: integerPart.count - 1, through: 0, by: -1) where carry {
                integerPart[position] += 1
                carry = integerPart[position] == 10
                if carry { integerPart[position] = 0 }
            }
            if carry { integerPart.insert(1, at: 0) }
        }
        while integerPart.count > 1, integerPart[0] == 0 { integerPart.removeFirst() }
        if integerPart.isEmpty { integerPart = [0] }
        let significantIntegers = integerPart == [0] ? 0 : integerPart.count
        guard significantIntegers <= precision - scale else { throw .tooManyIntegerDigits(allowed: precision - scale) }
        let isZero = integerPart.allSatisfy { $0 == 0 } && fractionPart.allSatisfy { $0 == 0 }
        var text = negative && !isZero ? "-" : ""
        text += String(decoding: integerPart.map { $0 + UInt8(ascii: "0") }, as: UTF8.self)
        if scale > 0 { text += "." + String(decoding: fractionPart.map { $0 + UInt8(ascii: "0") }, as: UTF8.self) }
        return text
    }
}

/// RFC 4648 base64 decoding (padded or not), for BINARY values.
enum Base64 {
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    /// The decoded bytes, or `nil` when `text` is not padded standard base64 (a multiple of 4
    /// characters from `A-Z a-z 0-9 + /`, with at most two `=` at the end).
    ///
    /// Decodes four characters at a time into an uninitialised buffer: a 1 MiB value is one call.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var count = text.count
        while count > 0, text[count - 1] == UInt8(ascii: "=") { count -= 1 }
        guard text.count % 4 == 0, text.count - count <= 2, count % 4 != 1 else { return nil }
        let outputCount = count / 4 * 3 + max(0, count % 4 - 1)
        var valid = true
        let output = table.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: outputCount) { buffer, initialized in
                var input = 0
                var written = 0
                // 0xFF marks a character outside the alphabet; OR-ing four values keeps that bit.
                while input + 4 <= count {
                    let a = table[Int(text[input])], b = table[Int(text[input + 1])]
                    let c = table[Int(text[input + 2])], d = table[Int(text[input + 3])]
                    guard (a | b | c | d) & 0x80 == 0 else {
                        valid = false
                        break
                    }
                    let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    buffer[written] = UInt8(truncatingIfNeeded: group >> 16)
                    buffer[written + 1] = UInt8(truncatingIfNeeded: group >> 8)
                    buffer[written + 2] = UInt8(truncatingIfNeeded: group)
                    written += 3
                    input += 4
                }
                if valid, input < count {
                    // The last group, before the padding: 2 or 3 characters give 1 or 2 bytes.
                    var group: UInt32 = 0
                    for offset in 0..<4 {
                        let value = input + offset < count ? table[Int(text[input + offset])] : 0
                        if value & 0x80 != 0 { valid = false }
                        group = group << 6 | UInt32(value & 0x3F)
                    }
                    buffer[written] = UInt8(truncatingIfNeeded: group >> 16)
                    written += 1
                    if count - input == 3 {
                        buffer[written] = UInt8(truncatingIfNeeded: group >> 8)
                        written += 1
                    }
                }
                initialized = valid ? written : 0
            }
        }
        return valid ? output : nil
    }

    /// The base64 text of `bytes`, padded.
    static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { output.append(alphabet[Int((chunk >> UInt32(shift)) & 63)]) }
            index += 3
        }
        let remaining = bytes.count - index
        if remaining > 0 {
            var chunk = UInt32(bytes[index]) << 16
            if remaining == 2 { chunk |= UInt32(bytes[index + 1]) << 8 }
            output.append(alphabet[Int((chunk >> 18) & 63)])
            output.append(alphabet[Int((chunk >> 12) & 63)])
            output.append(remaining == 2 ? alphabet[Int((chunk >> 6) & 63)] : UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        }
        return String(decoding: output, as: UTF8.self)
    }
}
