import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Applies scanned `records` lines to the warehouse, validating every operation: the hot path of the
/// host, with no intermediate objects and no `JSONDecoder` (values are bound straight from the line).
///
/// Confined to the sync thread. Its mutable properties are touched once or more per operation and
/// never under overlapping accesses (no inout borrow of one is held across a call that reaches it
/// again), so they opt out of the runtime's exclusivity checks, which cost ~10% of the host's
/// instructions per row (callgrind; see bench/RESULTS.md).
final class RecordApplier<Store: Destination> {
    private let warehouse: Store
    @exclusivity(unchecked) private var fields: [Field] = []
    @exclusivity(unchecked) private var scanned = ScannedRecords()
    /// Operations applied so far in this sync.
    @exclusivity(unchecked) private(set) var operationCount = 0
    @exclusivity(unchecked) private var lastTableName: [UInt8] = []
    /// The schema of the last table resolved (`nil` for the default schema); compared like the name.
    @exclusivity(unchecked) private var lastSchemaName: [UInt8]?
    @exclusivity(unchecked) private var lastTable: WarehouseTable?
    /// The tables whose operations are applied (`run --tables`), `nil` for every table. An operation
    /// on another table is counted in ``skipped`` and goes no further: not validated beyond its
    /// `table`, never applied, never creating a table.
    var selection: Set<SourceTableName>?
    /// The number of operations to apply (`run --limit`), `nil` for all. An operation past it is
    /// not applied (nor are the ones after it) and ``limitReached`` turns true.
    var operationLimit: Int?
    /// Whether an operation past ``operationLimit`` arrived.
    private(set) var limitReached = false
    /// Operations skipped because their table is not selected, by table (`schema.table` or `table`).
    private(set) var skipped: [String: Int] = [:]
    /// The upserts of the current line by table, built when a new table first needs them.
    private var upsertsByTable: [SourceTableName: [Int]]?
    /// The end of the operations of the line a new table's first columns may come from (`run --limit`).
    private var lookaheadEnd = Int.max

    init(warehouse: Store) {
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

    /// Scans the line and applies it if it is a `records` notification; tells the caller otherwise.
    /// - Throws: ``JSONSyntaxError`` for malformed JSON, ``InvalidOperation`` for a bad operation,
    ///   the destination's failure when it fails.
    func applyIfRecords(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws -> LineKind {
        guard try RecordScanner.scan(line, into: &scanned) else { return .other }
        try apply(scanned, line: line, lineNumber: lineNumber)
        return .records
    }

    /// Applies the operations scanned from `line`, in order, then throws the line's syntax error if any.
    /// - Throws: ``InvalidOperation``, the destination's failure, ``JSONSyntaxError``.
    func apply(_ records: ScannedRecords, line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws {
        var source = RecordSource(bytes: line)
        upsertsByTable = nil
        for (index, operation) in records.operations.enumerated() {
            if let operationLimit {
                if operationCount >= operationLimit {
                    limitReached = true
                    return
                }
                // A new table's first columns come only from the operations the limit lets through.
                lookaheadEnd = index + (operationLimit - operationCount)
            }
            source.keyShape = operation.keyShape
            try apply(operation, at: index, of: records, source, lineNumber)
        }
        if let syntaxError = records.syntaxError { throw syntaxError }
    }

    private func apply(_ operation: ScannedOperation, at index: Int, of records: ScannedRecords, _ source: RecordSource, _ lineNumber: Int)
        throws
    {
        let allFields = records.fields
        operationCount += 1
        let opRange = operation.range
        guard operation.isObject else {
            throw invalid(source, opRange, lineNumber, table: nil, column: nil, "an operation must be a JSON object")
        }
        if let repeated = operation.repeatedMember {
            throw invalid(
                source, opRange, lineNumber, table: operation.tableToken.flatMap { try? source.string($0) }, column: nil,
                "the operation has \"\(repeated)\" twice; send each member once")
        }
        if operation.members & 12 == 12 {
            throw invalid(
                source, opRange, lineNumber, table: operation.tableToken.flatMap { try? source.string($0) }, column: nil,
                "the operation has both \"data\" and \"keys\"; upsert and update carry \"data\", delete carries \"keys\"")
        }
        guard let kind = operation.kind else {
            let reason =
                operation.kindToken.map {
                    "unknown op \(ValueBinder.preview(warehouse.redactor.mask(Array(source.rawJSON(.string($0)).utf8)))); use upsert, update, delete or truncate"
                }
                ?? "the operation has no \"op\" string; use upsert, update, delete or truncate"
            throw invalid(source, opRange, lineNumber, table: nil, column: nil, reason)
        }
        guard let tableToken = operation.tableToken else {
            throw invalid(source, opRange, lineNumber, table: nil, column: nil, "the \(kind.rawValue) has no \"table\" string")
        }
        if operation.schemaToken == nil, let schemaRange = operation.schemaRange {
            throw invalid(
                source, opRange, lineNumber, table: try? source.string(tableToken), column: nil,
                "\"schema\" must be a string naming the destination schema, not \(ValueBinder.preview(warehouse.redactor.mask(Array(source.slice(schemaRange)))))"
            )
        }
        if selection != nil, try skips(tableToken, schema: operation.schemaToken, source) { return }
        let table: WarehouseTable
        do {
            table = try resolveTable(tableToken, schema: operation.schemaToken, source, firstSeenAt: index, in: records)
        } catch let problem as OperationProblem {
            throw invalid(source, opRange, lineNumber, table: try? source.string(tableToken), column: nil, problem.reason)
        }
        if kind == .truncate {
            try warehouse.truncate(table)
            return
        }
        let expectedKey = kind == .delete ? "keys" : "data"
        if let payloadKey = operation.payloadKey.map({ "\($0)" }), payloadKey != expectedKey {
            throw invalid(
                source, opRange, lineNumber, table: table.name, column: nil,
                "a \(kind.rawValue) carries \"\(expectedKey)\", not \"\(payloadKey)\"")
        }
        switch operation.payload {
        case .none:
            throw invalid(
                source, opRange, lineNumber, table: table.name, column: nil, "the \(kind.rawValue) has no \"\(expectedKey)\" object")
        case .notAnObject(let payloadRange):
            throw invalid(
                source, opRange, lineNumber, table: table.name, column: nil,
                "\"\(expectedKey)\" must be a JSON object, not \(ValueBinder.preview(warehouse.redactor.mask(Array(source.slice(payloadRange)))))"
            )
        case .fields(let range):
            fields.removeAll(keepingCapacity: true)
            fields.append(contentsOf: allFields[range])
        }
        if fields.isEmpty {
            throw invalid(
                source, opRange, lineNumber, table: table.name, column: nil,
                "\"\(expectedKey)\" is empty; \(table.hasPrimaryKey ? "it must carry the primary key \(table.primaryKey.map(NameRules.quoted).joined(separator: ", "))" : "it must carry the row's values")"
            )
        }
        var hints: [String: ColumnType]?
        if let typesRange = operation.typesRange, kind != .delete {
            do { hints = try typeHints(source.slice(typesRange), fields, source) } catch let problem as OperationProblem {
                throw invalid(source, opRange, lineNumber, table: table.name, column: problem.column, problem.reason)
            }
        }
        if let fileRange = operation.fileRange {
            guard kind == .upsert || kind == .update else {
                throw invalid(
                    source, opRange, lineNumber, table: table.name, column: nil,
                    "a \(kind.rawValue) cannot carry a \"file\"; files come with upsert and update")
            }
            let attachment: FileAttachment
            do { attachment = try fileAttachment(source.slice(fileRange)) } catch let problem as OperationProblem {
                throw invalid(source, opRange, lineNumber, table: table.name, column: nil, problem.reason)
            }
            do {
                try warehouse.apply(
                    kind, table, fields, source, hints: hints, file: attachment, sourceTable: try source.string(tableToken),
                    sourceSchema: try operation.schemaToken.map { try source.string($0) })
            } catch let problem as OperationProblem {
                throw invalid(source, opRange, lineNumber, table: table.name, column: problem.column, problem.reason)
            }
            return
        }
        do {
            switch kind {
            case .upsert: try warehouse.upsert(table, fields, source, hints: hints)
            case .update: try warehouse.update(table, fields, source, hints: hints)
            case .delete: try warehouse.delete(table, fields, source)
            case .truncate: break
            }
        } catch let problem as OperationProblem {
            throw invalid(source, opRange, lineNumber, table: table.name, column: problem.column, problem.reason)
        } catch let problem as SchemaConflict {
            throw invalid(source, opRange, lineNumber, table: table.name, column: nil, problem.reason)
        }
    }

    /// Reads and checks an op's `file`: `{"path", "source", "size"}` (PROTOCOL.md 6.11).
    private func fileAttachment(_ json: UnsafeBufferPointer<UInt8>) throws -> FileAttachment {
        let shown = ValueBinder.preview(warehouse.redactor.mask(Array(json)))
        guard let object = (try? JSONParser.parse(json))?.objectValue, let path = object["path"]?.stringValue,
            let staged = object["source"]?.stringValue
        else {
            throw OperationProblem(
                column: nil, reason: "\"file\" must be {\"path\": \"...\", \"source\": \"...\", \"size\": N}, not \(shown)")
        }
        var size: Int64?
        switch object["size"] {
        case nil, .null?: size = nil
        case .number(let number)?:
            guard let value = number.int64Value, value >= 0 else {
                throw OperationProblem(column: nil, reason: "\"file\".size must be a whole number of bytes, not \(shown)")
            }
            size = value
        default: throw OperationProblem(column: nil, reason: "\"file\".size must be a whole number of bytes, not \(shown)")
        }
        if let problem = warehouse.fileProblem(path: path, source: staged, size: size) {
            throw OperationProblem(column: nil, reason: problem)
        }
        return FileAttachment(path: path, source: staged)
    }

    /// Reads an op's `types`: column name -> type, each column present in `data` (PROTOCOL.md 6.6).
    private func typeHints(_ json: UnsafeBufferPointer<UInt8>, _ fields: [Field], _ source: RecordSource) throws -> [String: ColumnType] {
        let shown = ValueBinder.preview(warehouse.redactor.mask(Array(json)))
        guard let object = (try? JSONParser.parse(json))?.objectValue else {
            throw OperationProblem(column: nil, reason: "\"types\" must be an object mapping columns of \"data\" to types, not \(shown)")
        }
        var hints: [String: ColumnType] = [:]
        for (name, value) in object {
            guard fields.contains(where: { (try? source.string($0.key)) == name }) else {
                throw OperationProblem(
                    column: name,
                    reason: "\"types\" names the column \(NameRules.quoted(name)), which is not in \"data\"; hint only columns the op sends"
                )
            }
            switch SchemaValidator.columnType(value) {
            case .success(let type): hints[name] = type
            case .failure(let problem): throw OperationProblem(column: name, reason: "\"types\": \(problem.text)")
            }
        }
        return hints
    }

    @inline(__always)
    private func resolveTable(
        _ token: JSONStringToken, schema schemaToken: JSONStringToken?, _ source: RecordSource, firstSeenAt index: Int,
        in records: ScannedRecords
    ) throws
        -> WarehouseTable
    {
        let length = token.end - token.start
        if let lastTable, !token.hasEscapes, lastTableName.count == length,
            lastTableName.withUnsafeBufferPointer({ memcmp($0.baseAddress!, source.bytes.baseAddress! + token.start, length) == 0 }),
            sameSchema(schemaToken, source)
        {
            return lastTable
        }
        let name = try source.string(token)
        let schema = try schemaToken.map { try source.string($0) }
        let table = try warehouse.table(schema: schema, named: name) {
            firstColumns(of: SourceTableName(schema: schema, name: name), from: index, in: records, source)
        }
        lastTable = table
        let cacheable = !token.hasEscapes && !(schemaToken?.hasEscapes ?? false)
        lastTableName = cacheable ? Array(name.utf8) : []
        lastSchemaName = schema.map { Array($0.utf8) }
        if !cacheable { lastTable = nil }
        return table
    }

    /// Whether the operation's table is not selected; counts it in ``skipped`` when so. The last table
    /// applied is selected, so a run of operations on one table costs a byte comparison each.
    private func skips(_ token: JSONStringToken, schema schemaToken: JSONStringToken?, _ source: RecordSource) throws -> Bool {
        let length = token.end - token.start
        if lastTable != nil, !token.hasEscapes, lastTableName.count == length,
            lastTableName.withUnsafeBufferPointer({ memcmp($0.baseAddress!, source.bytes.baseAddress! + token.start, length) == 0 }),
            sameSchema(schemaToken, source)
        {
            return false
        }
        let name = try source.string(token)
        let schema = try schemaToken.map { try source.string($0) }
        guard let selection, !selection.contains(SourceTableName(schema: schema, name: name)) else { return false }
        skipped[TableIdentity(table: name, schema: schema).shown, default: 0] += 1
        return true
    }

    /// Whether the op's schema is the last resolved table's (both the default one, or the same name).
    @inline(__always)
    private func sameSchema(_ token: JSONStringToken?, _ source: RecordSource) -> Bool {
        guard let token else { return lastSchemaName == nil }
        guard let last = lastSchemaName, !token.hasEscapes, last.count == token.end - token.start else { return false }
        return last.withUnsafeBufferPointer { memcmp($0.baseAddress!, source.bytes.baseAddress! + token.start, last.count) == 0 }
    }

    /// The columns a table seen for the first time gets at once: every column its upserts in this
    /// line name with a non-null value, in order of first appearance, typed by that first value.
    /// Created with the table in one `CREATE TABLE`, they spare one `ALTER TABLE ... ADD COLUMN`
    /// each, which costs SQLite a parse of the whole schema (quadratic over many new tables). The
    /// types and widenings that follow are the same as column by column.
    private func firstColumns(of table: SourceTableName, from start: Int, in records: ScannedRecords, _ source: RecordSource)
        -> [(name: String, type: ColumnType)]
    {
        if upsertsByTable == nil {
            // Built once per line, on its first new table: a line of 5,000 new tables scans its ops once.
            var index: [SourceTableName: [Int]] = [:]
            for (position, operation) in records.operations.enumerated() where operation.kind == .upsert {
                guard let token = operation.tableToken, let name = try? source.string(token) else { continue }
                let schema = operation.schemaToken.flatMap { try? source.string($0) }
                if operation.schemaToken != nil, schema == nil { continue }
                index[SourceTableName(schema: schema, name: name), default: []].append(position)
            }
            upsertsByTable = index
        }
        var columns: [(name: String, type: ColumnType)] = []
        var seen: Set<String> = []
        for position in upsertsByTable?[table] ?? [] where position >= start && position < lookaheadEnd {
            guard case .fields(let range) = records.operations[position].payload else { continue }
            // The op's `types` hints type a string as they would when the op adds the column itself
            // (a hint that is not valid is left for the op to report).
            let hints = records.operations[position].typesRange.map { lookaheadHints(source.slice($0)) }
            for field in records.fields[range] {
                // Source names: the warehouse maps them (and skips what it would not store) as it creates the table.
                guard let column = try? source.string(field.key) else { continue }
                var hinted: ColumnType?
                if let hints, case .string = field.value { hinted = hints[column] }
                guard let type = hinted ?? TypeRules.inferredType(field.value, source, strings: warehouse.settings.stringTyping),
                    seen.insert(column).inserted
                else { continue }
                columns.append((column, type))
            }
        }
        return columns
    }

    /// The valid entries of an op's `types`, for ``firstColumns(of:from:in:_:)``.
    private func lookaheadHints(_ json: UnsafeBufferPointer<UInt8>) -> [String: ColumnType] {
        var hints: [String: ColumnType] = [:]
        for (name, value) in (try? JSONParser.parse(json))?.objectValue ?? [:] {
            if case .success(let type) = SchemaValidator.columnType(value) { hints[name] = type }
        }
        return hints
    }

    /// Forgets the cached last table. Required after ``Warehouse/rollback()``, which reloads the
    /// metadata into new table objects (a cached one would be stale); the sync also calls it after
    /// each checkpoint, where it costs one dictionary lookup on the next line.
    func resetCaches() {
        lastTable = nil
        lastTableName = []
        lastSchemaName = nil
    }

    private func invalid(
        _ source: RecordSource, _ range: Range<Int>, _ lineNumber: Int, table: String?, column: String?, _ reason: String
    ) -> InvalidOperation {
        InvalidOperation(
            operationIndex: operationCount, line: lineNumber, table: table, column: column, reason: reason,
            excerpt: warehouse.redactor.excerpt(ofJSON: String(decoding: source.slice(range), as: UTF8.self)))
    }
}
