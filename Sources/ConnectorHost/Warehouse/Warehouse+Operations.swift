import ConnectorProtocol

extension Warehouse {
    /// Sets the `_connector_synced` time for the operations that follow.
    func setSyncedTime(_ time: String) { syncedTime = Array(time.utf8) }

    /// The table of exactly this name (byte for byte), if it exists.
    func table(exactly name: String) -> WarehouseTable? {
        guard let table = tables[name], NameRules.same(table.name, name) else { return nil }
        return table
    }

    /// The table called `name`, creating it (without primary key) on first sight.
    /// - Throws: ``OperationProblem`` for a name the warehouse refuses, or one that differs from an
    ///   existing table's only in letter case; ``SQLiteError`` when creating it fails.
    func table(named name: String) throws -> WarehouseTable {
        if let table = table(exactly: name) { return table }
        if let message = NameRules.problem(name, what: "table") { throw OperationProblem(column: nil, reason: message) }
        if let existingName = tableNamesByFoldedName[NameRules.folded(name)] {
            throw OperationProblem(column: nil, reason: NameRules.collision(name, existing: existingName, what: "table"))
        }
        let table = try createTable(name: name, primaryKey: [], declared: [], inSchema: false)
        undeclaredTablesCreated.append(name)
        return table
    }

    /// Resolves each field to a column index, creating or widening undeclared columns as needed.
    /// Fields whose value is null and whose column does not exist yet are skipped (index -1).
    func resolveColumns(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, into indexes: inout [Int]) throws {
        indexes.removeAll(keepingCapacity: true)
        var named: UInt64 = 0
        for (position, field) in fields.enumerated() {
            if let index = table.columnIndex(forKey: field.key, at: position, in: source) {
                try Self.checkNamedOnce(index, &named, indexes, table)
                let column = table.columns[index]
                if !column.declared, case .null = field.value {
                } else if !column.declared,
                    let incoming = TypeRules.inferredType(field.value, source)
                {
                    if let current = column.type {
                        let widened = TypeRules.widened(current, incoming)
                        if widened != current { try widen(table, index, to: widened, declared: false) }
                    } else {
                        try setColumnType(table, index, incoming, declared: false)
                        recordSchemaChange("\(table.name).\(column.name): typed \(incoming) from its first value (inferred)")
                    }
                }
                indexes.append(index)
                continue
            }
            let name = try source.string(field.key)
            if case .null = field.value {
                indexes.append(-1)
                continue
            }
            if let message = NameRules.problem(name, what: "column") { throw OperationProblem(column: name, reason: message) }
            if let existingName = table.columnName(matchingCase: name) {
                throw OperationProblem(column: name, reason: NameRules.collision(name, existing: existingName, what: "column"))
            }
            try addColumn(to: table, name: name, type: TypeRules.inferredType(field.value, source), declared: false)
            indexes.append(table.columns.count - 1)
        }
    }

    /// Throws when an earlier field of the same operation already named column `index`: a member
    /// twice has no defined meaning in JSON, so the operation is refused rather than one value kept.
    @inline(__always)
    static func checkNamedOnce(_ index: Int, _ named: inout UInt64, _ indexes: [Int], _ table: WarehouseTable)
        throws(OperationProblem)
    {
        if index < 64 {
            let bit: UInt64 = 1 << UInt64(index)
            if named & bit != 0 { throw namedTwice(table.columns[index].name) }
            named |= bit
        } else if indexes.contains(index) {
            throw namedTwice(table.columns[index].name)
        }
    }

    static func namedTwice(_ column: String) -> OperationProblem {
        OperationProblem(column: column, reason: "column \(NameRules.quoted(column)) appears twice in the operation; send each column once")
    }

    /// Applies an upsert.
    func upsert(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource) throws {
        try resolveColumns(table, fields, source, into: &columnIndexes)
        let statement = try statement(.upsert, of: table)
        // Columns the record leaves out must be NULL; when it names every column, all get rebound.
        if !Self.namesEveryColumn(columnIndexes, table.columns.count) { statement.clearBindings() }
        var boundKeys: UInt64 = 0
        defer { binder.recycle() }
        for (position, field) in fields.enumerated() {
            let index = columnIndexes[position]
            guard index >= 0 else { continue }
            try bind(field, column: index, of: table, source: source, to: statement, at: index + 1)
            if index < 64, table.primaryKeyMask & (1 << UInt64(index)) != 0, !isNull(field.value) {
                boundKeys |= 1 << UInt64(index)
            }
        }
        if table.hasPrimaryKey {
            guard boundKeys == table.primaryKeyMask else { throw missingKey(table, fields, source, boundKeys: boundKeys) }
        } else {
            statement.bind(rowHash(fields, source), at: table.columns.count + 2)
        }
        syncedTime.withUnsafeBufferPointer { statement.bindText(borrowing: $0, at: table.columns.count + 1) }
        try statement.execute()
        counts.upserts += 1
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

    /// The table's statement of `kind`, prepared on first use and cached until its columns change.
    @inline(__always)
    func statement(_ kind: WarehouseTable.StatementKind, of table: WarehouseTable) throws(SQLiteError) -> SQLiteStatement {
        if let cached = table.cachedStatement(kind) { return cached }
        let statement = try database.prepare(table.sql(for: kind))
        table.cache(statement, for: kind)
        return statement
    }

    /// Applies a partial update; a row that does not exist is a counted no-op.
    func update(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource) throws {
        guard table.hasPrimaryKey else {
            throw OperationProblem(
                column: nil,
                reason:
                    "table \"\(table.name)\" has no primary key, so rows cannot be updated by key; use upsert (or declare a primary key)")
        }
        try resolveColumns(table, fields, source, into: &columnIndexes)
        var valueColumns: [Int] = []
        var keyPositions = [Int](repeating: -1, count: table.primaryKeyIndexes.count)
        for (position, index) in columnIndexes.enumerated() where index >= 0 {
            if let keyPosition = table.primaryKeyIndexes.firstIndex(of: index) {
                keyPositions[keyPosition] = position
            } else {
                valueColumns.append(index)
            }
        }
        let statement = try statement(.update(valueColumns: valueColumns), of: table)
        defer { binder.recycle() }
        var parameter = 1
        for (position, index) in columnIndexes.enumerated() where index >= 0 && !table.primaryKeyIndexes.contains(index) {
            try bind(fields[position], column: index, of: table, source: source, to: statement, at: parameter)
            parameter += 1
        }
        syncedTime.withUnsafeBufferPointer { statement.bindText(borrowing: $0, at: parameter) }
        try bindKeys(table, fields, keyPositions, source, statement, firstParameter: parameter + 1)
        try statement.execute()
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
                guard let index = table.columnIndex(forKey: field.key, at: position, in: source),
                    let keyPosition = table.primaryKeyIndexes.firstIndex(of: index)
                else { continue }
                if keyPositions[keyPosition] >= 0 { throw Self.namedTwice(table.columns[index].name) }
                keyPositions[keyPosition] = position
            }
            try bindKeys(table, fields, keyPositions, source, statement, firstParameter: 2)
        } else {
            // Without a primary key a row is identified by all its values: `keys` must be the full row.
            statement.bind(rowHash(fields, source), at: 2)
        }
        try statement.execute()
        counts.deletes += 1
        if database.changes == 0 { counts.noopDeletes += 1 }
    }

    /// Soft-deletes every live row of the table.
    func truncate(_ table: WarehouseTable) throws {
        let statement = try statement(.truncate, of: table)
        syncedTime.withUnsafeBufferPointer { statement.bindText(borrowing: $0, at: 1) }
        try statement.execute()
        counts.truncates += 1
    }

    @inline(__always)
    func bind(
        _ field: Field, column index: Int, of table: WarehouseTable, source: RecordSource, to statement: SQLiteStatement,
        at parameter: Int
    ) throws(OperationProblem) {
        guard let type = table.columns[index].type else {
            statement.bindNull(parameter)
            return
        }
        do throws(ValueProblem) {
            try binder.bind(field.value, as: type, from: source, to: statement, at: parameter)
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
            guard fieldPosition >= 0 else {
                throw OperationProblem(
                    column: columnName,
                    reason:
                        "the primary-key column \"\(columnName)\" is missing; update and delete must name the row by its full primary key \(describeKey(table.primaryKey))"
                )
            }
            guard !isNull(fields[fieldPosition].value) else {
                throw OperationProblem(column: columnName, reason: "the primary-key column \"\(columnName)\" is null")
            }
            try bind(fields[fieldPosition], column: columnIndex, of: table, source: source, to: statement, at: firstParameter + keyPosition)
        }
    }

    func missingKey(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, boundKeys: UInt64) -> OperationProblem {
        for index in table.primaryKeyIndexes where boundKeys & (1 << UInt64(index)) == 0 {
            let name = table.columns[index].name
            let present = fields.contains { (try? source.string($0.key)).map { NameRules.same($0, name) } ?? false }
            return OperationProblem(
                column: name,
                reason: present
                    ? "the primary-key column \"\(name)\" is null"
                    : "the primary-key column \"\(name)\" is missing; every upsert must carry the full primary key \(describeKey(table.primaryKey))"
            )
        }
        return OperationProblem(column: nil, reason: "the primary key is incomplete")
    }

    @inline(__always)
    func isNull(_ value: FieldValue) -> Bool {
        if case .null = value { return true }
        return false
    }

    /// A stable id for a row of a table without primary key: a hash of its sorted non-null
    /// `column=value` pairs (values as sent), so identical rows collapse into one.
    func rowHash(_ fields: [Field], _ source: RecordSource) -> String {
        hashScratch.removeAll(keepingCapacity: true)
        for field in fields where !isNull(field.value) {
            hashScratch.append(((try? source.string(field.key)) ?? "", source.rawJSON(field.value)))
        }
        hashScratch.sort { $0.0 < $1.0 }
        var hasher = StableHasher()
        for (key, value) in hashScratch {
            hasher.combine(key)
            hasher.combine(value)
        }
        return hasher.hexDigest
    }
}
