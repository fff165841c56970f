import ConnectorProtocol

extension DestinationCatalog {
    /// The table of exactly this name (byte for byte), if it exists.
    func table(exactly name: String) -> WarehouseTable? {
        guard let table = tables[name], NameRules.same(table.name, name) else { return nil }
        return table
    }

    /// The table a connector names `name` (in destination schema `schema`, `nil` for the default
    /// one), creating it (without primary key) on first sight, with the inferred columns
    /// `firstColumns` gives as source names (one `CREATE TABLE` instead of one `ALTER` per column).
    /// Names are mapped once per distinct pair.
    /// - Throws: ``OperationProblem`` for a name the warehouse refuses, or one that differs from an
    ///   existing table's only in letter case; ``SQLiteError`` when creating it fails.
    func table(schema: String? = nil, named name: String, firstColumns: () -> [(name: String, type: ColumnType)] = { [] }) throws
        -> WarehouseTable
    {
        let source = SourceTableName(schema: schema, name: name)
        if let table = tablesBySource[source] { return table }
        let destination = try destinationName(of: source)
        let table: WarehouseTable
        if let existing = self.table(exactly: destination.table) {
            guard existing.schema == destination.schema else {
                throw OperationProblem(column: nil, reason: schemaClash(destination, existing))
            }
            table = existing
        } else {
            if let existingName = tableNamesByFoldedName[NameRules.folded(destination.table)] {
                throw OperationProblem(
                    column: nil, reason: NameRules.collision(destination.table, existing: existingName, what: "table"))
            }
            table = try createTable(
                name: destination.table, schema: destination.schema, primaryKey: [], declared: [], inferred: firstColumns(), inSchema: false
            )
            undeclaredTablesCreated.append(destination.table)
        }
        noteSource(source, of: table)
        tablesBySource[source] = table
        return table
    }

    /// The SQLite table name (and destination schema) of a table as the connector names it.
    func destinationName(of source: SourceTableName) throws(OperationProblem) -> (table: String, schema: String?) {
        let name = naming.table(source.name)
        if let message = NameRules.problem(name, what: "table") { throw OperationProblem(column: nil, reason: message) }
        if let message = destinationNameProblem(source.schema.map { naming.schema($0) + "." + name } ?? name, what: "table") {
            throw OperationProblem(column: nil, reason: message)
        }
        guard let declaredSchema = source.schema else { return (name, nil) }
        let schema = naming.schema(declaredSchema)
        if let message = NameRules.schemaProblem(schema) { throw OperationProblem(column: nil, reason: message) }
        return (schema + "." + name, schema)
    }

    func schemaClash(_ destination: (table: String, schema: String?), _ existing: WarehouseTable) -> String {
        "\(destination.schema.map { "table in schema \(NameRules.quoted($0))" } ?? "table") \(NameRules.quoted(destination.table)) would be the SQLite table of the existing \(existing.schema.map { "table of schema \(NameRules.quoted($0))" } ?? "table") \(NameRules.quoted(existing.name)); rename one of them"
    }

    /// Says once when a second source name maps to a table another name already maps to (Fivetran
    /// naming: `A` and `a` are both `a`).
    func noteSource(_ source: SourceTableName, of table: WarehouseTable) {
        guard let first = sourceNameOfTable[table.name] else {
            sourceNameOfTable[table.name] = source
            return
        }
        guard first != source else { return }
        warnOnce(
            "tables \(first.shown) and \(source.shown) both become \(NameRules.quoted(table.name)) under Fivetran naming: their rows are written to one table"
        )
    }

    func warnOnce(_ message: String) {
        guard warned.insert(message).inserted else { return }
        warningHandler?("warning: " + message)
    }

    /// Resolves each field to a column index, creating or widening undeclared columns as needed.
    /// Fields whose value is null and whose column does not exist yet are skipped (index -1), and so
    /// are fields whose value is not stored (a system column's name, or a second source name of a
    /// column an earlier field of the operation already set: the first value wins, as in Fivetran).
    /// `hints` are the op's `types`: the type to infer for a column, by the name the connector sent.
    /// - Returns: whether the fields name every column of the table (tables of up to 64 columns).
    @discardableResult
    func resolveColumns(
        _ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, into indexes: inout [Int], hints: [String: ColumnType]? = nil
    ) throws -> Bool {
        if hints == nil, let plan = table.plan(forShape: source.keyShape), plan.indexes.count == fields.count {
            // The same keys in the same order as a record resolved before, the columns unchanged since.
            indexes = plan.indexes
            for position in plan.undeclaredPositions {
                try inferType(of: table, plan.indexes[position], from: fields[position], hints: nil, source)
            }
            return plan.namesEveryColumn
        }
        indexes.removeAll(keepingCapacity: true)
        var named: UInt64 = 0
        for (position, field) in fields.enumerated() {
            if let index = table.columnIndex(forKey: field.key, at: position, in: source) {
                guard index >= 0 else {
                    ignoredSystemColumn(field, of: table, source)
                    indexes.append(-1)
                    continue
                }
                if try !namedFirstTime(index, &named, indexes, table, fields, field, source) {
                    indexes.append(-1)
                    continue
                }
                try inferType(of: table, index, from: field, hints: hints, source)
                indexes.append(index)
                continue
            }
            let sourceName = try source.string(field.key)
            if case .null = field.value {
                indexes.append(-1)
                continue
            }
            let name = table.naming.column(sourceName)
            if let message = NameRules.problem(name, what: "column") ?? destinationNameProblem(name, what: "column") {
                throw OperationProblem(column: sourceName, reason: message)
            }
            if let existingName = table.columnName(matchingCase: name) {
                throw OperationProblem(column: sourceName, reason: NameRules.collision(name, existing: existingName, what: "column"))
            }
            if let problem = table.rowidProblem(adding: name) { throw OperationProblem(column: sourceName, reason: problem) }
            if let problem = columnLimitProblem(table.columns.count + 1, hasPrimaryKey: table.hasPrimaryKey) {
                throw OperationProblem(
                    column: name,
                    reason:
                        "column \(NameRules.quoted(name)) would be column \(SyncReportFormatter.group(table.columns.count + 1)) of table \(NameRules.quoted(table.name)), \(problem)"
                )
            }
            try addColumn(
                to: table, name: name,
                type: hints?[sourceName] ?? TypeRules.inferredType(field.value, source, strings: settings.stringTyping),
                declared: false)
            let index = table.columns.count - 1
            table.indexBySourceName[Array(sourceName.utf8)] = index
            if index < 64 { named |= 1 << UInt64(index) }
            indexes.append(index)
        }
        let namesEveryColumn = Self.namesEveryColumn(indexes, table.columns.count)
        if source.keyShape != 0, !indexes.contains(where: { $0 < 0 }) {
            // Every field has a column of its own, so the next record of this shape resolves the same way.
            table.keep(
                WarehouseTable.ShapePlan(
                    shape: source.keyShape, indexes: indexes,
                    undeclaredPositions: indexes.indices.filter { !table.columns[indexes[$0]].declared },
                    namesEveryColumn: namesEveryColumn))
        }
        return namesEveryColumn
    }

    /// Types or widens an inferred column by the value a field brings (a declared column, or a
    /// null, changes nothing).
    @inline(__always)
    func inferType(of table: WarehouseTable, _ index: Int, from field: Field, hints: [String: ColumnType]?, _ source: RecordSource)
        throws
    {
        let column = table.columns[index]
        if !column.declared, case .null = field.value {
        } else if !column.declared,
            let incoming = hinted(field, hints, source) ?? TypeRules.inferredType(field.value, source, strings: settings.stringTyping)
        {
            if let current = column.type {
                let widened = TypeRules.widened(current, incoming)
                if widened != current { try widen(table, index, to: widened, declared: false) }
            } else {
                try setColumnType(table, index, incoming, declared: false)
                recordSchemaChange("\(table.name).\(column.name): typed \(incoming) from its first value (inferred)")
            }
        }
    }

    /// Whether `indexes` (column per field, -1 for none) covers each of the first `count` columns
    /// (checked for tables of up to 64 columns; wider ones are always cleared).
    @inline(__always)
    static func namesEveryColumn(_ indexes: [Int], _ count: Int) -> Bool {
        guard count <= 64, indexes.count >= count else { return false }
        var mask: UInt64 = 0
        for index in indexes where index >= 0 { mask |= 1 << UInt64(index) }
        return mask == (count == 64 ? ~0 : (1 << UInt64(count)) - 1)
    }

    /// The type an op's `types` hint gives a field's column, if any (only ops that carry hints pay).
    @inline(__always)
    func hinted(_ field: Field, _ hints: [String: ColumnType]?, _ source: RecordSource) -> ColumnType? {
        guard let hints, case .string = field.value, let name = try? source.string(field.key) else { return nil }
        return hints[name]
    }

    /// Says once per table and name that a value sent for a system column was not stored.
    func ignoredSystemColumn(_ field: Field, of table: WarehouseTable, _ source: RecordSource) {
        let name = (try? source.string(field.key)) ?? ""
        warnOnce(
            "table \(NameRules.quoted(table.name)): column \(NameRules.quoted(name)) is a system column of this warehouse; the value the connector sends for it is not stored (the host sets it)"
        )
    }

    /// Whether this field is the first of the operation to name column `index`. A member twice has
    /// no defined meaning in JSON, so the same key twice is refused rather than one value kept; two
    /// different source names that naming maps to one column keep the first value (said once).
    @inline(__always)
    func namedFirstTime(
        _ index: Int, _ named: inout UInt64, _ indexes: [Int], _ table: WarehouseTable, _ fields: [Field], _ field: Field,
        _ source: RecordSource
    ) throws(OperationProblem) -> Bool {
        if index < 64 {
            let bit: UInt64 = 1 << UInt64(index)
            if named & bit == 0 {
                named |= bit
                return true
            }
        } else if !indexes.contains(index) {
            return true
        }
        let sourceName = (try? source.string(field.key)) ?? ""
        let earlier = indexes.firstIndex(of: index).flatMap { try? source.string(fields[$0].key) }
        guard let earlier, earlier != sourceName else { throw Self.namedTwice(table.columns[index].name) }
        warnOnce(
            "columns \(NameRules.quoted(earlier)) and \(NameRules.quoted(sourceName)) of table \(NameRules.quoted(table.name)) both become \(NameRules.quoted(table.columns[index].name)) under Fivetran naming: a row keeps only the value of the first"
        )
        return false
    }

    static func namedTwice(_ column: String) -> OperationProblem {
        OperationProblem(column: column, reason: "column \(NameRules.quoted(column)) appears twice in the operation; send each column once")
    }

    /// The problem of an update or delete that lacks primary-key column `name`.
    func keyColumnMissing(_ name: String, of table: WarehouseTable) -> OperationProblem {
        OperationProblem(
            column: name,
            reason:
                "the primary-key column \"\(name)\" is missing; update and delete must name the row by its full primary key \(describeKey(table.primaryKey))"
        )
    }

    /// The problem of an operation whose primary-key column `name` is null.
    static func keyColumnNull(_ name: String) -> OperationProblem {
        OperationProblem(column: name, reason: "the primary-key column \"\(name)\" is null")
    }

    func missingKey(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, boundKeys: UInt64) -> OperationProblem {
        for index in table.primaryKeyIndexes where boundKeys & (1 << UInt64(index)) == 0 {
            let name = table.columns[index].name
            let present = fields.contains { (try? source.string($0.key)).map { NameRules.same($0, name) } ?? false }
            return present
                ? Self.keyColumnNull(name)
                : OperationProblem(
                    column: name,
                    reason:
                        "the primary-key column \"\(name)\" is missing; every upsert must carry the full primary key \(describeKey(table.primaryKey))"
                )
        }
        return OperationProblem(column: nil, reason: "the primary key is incomplete")
    }

    @inline(__always)
    func isNull(_ value: FieldValue) -> Bool {
        if case .null = value { return true }
        return false
    }

    /// The row hash `keys` name in a table without primary key: each value converted to its column's
    /// type, as an upsert would have stored it. A key for a column the table does not have (or has
    /// only nulls in) can match no row: the hash of nothing the table holds.
    func keyHash(
        _ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, binder: inout ValueBinder,
        scratch hashScratch: inout [(name: [UInt8], value: CanonicalValue)]
    ) throws -> String {
        if table.system == .fivetran { return fivetranRowHash(table, fields, source, hints: nil) }
        hashScratch.removeAll(keepingCapacity: true)
        var seen: [Int] = []
        for (position, field) in fields.enumerated() where !isNull(field.value) {
            let index = table.columnIndex(forKey: field.key, at: position, in: source)
            if index == WarehouseTable.ignoredField { continue }  // a system column's name: not stored, as in upsert
            guard let index, table.columns[index].type != nil else {
                return "#no-such-row"
            }
            // A member twice has no defined meaning; two source names of one column are refused here
            // too, since a delete's keys must name the row exactly.
            if seen.contains(index) { throw Self.namedTwice(table.columns[index].name) }
            seen.append(index)
            hashScratch.append(
                (
                    table.columns[index].nameBytes,
                    try storedForm(field.value, in: table.columns[index], source, binder: &binder)
                ))
        }
        return RowHash.of(hashScratch)
    }

    /// The row id of a table without primary key in the `fivetran` profile: Fivetran's `_fivetran_id`
    /// (``FivetranRowHash``, PROTOCOL.md 6.5) over every column of the op, nulls included, by its
    /// warehouse name (the first of two source names that map to one name counts), each value as the
    /// op sent it with its type hint; the system columns are not part of it. Unlike ``RowHash`` it does
    /// not depend on how a column stores the value, so widening a column keeps the ids.
    func fivetranRowHash(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?) -> String {
        var cells: [(name: String, repr: String)] = []
        cells.reserveCapacity(fields.count)
        var seen: Set<String> = []
        for field in fields {
            guard let sourceName = try? source.string(field.key) else { continue }
            let index = table.index(forSourceName: sourceName)
            if index == WarehouseTable.ignoredField { continue }
            let name = index.map { table.columns[$0].name } ?? naming.column(sourceName)
            if table.system.contains(name) || !seen.insert(name).inserted { continue }
            cells.append((name, FivetranRowHash.repr(field.value, source, hint: hints?[sourceName]?.dataType)))
        }
        return FivetranRowHash.digest(cells)
    }

    /// The boolean a string stands for under Fivetran's string typing (PROTOCOL.md 6.6), for a
    /// BOOLEAN column that string typing inferred; `nil` otherwise (a declared BOOLEAN takes `true`
    /// and `false` only, and the value binder judges every other case).
    @inline(__always)
    func stringTypedBoolean(_ value: FieldValue, _ column: WarehouseColumn, _ source: RecordSource) -> Bool? {
        guard case .string(let token) = value, !column.declared, column.type?.dataType == .boolean,
            settings.stringTyping == .fivetran
        else { return nil }
        return TypeRules.isBooleanText(source.slice(token))
    }

    /// `value` as column `column` stores it, for the row hash (``CanonicalValue``).
    func storedForm(_ value: FieldValue, in column: WarehouseColumn, _ source: RecordSource, binder: inout ValueBinder) throws
        -> CanonicalValue
    {
        var canonical = CanonicalValue()
        if let flag = stringTypedBoolean(value, column, source) {
            canonical.bindBoolean(flag)
            return canonical
        }
        guard let type = column.type else { return canonical }
        let column = column.name
        do throws(ValueProblem) { try binder.bind(value, as: type, from: source, to: &canonical) } catch {
            throw OperationProblem(column: column, reason: error.message(masking: redactor))
        }
        return canonical
    }
}

/// The SQLite side of the operations: one cached statement per table and shape, run at once.
extension Warehouse {
    /// Sets the `_connector_synced` time for the operations that follow.
    func setSyncedTime(_ time: String) { syncedTime = Array(time.utf8) }

    /// Applies an upsert.
    func upsert(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]? = nil) throws {
        let namesEveryColumn = try resolveColumns(table, fields, source, into: &columnIndexes, hints: hints)
        let statement = try statement(.upsert, of: table)
        // Columns the record leaves out must be NULL; when it names every column, all get rebound.
        if !namesEveryColumn { statement.clearBindings() }
        var boundKeys: UInt64 = 0
        var boundKeyCount = 0
        defer { binder.recycle() }
        if table.hasPrimaryKey {
            for (position, field) in fields.enumerated() {
                let index = columnIndexes[position]
                guard index >= 0 else { continue }
                try bind(field, column: index, of: table, source: source, to: statement, at: index + 1)
                if table.isPrimaryKeyColumn(index), !isNull(field.value) {
                    if index < 64 { boundKeys |= 1 << UInt64(index) }
                    boundKeyCount += 1
                }
            }
            // Every key column non-null, however wide the table (the mask covers the first 64 columns).
            guard boundKeys == table.primaryKeyMask, boundKeyCount == table.primaryKeyIndexes.count else {
                throw missingKey(table, fields, source, boundKeys: boundKeys)
            }
        } else {
            if table.system == .fivetran {
                for (position, field) in fields.enumerated() {
                    let index = columnIndexes[position]
                    guard index >= 0 else { continue }
                    try bind(field, column: index, of: table, source: source, to: statement, at: index + 1)
                }
                statement.bind(fivetranRowHash(table, fields, source, hints: hints), at: table.columns.count + 2)
            } else {
                hashScratch.removeAll(keepingCapacity: true)
                for (position, field) in fields.enumerated() {
                    let index = columnIndexes[position]
                    guard index >= 0 else { continue }
                    var parameter = HashedParameter(StatementParameter(statement: statement, index: index + 1))
                    try bind(field, column: index, of: table, source: source, to: &parameter)
                    hashScratch.append((table.columns[index].nameBytes, parameter.canonical))
                }
                statement.bind(RowHash.of(hashScratch), at: table.columns.count + 2)
            }
        }
        syncedTime.withUnsafeBufferPointer { statement.bindText(borrowing: $0, at: table.columns.count + 1) }
        try execute(statement)
        counts.upserts += 1
    }

    /// The table's statement of `kind`, prepared on first use and cached until its columns change.
    @inline(__always)
    func statement(_ kind: WarehouseTable.StatementKind, of table: WarehouseTable) throws(SQLiteError) -> SQLiteStatement {
        if let cached = table.cachedStatement(kind) { return cached }
        let statement = try database.prepare(table.sql(for: kind))
        table.cache(statement, for: kind)
        return statement
    }

    /// Applies a partial update; a row that does not exist is a counted no-op.
    func update(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]? = nil) throws {
        let (valueColumns, keyPositions) = try updateColumns(table, fields, source, hints: hints, into: &columnIndexes)
        let statement = try statement(.update(valueColumns: valueColumns), of: table)
        defer { binder.recycle() }
        var parameter = 1
        for (position, index) in columnIndexes.enumerated() where index >= 0 && !table.primaryKeyIndexes.contains(index) {
            try bind(fields[position], column: index, of: table, source: source, to: statement, at: parameter)
            parameter += 1
        }
        syncedTime.withUnsafeBufferPointer { statement.bindText(borrowing: $0, at: parameter) }
        try bindKeys(table, fields, keyPositions, source, statement, firstParameter: parameter + 1)
        try execute(statement)
        counts.updates += 1
        if database.changes == 0 { counts.noopUpdates += 1 }
    }

    /// Applies a soft delete; a row that does not exist is a counted no-op.
    func delete(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource) throws {
        let statement = try statement(.delete, of: table)
        defer { binder.recycle() }
        syncedTime.withUnsafeBufferPointer { statement.bindText(borrowing: $0, at: 1) }
        if table.hasPrimaryKey {
            var keyPositions = [Int](repeating: -1, count: table.primaryKeyIndexes.count)
            for (position, field) in fields.enumerated() {
                guard let index = table.columnIndex(forKey: field.key, at: position, in: source), index >= 0,
                    let keyPosition = table.primaryKeyIndexes.firstIndex(of: index)
                else { continue }
                if keyPositions[keyPosition] >= 0 { throw Self.namedTwice(table.columns[index].name) }
                keyPositions[keyPosition] = position
            }
            try bindKeys(table, fields, keyPositions, source, statement, firstParameter: 2)
        } else {
            // Without a primary key a row is identified by all its values: `keys` must be the full
            // row, and its hash is over the values as the columns store them.
            statement.bind(try keyHash(table, fields, source), at: 2)
        }
        try execute(statement)
        counts.deletes += 1
        if database.changes == 0 { counts.noopDeletes += 1 }
    }

    /// Soft-deletes every live row of the table.
    func truncate(_ table: WarehouseTable) throws {
        let statement = try statement(.truncate, of: table)
        syncedTime.withUnsafeBufferPointer { statement.bindText(borrowing: $0, at: 1) }
        try execute(statement)
        counts.truncates += 1
    }

    @inline(__always)
    func bind(
        _ field: Field, column index: Int, of table: WarehouseTable, source: RecordSource, to statement: SQLiteStatement,
        at parameter: Int
    ) throws(OperationProblem) {
        var target = StatementParameter(statement: statement, index: parameter)
        try bind(field, column: index, of: table, source: source, to: &target)
    }

    @inline(__always)
    func bind<Target: BindingTarget>(
        _ field: Field, column index: Int, of table: WarehouseTable, source: RecordSource, to target: inout Target
    ) throws(OperationProblem) {
        guard let type = table.columns[index].type else {
            target.bindNull()
            return
        }
        if let flag = stringTypedBoolean(field.value, table.columns[index], source) {
            target.bindBoolean(flag)
            return
        }
        do throws(ValueProblem) {
            try binder.bind(field.value, as: type, from: source, to: &target)
        } catch {
            throw OperationProblem(column: table.columns[index].name, reason: error.message(masking: redactor))
        }
    }

    func bindKeys(
        _ table: WarehouseTable, _ fields: [Field], _ keyPositions: [Int], _ source: RecordSource, _ statement: SQLiteStatement,
        firstParameter: Int
    ) throws {
        for (keyPosition, fieldPosition) in keyPositions.enumerated() {
            let columnIndex = table.primaryKeyIndexes[keyPosition]
            let columnName = table.columns[columnIndex].name
            guard fieldPosition >= 0 else { throw keyColumnMissing(columnName, of: table) }
            guard !isNull(fields[fieldPosition].value) else { throw Self.keyColumnNull(columnName) }
            try bind(fields[fieldPosition], column: columnIndex, of: table, source: source, to: statement, at: firstParameter + keyPosition)
        }
    }

    /// The row hash `keys` name in a table without primary key (``DestinationCatalog/keyHash(_:_:_:binder:scratch:)``).
    func keyHash(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource) throws -> String {
        try keyHash(table, fields, source, binder: &binder, scratch: &hashScratch)
    }
}
