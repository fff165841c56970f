/// Parses JSON text into ``JSONValue`` trees, for the control path (handshake, schema, state).
///
/// The record path does not build trees; see the host's record scanner.
public enum JSONParser {
    /// Parses exactly one JSON value (surrounding whitespace allowed).
    /// - Throws: ``JSONSyntaxError`` naming the byte offset of the first problem.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int = 128) throws(JSONSyntaxError)
        -> JSONValue
    {
        var scanner = JSONScanner(bytes, maximumDepth: maximumDepth)
        let value = try parseValue(&scanner, depth: 0)
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.error("expected the end of the value") }
        return value
    }

    /// Parses exactly one JSON value from a string.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var copy = text
        let result: Result<JSONValue, JSONSyntaxError> = copy.withUTF8 { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in try parse(buffer) }
        }
        return try result.get()
    }

    /// Parses exactly one JSON value from bytes.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        let result: Result<JSONValue, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in try parse(buffer) }
        }
        return try result.get()
    }

    /// Parses the value at the scanner's position, leaving the scanner after it.
    public static func parseValue(_ scanner: inout JSONScanner, depth: Int) throws(JSONSyntaxError) -> JSONValue {
        scanner.skipWhitespace()
        switch scanner.peek {
        case UInt8(ascii: "{"):
            guard depth < scanner.maximumDepth else { throw scanner.nestingError() }
            scanner.position += 1
            var members: [(key: String, value: JSONValue)] = []
            if !scanner.consume(UInt8(ascii: "}")) {
                repeat {
                    let key = try scanner.string(scanner.scanString())
                    try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                    members.append((key: key, value: try parseValue(&scanner, depth: depth + 1)))
                } while scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an object")
            }
            return .object(JSONObject(members))
        case UInt8(ascii: "["):
            guard depth < scanner.maximumDepth else { throw scanner.nestingError() }
            scanner.position += 1
            var elements: [JSONValue] = []
            if !scanner.consume(UInt8(ascii: "]")) {
                repeat {
                    elements.append(try parseValue(&scanner, depth: depth + 1))
                } while scanner.consume(
                    UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "]"), "',' or ']' in an array")
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try scanner.string(scanner.scanString()))
        case UInt8(ascii: "t"):
            try scanner.scanLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try scanner.scanLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try scanner.scanLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let range = try scanner.scanNumber()
            let literal = String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[range]), as: UTF8.self)
            return .number(JSONNumber(literal: literal))
        default:
            throw scanner.error("expected a JSON value")
        }
    }
}
