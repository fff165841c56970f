import ConnectorProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The kinds of record operation.
enum OperationKind: String {
    case upsert, update, delete, truncate
}

/// One operation of a `records` line as scanned: where its parts lie in the line, nothing applied.
struct ScannedOperation {
    /// What `data`/`keys` held.
    enum Payload {
        case none
        /// The object's members: a range of ``ScannedRecords/fields``.
        case fields(Range<Int>)
        /// Not an object: its raw JSON.
        case notAnObject(Range<Int>)
    }

    /// The operation's raw JSON.
    var range: Range<Int>
    /// Whether the operation is a JSON object at all.
    var isObject: Bool
    var kind: OperationKind?
    var kindToken: JSONStringToken?
    var tableToken: JSONStringToken?
    /// The destination schema (`"schema"`), when the op names one; `schemaRange` is its raw JSON
    /// whatever it is, to refuse a schema that is not a string.
    var schemaToken: JSONStringToken?
    var schemaRange: Range<Int>?
    /// The raw JSON of `"file"` (a file upload) and `"types"` (type hints), rare members parsed by
    /// the applier when present.
    var fileRange: Range<Int>?
    var typesRange: Range<Int>?
    /// The member the payload came in, `data` or `keys` (the last one when both appear).
    /// (StaticStrings, like ``repeatedMember``: the operation stays a trivial value, copied without
    /// reference counting.)
    var payloadKey: StaticString?
    var payload: Payload
    /// The identity of the payload's key sequence (``RecentKeys/shape``): two payloads of one shape
    /// name the same keys, byte for byte, in the same order; 0 when the payload has none.
    var keyShape: UInt64 = 0
    /// Which of `op`, `table`, `data`, `keys`, `schema`, `file`, `types` appeared (bits 1 to 64), and the first one that
    /// appeared twice: a member twice has no defined meaning, so the operation is refused.
    var members: UInt8 = 0
    var repeatedMember: StaticString?
}

/// The operations of one `records` line, scanned (checked as JSON, located) but not applied.
///
/// A value type with no references into the warehouse (a scan could run on another thread than the
/// sync; bench/RESULTS.md has why it does not). Reused from line to line, keeping its arrays' capacity.
struct ScannedRecords {
    var operations: [ScannedOperation] = []
    /// The members of every operation's payload, as views into the line.
    var fields: [Field] = []
    /// A syntax error after ``operations``: they are applied first (as a one-pass reader would), then
    /// this is thrown.
    var syntaxError: JSONSyntaxError?
    /// The keys of the last payload, kept across lines: consecutive records nearly always name the
    /// same columns in the same order, so a key is first compared byte for byte with the key at its
    /// position in the last payload (`"name"`, quotes included) and scanned only when it differs.
    var recentKeys = RecentKeys()

    mutating func removeAll() {
        operations.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        syntaxError = nil
    }
}

/// The keys of the last payload scanned, as their raw JSON (`"name"`), for ``RecordScanner``.
///
/// Only plain keys are kept (ASCII, no escapes), and only up to the first key that is not: such a
/// key's raw bytes equal anywhere else form the same complete string token, so a byte comparison
/// stands in for scanning it.
struct RecentKeys {
    private var bytes: [UInt8] = []
    /// End offset in `bytes` of each key (a key starts where the previous one ends).
    private var ends: [Int] = []
    /// The identity of the key sequence kept, new (process-wide) at each ``replace(with:in:)``: a
    /// table keeps the columns it resolved for a shape, and a payload of that shape names exactly
    /// those keys, so column resolution is done once per shape and table, not once per record.
    private(set) var shape: UInt64 = 0

    /// Hands out shapes: unique in the process, so that no table's plan made under one sync's scanner
    /// is taken for another key sequence by the next.
    private static let shapes = Atomic<UInt64>(0)

    var count: Int { ends.count }

    /// The token of the key at `position` of a payload if `line` holds exactly that key at `offset`.
    @inline(__always)
    func match(_ position: Int, _ line: UnsafeBufferPointer<UInt8>, at offset: Int) -> JSONStringToken? {
        guard position < ends.count else { return nil }
        let start = position == 0 ? 0 : ends[position - 1]
        let length = ends[position] - start
        guard offset + length <= line.count else { return nil }
        let same = bytes.withUnsafeBufferPointer { Self.equal($0.baseAddress! + start, line.baseAddress! + offset, length) }
        guard same else { return nil }
        return JSONStringToken(start: offset + 1, end: offset + length - 1, hasEscapes: false, hasNonASCII: false)
    }

    /// Whether `count` bytes at `a` and `b` are equal. Keys (quotes included) are short: up to 16
    /// bytes are compared as two overlapping words (or half-words) loaded unaligned, without
    /// calling memcmp; both ranges lie inside their buffers, so no load reads past them.
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let x = UnsafeRawPointer(a)
        let y = UnsafeRawPointer(b)
        if count >= 8 {
            guard count <= 16 else { return memcmp(a, b, count) == 0 }
            return x.loadUnaligned(as: UInt64.self) == y.loadUnaligned(as: UInt64.self)
                && x.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                    == y.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        if count >= 4 {
            return x.loadUnaligned(as: UInt32.self) == y.loadUnaligned(as: UInt32.self)
                && x.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
                    == y.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        }
        for index in 0..<count where a[index] != b[index] { return false }
        return true
    }

    /// Keeps the keys of `fields` (views into `line`), up to the first that is not plain.
    mutating func replace(with fields: ArraySlice<Field>, in line: UnsafeBufferPointer<UInt8>) {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        shape = Self.shapes.wrappingAdd(1, ordering: .relaxed).newValue
        for field in fields {
            guard !field.key.hasEscapes, !field.key.hasNonASCII else { return }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line[field.key.start - 1..<field.key.end + 1]))
            ends.append(bytes.count)
        }
    }
}

/// Scans `records` lines: the JSON half of the hot path, with no warehouse and no shared state.
enum RecordScanner {
    /// Scans `line` into `records` when it is a `records` notification.
    /// - Returns: whether it is one; `false` for any other message (the control path parses it).
    /// - Throws: ``JSONSyntaxError`` when the line is malformed before it shows it is a `records`
    ///   notification; later syntax errors go into `records.syntaxError` after the operations before them.
    static func scan(_ line: UnsafeBufferPointer<UInt8>, into records: inout ScannedRecords) throws(JSONSyntaxError) -> Bool {
        records.removeAll()
        var scanner = JSONScanner(line, maximumDepth: 64)
        var isRecords = false
        do throws(JSONSyntaxError) {
            try scanner.expect(UInt8(ascii: "{"), "a JSON-RPC object")
            if scanner.consume(UInt8(ascii: "}")) { return false }
            var deferredParams: Range<Int>?
            var scannedParams = false
            var sawMethod = false
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                // A member twice has no defined meaning: the control path refuses the line (Message.init).
                if scanner.tokenEquals(key, "method") {
                    if sawMethod { return false }
                    sawMethod = true
                    scanner.skipWhitespace()
                    guard scanner.peek == UInt8(ascii: "\"") else { return false }
                    let method = try scanner.scanString()
                    guard scanner.tokenEquals(method, "records") else { return false }
                    isRecords = true
                } else if scanner.tokenEquals(key, "params"), scannedParams || deferredParams != nil {
                    records.removeAll()
                    return false
                } else if scanner.tokenEquals(key, "params"), isRecords {
                    try scanParams(&scanner, into: &records)
                    scannedParams = true
                } else if scanner.tokenEquals(key, "params") {
                    deferredParams = try scanner.skipValue()
                } else {
                    _ = try scanner.skipValue()
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an object")
            scanner.skipWhitespace()
            guard scanner.isAtEnd else { throw scanner.error("expected the end of the line after the message") }
            guard isRecords else { return false }
            if !scannedParams, let deferredParams {
                // "params" came before "method": scan it now from its recorded position.
                var rescanner = JSONScanner(line, maximumDepth: 64)
                rescanner.position = deferredParams.lowerBound
                try scanParams(&rescanner, into: &records)
            }
            return true
        } catch {
            guard isRecords else { throw error }
            records.syntaxError = error
            return true
        }
    }

    private static func scanParams(_ scanner: inout JSONScanner, into records: inout ScannedRecords) throws(JSONSyntaxError) {
        try scanner.expect(UInt8(ascii: "{"), "an object as the params of records")
        if scanner.consume(UInt8(ascii: "}")) { return }
        var sawOps = false
        repeat {
            let key = try scanner.scanString()
            try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
            guard scanner.tokenEquals(key, "ops") else {
                _ = try scanner.skipValue(depth: 2)
                continue
            }
            if sawOps { throw JSONSyntaxError("the member \"ops\" appears twice in the params of records", at: key.start - 1) }
            sawOps = true
            try scanner.expect(UInt8(ascii: "["), "an array of operations in \"ops\"")
            if scanner.consume(UInt8(ascii: "]")) { continue }
            repeat { try scanOperation(&scanner, into: &records) } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"), "',' or ']' in \"ops\"")
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"), "',' or '}' in the params of records")
    }

    private static func scanOperation(_ scanner: inout JSONScanner, into records: inout ScannedRecords) throws(JSONSyntaxError) {
        scanner.skipWhitespace()
        let start = scanner.position
        guard scanner.peek == UInt8(ascii: "{") else {
            let range = try scanner.skipValue(depth: 3)
            records.operations.append(
                ScannedOperation(range: range, isObject: false, kind: nil, kindToken: nil, tableToken: nil, payloadKey: nil, payload: .none)
            )
            return
        }
        scanner.position += 1
        var operation = ScannedOperation(
            range: start..<start, isObject: true, kind: nil, kindToken: nil, tableToken: nil, payloadKey: nil, payload: .none)
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                guard let member = member(key, scanner) else {
                    _ = try scanner.skipValue(depth: 4)
                    continue
                }
                if operation.members & member.rawValue != 0 { operation.repeatedMember = operation.repeatedMember ?? member.name }
                operation.members |= member.rawValue
                switch member {
                case .op:
                    scanner.skipWhitespace()
                    guard scanner.peek == UInt8(ascii: "\"") else {
                        _ = try scanner.skipValue(depth: 4)
                        operation.kindToken = nil
                        operation.kind = nil
                        continue
                    }
                    let token = try scanner.scanString()
                    operation.kindToken = token
                    operation.kind = kind(token, scanner)
                case .table:
                    scanner.skipWhitespace()
                    if scanner.peek == UInt8(ascii: "\"") {
                        operation.tableToken = try scanner.scanString()
                    } else {
                        _ = try scanner.skipValue(depth: 4)
                    }
                case .data, .keys:
                    operation.payloadKey = member.name
                    scanner.skipWhitespace()
                    if scanner.peek == UInt8(ascii: "{") {
                        let first = records.fields.count
                        operation.keyShape = try scanFields(&scanner, into: &records.fields, recentKeys: &records.recentKeys)
                        operation.payload = .fields(first..<records.fields.count)
                    } else {
                        operation.payload = .notAnObject(try scanner.skipValue(depth: 4))
                    }
                case .schema:
                    scanner.skipWhitespace()
                    if scanner.peek == UInt8(ascii: "\"") {
                        let start = scanner.position
                        operation.schemaToken = try scanner.scanString()
                        operation.schemaRange = start..<scanner.position
                    } else {
                        operation.schemaToken = nil
                        operation.schemaRange = try scanner.skipValue(depth: 4)
                    }
                case .file:
                    operation.fileRange = try scanner.skipValue(depth: 4)
                case .types:
                    operation.typesRange = try scanner.skipValue(depth: 4)
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an operation")
        }
        operation.range = start..<scanner.position
        records.operations.append(operation)
    }

    /// Appends an object's members to `fields` (views into the line).
    /// - Returns: the shape of its keys (``RecentKeys/shape``), 0 when not every key is plain.
    @inline(__always)
    private static func scanFields(_ scanner: inout JSONScanner, into fields: inout [Field], recentKeys: inout RecentKeys)
        throws(JSONSyntaxError) -> UInt64
    {
        try scanner.expect(UInt8(ascii: "{"), "an object")
        if scanner.consume(UInt8(ascii: "}")) { return 0 }
        let first = fields.count
        var allRecent = true
        repeat {
            scanner.skipWhitespace()
            let position = fields.count - first
            let key: JSONStringToken
            if let known = recentKeys.match(position, scanner.bytes, at: scanner.position) {
                key = known
                scanner.position = known.end + 1
            } else {
                key = try scanner.scanString()
                allRecent = false
            }
            try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
            scanner.skipWhitespace()
            let value: FieldValue
            switch scanner.peek {
            case UInt8(ascii: "\""): value = .string(try scanner.scanString())
            case UInt8(ascii: "t"):
                try scanner.scanLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try scanner.scanLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try scanner.scanLiteral("null")
                value = .null
            case UInt8(ascii: "{"), UInt8(ascii: "["): value = .composite(try scanner.skipValue(depth: 5))
            default: value = .number(try scanner.scanNumber())
            }
            fields.append(Field(key: key, value: value))
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an object")
        if !allRecent || recentKeys.count != fields.count - first {
            recentKeys.replace(with: fields[first...], in: scanner.bytes)
        }
        // The recent keys are now this payload's, unless one of its keys is not plain.
        return recentKeys.count == fields.count - first ? recentKeys.shape : 0
    }

    /// An operation's own members, each with its bit in ``ScannedOperation/members``.
    enum Member: UInt8 {
        case op = 1, table = 2, data = 4, keys = 8, schema = 16, file = 32, types = 64

        var name: StaticString {
            switch self {
            case .op: "op"
            case .table: "table"
            case .data: "data"
            case .keys: "keys"
            case .schema: "schema"
            case .file: "file"
            case .types: "types"
            }
        }
    }

    /// Which of the operation's own members a key names, if any (tried in the order senders write them).
    @inline(__always)
    private static func member(_ token: JSONStringToken, _ scanner: JSONScanner) -> Member? {
        if scanner.tokenEquals(token, "op") { return .op }
        if scanner.tokenEquals(token, "table") { return .table }
        if scanner.tokenEquals(token, "data") { return .data }
        if scanner.tokenEquals(token, "keys") { return .keys }
        if scanner.tokenEquals(token, "schema") { return .schema }
        if scanner.tokenEquals(token, "file") { return .file }
        if scanner.tokenEquals(token, "types") { return .types }
        return nil
    }

    private static func kind(_ token: JSONStringToken, _ scanner: JSONScanner) -> OperationKind? {
        if scanner.tokenEquals(token, "upsert") { return .upsert }
        if scanner.tokenEquals(token, "update") { return .update }
        if scanner.tokenEquals(token, "delete") { return .delete }
        if scanner.tokenEquals(token, "truncate") { return .truncate }
        return nil
    }
}
