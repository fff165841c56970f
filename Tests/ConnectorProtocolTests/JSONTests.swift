import Foundation
import Testing

@testable import ConnectorProtocol

@Suite("JSON parsing and writing")
struct JSONTests {
    @Test("values round-trip through the parser and the writer unchanged")
    func roundTrip() throws {
        let texts = [
            #"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":{"e":-1.5e-3,"f":12345678901234567890}}"#,
            #"[]"#, #"{}"#, #""é😀""#, #"0"#, #"-0.0"#,
        ]
        for text in texts {
            let value = try JSONParser.parse(text)
            #expect(JSONWriter.string(value) == text)
        }
    }

    @Test("numbers keep their literal text, so big integers and decimals are exact")
    func numbersKeepLiterals() throws {
        let value = try JSONParser.parse(#"{"big":9223372036854775807,"decimal":0.10,"huge":123456789012345678901234567890}"#)
        #expect(value["big"]?.int64Value == Int64.max)
        #expect(value["decimal"] == .number(JSONNumber(literal: "0.10")))
        #expect(value["huge"]?.int64Value == nil)
        #expect(value["huge"]?.doubleValue == 1.2345678901234568e29)
    }

    @Test("doubles are written as the bytes of their description, whichever path writes them")
    func doublesAsDescription() {
        var state: UInt64 = 42
        func next() -> UInt64 {  // splitmix64: the same values on every run
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var values: [Double] = [
            0.001, 0.0009999999999999998, 0.0011, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 1, 5, 10, 99999.99, 12345.67, 99.9999,
            0.0001, 1e-5, 1e14, 1e15, 0x1p50, 0x1p50 - 1, 0x1p50 + 2, 0x1p53, 123_456_789_012_345.6, 4_503_599_627_370_495.5,
            999_999_999.999_999_9, 0.123456789, 0.1234567891, 1.000000001, 9.999999999, 1e-3 * 1.5, .ulpOfOne, 0, -0.0,
            .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e300, 1e-300,
        ]
        for decimals in 0...10 {
            for _ in 0..<3_000 {
                let scale = pow(10.0, Double(decimals))
                let digits = Double(next() % (decimals < 6 ? 10_000_000_000 : 100_000_000_000_000))
                values.append(digits / scale)
            }
        }
        for _ in 0..<20_000 { values.append(Double(bitPattern: next())) }  // any double, NaNs and infinities too
        for _ in 0..<20_000 { values.append(Double(next() % 1_000_000_000) / Double(1 + next() % 100_000)) }
        for value in values + values.map({ -$0 }) {
            var bytes: [UInt8] = []
            JSONWriter.appendDouble(value, to: &bytes)
            let expected = value.isFinite ? value.description : "null"
            #expect(String(decoding: bytes, as: UTF8.self) == expected, "\(value.bitPattern)")
        }
    }

    @Test("object members keep their order")
    func memberOrder() throws {
        let value = try JSONParser.parse(#"{"z":1,"a":2,"m":3}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(JSONWriter.string(value, sortedKeys: true) == #"{"a":2,"m":3,"z":1}"#)
    }

    @Test("escapes decode, including surrogate pairs")
    func escapes() throws {
        let value = try JSONParser.parse(#""\u00e9\ud83d\ude00\t\/""#)
        #expect(value == .string("é😀\t/"))
    }

    @Test("syntax errors name the problem and the byte")
    func syntaxErrors() {
        let cases: [(String, String)] = [
            ("{\"a\" 1}", "expected ':' after an object key, found '1' at byte 6"),
            ("[1,]", "expected a JSON value, found ']' at byte 4"),
            ("\"abc", "unterminated string at byte 1"),
            ("{\"a\":1} x", "expected the end of the value, found 'x' at byte 9"),
            ("tru", "invalid literal, found 't' at byte 1"),
            ("\"a\u{01}\"", "control character in string (escape it), found byte 0x1 at byte 3"),
            ("\"\\ud800\"", "unpaired surrogate in \\u escape at byte 8"),
        ]
        for (text, expected) in cases {
            #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(text) }
            do {
                _ = try JSONParser.parse(text)
            } catch {
                #expect(error.description == expected, "for \(text)")
            }
        }
    }

    @Test("nesting deeper than the limit is refused, not a stack overflow")
    func depthLimit() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        do {
            _ = try JSONParser.parse(deep)
            Issue.record("expected a depth error")
        } catch {
            #expect(error.reason.hasPrefix("nesting deeper than 128 levels"))
        }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONSyntaxError("invalid UTF-8 in string", at: 1)) { try JSONParser.parse(bytes) }
    }

    @Test("strings scan and write the same wherever a quote, escape, control byte or non-ASCII byte falls in the 8-byte words")
    func stringScanAtEveryOffset() throws {
        for length in 0..<24 {
            for position in 0...length {
                let plain = String(repeating: "a", count: length)
                let index = plain.index(plain.startIndex, offsetBy: position)
                for (inserted, decoded) in [(#"\""#, "\""), (#"\\"#, "\\"), (#"\n"#, "\n"), ("é", "é"), ("", "")] {
                    let text = "\"" + plain[..<index] + inserted + plain[index...] + "\""
                    let expected = plain[..<index] + decoded + plain[index...]
                    #expect(try JSONParser.parse(text) == .string(String(expected)), "for \(text)")
                }
                for special in ["\"", "\\", "\n", "\u{1}", "\u{1F}", "é", "😀"] {
                    let text = String(plain[..<index]) + special + String(plain[index...])
                    let written = JSONWriter.string(.string(text))
                    #expect(try JSONParser.parse(written) == .string(text), "for \(written)")
                    #expect(!written.utf8.dropFirst().dropLast().contains { $0 < 0x20 }, "for \(written)")
                }
                let control = Array(("\"" + plain[..<index]).utf8) + [0x01] + Array((plain[index...] + "\"").utf8)
                #expect(throws: JSONSyntaxError("control character in string (escape it), found byte 0x1", at: position + 1)) {
                    try JSONParser.parse(control)
                }
            }
        }
    }
}
