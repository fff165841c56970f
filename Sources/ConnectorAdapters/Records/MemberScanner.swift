import ConnectorProtocol

/// Finds the byte ranges of chosen members of a JSON object without building a tree: the fast
/// path of a source's RECORD lines, which are copied into `records` batches as they are.
///
/// The whole object is still validated (every value is scanned), and a chosen member that appears
/// twice is an error, as the host treats it (PROTOCOL.md section 2).
enum MemberScanner {
    /// The value ranges of `names` in the object that starts at `start` of `bytes` (after
    /// whitespace); `nil` for a name the object does not have.
    /// - Parameter wholeInput: the object must be all of `bytes` (whitespace aside).
    /// - Throws: ``JSONSyntaxError`` at the first problem.
    static func members(
        of bytes: UnsafeBufferPointer<UInt8>, at start: Int = 0, names: [StaticString], wholeInput: Bool,
        maximumDepth: Int = 128
    ) throws(JSONSyntaxError) -> [Range<Int>?] {
        var scanner = JSONScanner(bytes, maximumDepth: maximumDepth)
        scanner.position = start
        var found = [Range<Int>?](repeating: nil, count: names.count)
        try scanner.expect(UInt8(ascii: "{"), "a JSON object")
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                let value = try scanner.skipValue(depth: 1)
                for index in names.indices where scanner.tokenEquals(key, names[index]) {
                    guard found[index] == nil else {
                        throw JSONSyntaxError("the member \"\(names[index])\" appears twice", at: key.start - 1)
                    }
                    found[index] = value
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an object")
        }
        if wholeInput {
            scanner.skipWhitespace()
            guard scanner.isAtEnd else { throw scanner.error("expected the end of the line") }
        }
        return found
    }

    /// Whether `range` of `bytes` is exactly the JSON string literal `text` (quotes included, no escapes).
    @inline(__always)
    static func isString(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>?, _ text: StaticString) -> Bool {
        guard let range, range.count == text.utf8CodeUnitCount + 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else {
            return false
        }
        let pointer = text.utf8Start
        for index in 0..<text.utf8CodeUnitCount where bytes[range.lowerBound + 1 + index] != pointer[index] { return false }
        return true
    }

    /// The decoded string at `range` (a JSON string literal), or `nil` when it is another kind of value.
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(JSONSyntaxError) -> String? {
        guard bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        var scanner = JSONScanner(bytes)
        scanner.position = range.lowerBound
        return try scanner.string(scanner.scanString())
    }
}

/// Remembers the last stream name of a source's records and its table as a JSON string literal, so
/// consecutive records of one stream (the common case) cost a byte comparison, not a `String`.
struct StreamNameCache {
    private var lastRaw: [UInt8] = []
    private(set) var name = ""
    private(set) var literal: [UInt8] = []

    /// Makes `range` (a JSON string in `bytes`) the current stream; returns whether it changed.
    /// - Throws: ``JSONSyntaxError`` when the value is not a valid string.
    mutating func update(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(JSONSyntaxError) -> Bool {
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        if raw.elementsEqual(lastRaw) { return false }
        guard let decoded = try MemberScanner.string(bytes, range) else {
            throw JSONSyntaxError("the stream name must be a string", at: range.lowerBound)
        }
        lastRaw = Array(raw)
        name = decoded
        literal = []
        JSONWriter.appendString(decoded, to: &literal)
        return true
    }
}
