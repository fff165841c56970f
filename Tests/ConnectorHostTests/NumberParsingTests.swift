import Testing

@testable import ConnectorHost

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("Number parsing on the record path")
struct NumberParsingTests {
    @Test("decimal literals read to the same double as strtod, on the fast path and off it")
    func doublesMatchStrtod() {
        var literals = [
            "0", "-0", "0.0", "1", "-1.5", "27638.58", "84.7495", "0.0001", "99999.99", "123456789012345",
            "1234567890123456", "0.1", "0.30000000000000004", "1e5", "-2.5E-3", "9007199254740993",
            "1.7976931348623157e308", "4.9e-324", "0.000000000000000000000012345", "100000000000000000000000",
            "0.00000000000000000000000000001", "-123.456000",
        ]
        var state: UInt64 = 42
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        for _ in 0..<20_000 {
            let integer = next() % 10_000_000_000
            let fraction = next() % 1_000_000_000
            let digits = Int(next() % 10)
            var literal = (next() % 2 == 0 ? "-" : "") + String(integer)
            if digits > 0 {
                let text = String(fraction)
                literal += "." + String(repeating: "0", count: max(0, digits - text.count)) + text.suffix(digits)
            }
            literals.append(literal)
        }
        for literal in literals {
            let parsed = Array(literal.utf8).withUnsafeBufferPointer { ValueBinder.double($0) }
            #expect(parsed.bitPattern == strtod(literal, nil).bitPattern, "for \(literal)")
        }
    }
}
