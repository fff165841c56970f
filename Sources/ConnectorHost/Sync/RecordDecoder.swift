import ConnectorProtocol

/// The kinds of record operation.
enum OperationKind: String {
    case upsert, update, delete, truncate
}

/// An invalid operation: where it is and what is wrong with it.
public struct InvalidOperation: Error, Sendable {
    /// The 1-based index of the operation within the sync.
    public let operationIndex: Int
    /// The 1-based line number on the connector's stdout.
    public let line: Int
    public let table: String?
    public let column: String?
    public let reason: String
    /// The operation's JSON, cut and with secret-looking values masked.
    public let excerpt: String
}

/// Decodes `records` lines straight from the read buffer and applies each operation as soon as it is
/// read: no intermediate objects, no `JSONDecoder`. The hot path of the host.
///
/// Confined to the sync thread. Its mutable properties are touched once or more per operation and
/// never under overlapping accesses (no inout borrow of one is held across a call that reaches it
/// again), so they opt out of the runtime's exclusivity checks, which cost ~10% of the host's
/// instructions per row (callgrind; see bench/RESULTS.md).
final class RecordDecoder {
    private let warehouse: Warehouse
    @exclusivity(unchecked) private var fields: [Field] = []
    /// Operations applied so far in this sync.
    @exclusivity(unchecked) private(set) var operationCount = 0
    @exclusivity(unchecked) private var lastTableName: [UInt8] = []
    @exclusivity(unchecked) private var lastTable: WarehouseTable?

    init(warehouse: Warehouse) {
        self.warehouse = warehouse
        fields.reserveCapacity(64)
    }

    /// The result of looking at a line's envelope.
    enum LineKind {
        /// A `records` notification, already applied.
        case records
        /// Any other message, for the control path.
        case other
    }

    /// Applies the line if it is a `records` notification; tells the caller otherwise.
    /// - Throws: ``JSONSyntaxError`` for malformed JSON, ``InvalidOperation`` for a bad operation,
    ///   ``SQLiteError`` when the warehouse fails.
    func applyIfRecords(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws -> LineKind {
        var scanner = JSONScanner(line, maximumDepth: 64)
        try scanner.expect(UInt8(ascii: "{"), "a JSON-RPC object")
        if scanner.consume(UInt8(ascii: "}")) { return .other }
        var isRecords = false
        var sawOtherMethod = false
        var deferredParams: Range<Int>?
        var applied = false
        repeat {
            let key = try scanner.scanString()
            try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
            if scanner.tokenEquals(key, "method") {
                scanner.skipWhitespace()
                guard scanner.peek == UInt8(ascii: "\"") else { return .other }
                let method = try scanner.scanString()
                if scanner.tokenEquals(method, "records") { isRecords = true } else { sawOtherMethod = true }
            } else if scanner.tokenEquals(key, "params"), isRecords {
                try applyParams(&scanner, lineNumber: lineNumber)
                applied = true
            } else if scanner.tokenEquals(key, "params") {
                deferredParams = try scanner.skipValue()
            } else {
                _ = try scanner.skipValue()
            }
            if sawOtherMethod { return .other }
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an object")
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw scanner.error("expected the end of the line after the message") }
        guard isRecords else { return .other }
        if !applied, let deferredParams {
            // "params" came before "method": decode it now from its recorded position.
            var rescanner = JSONScanner(line, maximumDepth: 64)
            rescanner.position = deferredParams.lowerBound
            try applyParams(&rescanner, lineNumber: lineNumber)
        }
        return .records
    }

    private func applyParams(_ scanner: inout JSONScanner, lineNumber: Int) throws {
        try scanner.expect(UInt8(ascii: "{"), "an object as the params of records")
        if scanner.consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = try scanner.scanString()
            try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
            guard scanner.tokenEquals(key, "ops") else {
                _ = try scanner.skipValue(depth: 2)
                continue
            }
            try scanner.expect(UInt8(ascii: "["), "an array of operations in \"ops\"")
            if scanner.consume(UInt8(ascii: "]")) { continue }
            repeat { try applyOperation(&scanner, lineNumber: lineNumber) } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"), "',' or ']' in \"ops\"")
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"), "',' or '}' in the params of records")
    }

    private func applyOperation(_ scanner: inout JSONScanner, lineNumber: Int) throws {
        operationCount += 1
        scanner.skipWhitespace()
        let start = scanner.position
        let source = RecordSource(bytes: scanner.bytes)
        guard scanner.peek == UInt8(ascii: "{") else {
            let range = try scanner.skipValue(depth: 3)
            throw invalid(source, range, lineNumber, table: nil, column: nil, "an operation must be a JSON object")
        }
        scanner.position += 1
        var kind: OperationKind?
        var kindToken: JSONStringToken?
        var tableToken: JSONStringToken?
        var payloadRange: Range<Int>?
        var payloadParsed = false
        var payloadKeyName = ""
        if !scanner.consume(UInt8(ascii: "}")) {
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':' after an object key")
                if scanner.tokenEquals(key, "op") {
                    scanner.skipWhitespace()
                    guard scanner.peek == UInt8(ascii: "\"") else {
                        _ = try scanner.skipValue(depth: 4)
                        kindToken = nil
                        kind = nil
                        continue
                    }
                    let token = try scanner.scanString()
                    kindToken = token
                    kind = Self.kind(token, scanner)
                } else if scanner.tokenEquals(key, "table") {
                    scanner.skipWhitespace()
                    if scanner.peek == UInt8(ascii: "\"") {
                        tableToken = try scanner.scanString()
                    } else {
                        _ = try scanner.skipValue(depth: 4)
                    }
                } else if scanner.tokenEquals(key, "data") || scanner.tokenEquals(key, "keys") {
                    payloadKeyName = scanner.tokenEquals(key, "data") ? "data" : "keys"
                    scanner.skipWhitespace()
                    if kind != nil, tableToken != nil, scanner.peek == UInt8(ascii: "{") {
                        try parseFields(&scanner)
                        payloadParsed = true
                        payloadRange = 0..<0
                    } else {
                        payloadRange = try scanner.skipValue(depth: 4)
                        payloadParsed = false
                    }
                } else {
                    _ = try scanner.skipValue(depth: 4)
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}' in an operation")
        }
        let opRange = start..<scanner.position
        guard let kind else {
            let reason =
                kindToken.map { "unknown op \(source.rawJSON(.string($0))); use upsert, update, delete or truncate" }
                ?? "the operation has no \"op\" string; use upsert, update, delete or truncate"
            throw invalid(source, opRange, lineNumber, table: nil, column: nil, reason)
        }
        guard let tableToken else {
            throw invalid(source, opRange, lineNumber, table: nil, column: nil, "the \(kind.rawValue) has no \"table\" string")
        }
        let table: WarehouseTable
        do {
            table = try resolveTable(tableToken, source)
        } catch let problem as OperationProblem {
            throw invalid(source, opRange, lineNumber, table: try? source.string(tableToken), column: nil, problem.reason)
        }
        if kind == .truncate {
            try warehouse.truncate(table)
            return
        }
        let expectedKey = kind == .delete ? "keys" : "data"
        if payloadRange != nil, payloadKeyName != expectedKey {
            throw invalid(
                source, opRange, lineNumber, table: table.name, column: nil,
                "a \(kind.rawValue) carries \"\(expectedKey)\", not \"\(payloadKeyName)\"")
        }
        if !payloadParsed {
            guard let payloadRange else {
                throw invalid(
                    source, opRange, lineNumber, table: table.name, column: nil, "the \(kind.rawValue) has no \"\(expectedKey)\" object")
            }
            var rescanner = scanner
            rescanner.position = payloadRange.lowerBound
            guard rescanner.peek == UInt8(ascii: "{") else {
                throw invalid(
                    source, opRange, lineNumber, table: table.name, column: nil,
                    "\"\(expectedKey)\" must be a JSON object, not \(ValueBinder.preview(source.slice(payloadRange)))")
            }
            try parseFields(&rescanner)
        }
        if fields.isEmpty {
            throw invalid(
                source, opRange, lineNumber, table: table.name, column: nil,
                "\"\(expectedKey)\" is empty; \(table.hasPrimaryKey ? "it must carry the primary key \(table.primaryKey.map(NameRules.quoted).joined(separator: ", "))" : "it must carry the row's values")"
            )
        }
        do {
            switch kind {
            case .upsert: try warehouse.upsert(table, fields, source)
            case .update: try warehouse.update(table, fields, source)
            case .delete: try warehouse.delete(table, fields, source)
            case .truncate: break
            }
        } catch let problem as OperationProblem {
            throw invalid(source, opRange, lineNumber, table: table.name, column: problem.column, problem.reason)
        } catch let problem as SchemaConflict {
            throw invalid(source, opRange, lineNumber, table: table.name, column: nil, problem.reason)
        }
    }

    /// Reads an object's members into `fields` (views into the line).
    @inline(__always)
    private func parseFields(_ scanner: inout JSONScanner) throws {
        fields.removeAll(keepingCapacity: true)
        try scanner.expect(UInt8(ascii: "{"), "an object")
        if scanner.consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = try scanner.scanString()
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
    }

    @inline(__always)
    private func resolveTable(_ token: JSONStringToken, _ source: RecordSource) throws -> WarehouseTable {
        let length = token.end - token.start
        if let lastTable, !token.hasEscapes, lastTableName.count == length,
            lastTableName.withUnsafeBufferPointer({ memcmp($0.baseAddress!, source.bytes.baseAddress! + token.start, length) == 0 })
        {
            return lastTable
        }
        let name = try source.string(token)
        let table = try warehouse.table(named: name)
        lastTable = table
        lastTableName = token.hasEscapes ? [] : Array(name.utf8)
        return table
    }

    /// Forgets cached tables (after a rollback reloaded the warehouse's metadata).
    func resetCaches() {
        lastTable = nil
        lastTableName = []
    }

    private static func kind(_ token: JSONStringToken, _ scanner: JSONScanner) -> OperationKind? {
        if scanner.tokenEquals(token, "upsert") { return .upsert }
        if scanner.tokenEquals(token, "update") { return .update }
        if scanner.tokenEquals(token, "delete") { return .delete }
        if scanner.tokenEquals(token, "truncate") { return .truncate }
        return nil
    }

    private func invalid(
        _ source: RecordSource, _ range: Range<Int>, _ lineNumber: Int, table: String?, column: String?, _ reason: String
    ) -> InvalidOperation {
        InvalidOperation(
            operationIndex: operationCount, line: lineNumber, table: table, column: column, reason: reason,
            excerpt: Redaction.excerpt(of: String(decoding: source.slice(range), as: UTF8.self)))
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
