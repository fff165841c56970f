import ConnectorProtocol

/// Timestamps in UTC_DATETIME columns that taps commonly send in a form the host refuses, rewritten
/// to RFC 3339 with an offset: a time without a zone is read as UTC (as Singer targets and Airbyte
/// destinations read it), a date alone as its midnight in UTC, `+0100` as `+01:00`, `+01` as
/// `+01:00`. Any other value is passed on unchanged, for the host to accept or refuse with its
/// precise message (table, column, value).
enum TimestampRepair {
    /// The repaired text of a string's content, or `nil` when it is fine or beyond repair.
    static func repaired(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = text.count
        if count == 10 && isDate(text) { return Array(text) + Array("T00:00:00Z".utf8) }
        guard count >= 19, isDate(text), [UInt8(ascii: "T"), UInt8(ascii: " "), UInt8(ascii: "t")].contains(text[10]),
            isTime(text, at: 11)
        else { return nil }
        var end = 19
        if end < count && text[end] == UInt8(ascii: ".") {
            end += 1
            while end < count && isDigit(text[end]) { end += 1 }
        }
        let zone = UnsafeBufferPointer(rebasing: text[end...])
        switch zone.count {
        case 0: return Array(text) + [UInt8(ascii: "Z")]
        case 3 where isSign(zone[0]) && isDigit(zone[1]) && isDigit(zone[2]):
            return Array(text) + Array(":00".utf8)
        case 5 where isSign(zone[0]) && zone.dropFirst().allSatisfy(isDigit):
            return Array(text[..<(end + 3)]) + [UInt8(ascii: ":")] + Array(text[(end + 3)...])
        default: return nil  // already has a zone (`Z`, `+01:00`), or not a timestamp
        }
    }

    /// The row `data` (a JSON object in `bytes`) with its repairable timestamps in `columns`
    /// rewritten, or `nil` when none needs it.
    /// - Parameter columns: the UTF-8 names of the table's UTC_DATETIME columns.
    static func repairedRow(_ bytes: UnsafeBufferPointer<UInt8>, data: Range<Int>, columns: [[UInt8]]) throws(JSONSyntaxError)
        -> [UInt8]?
    {
        var scanner = JSONScanner(bytes)
        scanner.position = data.lowerBound
        var replacements: [(range: Range<Int>, text: [UInt8])] = []
        try scanner.expect(UInt8(ascii: "{"), "a JSON object")
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                let value = try scanner.skipValue(depth: 1)
                guard !key.hasEscapes, bytes[value.lowerBound] == UInt8(ascii: "\""), value.count > 2 else { continue }
                let name = UnsafeBufferPointer(rebasing: bytes[key.start..<key.end])
                guard columns.contains(where: { $0.elementsEqual(name) }) else { continue }
                let content = UnsafeBufferPointer(rebasing: bytes[(value.lowerBound + 1)..<(value.upperBound - 1)])
                if let fixed = repaired(content) {
                    replacements.append(((value.lowerBound + 1)..<(value.upperBound - 1), fixed))
                }
            } while scanner.consume(UInt8(ascii: ","))
        }
        guard !replacements.isEmpty else { return nil }
        var row: [UInt8] = []
        row.reserveCapacity(data.count + 16 * replacements.count)
        var position = data.lowerBound
        for replacement in replacements {
            row.append(contentsOf: bytes[position..<replacement.range.lowerBound])
            row.append(contentsOf: replacement.text)
            position = replacement.range.upperBound
        }
        row.append(contentsOf: bytes[position..<data.upperBound])
        return row
    }

    @inline(__always) private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
    @inline(__always) private static func isSign(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") }

    /// `YYYY-MM-DD` at the start (shape only; the host checks the calendar).
    private static func isDate(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        text.count >= 10 && text[4] == UInt8(ascii: "-") && text[7] == UInt8(ascii: "-")
            && [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { isDigit(text[$0]) }
    }

    /// `HH:MM:SS` at `start` (shape only).
    private static func isTime(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        text.count >= start + 8 && text[start + 2] == UInt8(ascii: ":") && text[start + 5] == UInt8(ascii: ":")
            && [0, 1, 3, 4, 6, 7].allSatisfy { isDigit(text[start + $0]) }
    }
}
