import ConnectorProtocol

/// The record path of the PostgreSQL destination: each operation is checked and encoded as the
/// SQLite warehouse checks and binds it (``ValueBinder`` into a ``PostgresRowEncoder``), then joins
/// the current ``PostgresRun``; a run is sent in bulk when it ends.
///
/// Upserts go by COPY straight into the table, inside a savepoint; when a key already exists the
/// savepoint is rolled back and the run (and the table's later upsert runs in this sync) go by COPY
/// into a staging table and `INSERT ... SELECT ... ON CONFLICT DO UPDATE`. Updates and deletes go by
/// COPY into a staging table and one `UPDATE ... FROM`, whose row count gives the no-ops.
extension PostgresDestination {
    func setSyncedTime(_ time: String) { syncedTime = Array(time.utf8) }

    /// The parameter of the synced column in a table's rows, and of the row id after it.
    @inline(__always)
    private func syncedParameter(_ table: WarehouseTable) -> Int { table.columns.count + 1 }

    func upsert(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]? = nil) throws {
        try resolveColumns(table, fields, source, into: &columnIndexes, hints: hints)
        if !run.continues(table, .upsert) {
            try flush()
            run.start(table, .upsert)
        }
        encoder.beginRow(types: run.types)
        defer { binder.recycle() }
        var boundKeys: UInt64 = 0
        for (position, field) in fields.enumerated() {
            let index = columnIndexes[position]
            guard index >= 0 else { continue }
            try bind(field, column: index, of: table, source: source, at: index + 1)
            if index < 64, table.primaryKeyMask & (1 << UInt64(index)) != 0, !isNull(field.value) {
                boundKeys |= 1 << UInt64(index)
            }
        }
        let rowID = syncedParameter(table) + 1
        run.key.removeAll(keepingCapacity: true)
        if table.hasPrimaryKey {
            guard boundKeys == table.primaryKeyMask else { throw missingKey(table, fields, source, boundKeys: boundKeys) }
            for index in table.primaryKeyIndexes { encoder.appendKey(index + 1, to: &run.key) }
        } else if table.system == .fivetran {
            // Fivetran's _fivetran_id over the values as sent, as the SQLite warehouse computes it.
            encoder.bind(fivetranRowHash(table, fields, source, hints: hints), at: rowID)
            encoder.appendKey(rowID, to: &run.key)
        } else {
            // The row hash over the values as stored (RowHash), as the SQLite warehouse computes it.
            hashScratch.removeAll(keepingCapacity: true)
            for (position, field) in fields.enumerated() where !isNull(field.value) {
                let index = columnIndexes[position]
                guard index >= 0, table.columns[index].type != nil else { continue }
                let stored = try storedForm(field.value, in: table.columns[index], source, binder: &binder)
                hashScratch.append((table.columns[index].nameBytes, stored))
            }
            encoder.bind(RowHash.of(hashScratch), at: rowID)
            encoder.appendKey(rowID, to: &run.key)
        }
        _ = run.admitKey()
        run.beginRow()
        for index in 0..<run.columnNames.count { encoder.append(index + 1, to: &run.buffer) }
        syncedTime.withUnsafeBufferPointer { run.buffer.appendPlain($0) }
        run.buffer.appendPlain("f")
        if !table.hasPrimaryKey { encoder.append(rowID, to: &run.buffer) }
        run.buffer.endRow()
        counts.upserts += 1
        if run.isFull {
            try flush()
        } else if run.buffer.bytes.count - run.streamedBytes >= PostgresRun.streamChunk, run.allLive, !mergedTables.contains(table.name) {
            try streamRun(table)
        }
    }

    /// The columns of an upsert run's COPY rows: the run's columns, then the system columns.
    private func upsertColumns(_ table: WarehouseTable) -> [String] {
        let system = table.system
        return run.columnNames + [system.synced, system.deleted] + (table.hasPrimaryKey ? [] : [system.rowID])
    }

    /// Sends the rows of the upsert run not sent yet by a COPY into the table that stays open, so the
    /// server stores them while the host reads the next operations (opened, inside a savepoint, on
    /// the first call of a run). Any other statement ends it first (``endStream()``).
    private func streamRun(_ table: WarehouseTable) throws(PostgresError) {
        if !run.streaming {
            try connection.execute("SAVEPOINT \"_connector_run\"")
            try connection.beginCopy(
                "COPY \(qualified(table.name)) (\(upsertColumns(table).map(quoteIdentifier).joined(separator: ", "))) FROM STDIN")
            run.streaming = true
            connection.finishStreamedCopy = { [unowned self] () throws(PostgresError) in try self.endStream() }
        }
        try sendRun(from: run.streamedBytes)
        run.streamedBytes = run.buffer.bytes.count
    }

    /// Ends the streamed COPY of the current run: its rows stay, or, when one of their keys existed
    /// already, they go (the savepoint rolled back), the table's upserts are merged from now on, and
    /// the whole run is sent again when it is flushed.
    func endStream() throws(PostgresError) {
        guard run.streaming else { return }
        run.streaming = false
        connection.finishStreamedCopy = nil
        do throws(PostgresError) {
            try connection.endCopy()
            try connection.execute("RELEASE SAVEPOINT \"_connector_run\"")
        } catch  where error.sqlState == .uniqueViolation {
            try connection.execute("ROLLBACK TO SAVEPOINT \"_connector_run\"; RELEASE SAVEPOINT \"_connector_run\"")
            if let table = run.table { mergedTables.insert(table.name) }
            run.streamedBytes = 0
        }
    }

    /// Abandons a streamed COPY (the transaction is being rolled back).
    func abandonStream() {
        guard run.streaming else { return }
        run.streaming = false
        connection.finishStreamedCopy = nil
        connection.abortCopy()
    }

    /// Sends the run's live rows from byte `offset` on into the COPY in progress.
    private func sendRun(from offset: Int) throws(PostgresError) {
        let connection = self.connection
        let failure: PostgresError? = run.buffer.bytes.withUnsafeBytes { raw in
            do throws(PostgresError) {
                for range in run.liveRanges(from: offset) {
                    try connection.putCopyData(UnsafeRawBufferPointer(rebasing: raw[range]))
                }
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    func update(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]? = nil) throws {
        let (valueColumns, keyPositions) = try updateColumns(table, fields, source, hints: hints, into: &columnIndexes)
        if !run.continues(table, .update, valueColumns) {
            try flush()
            run.start(table, .update, valueColumns: valueColumns)
        }
        encoder.beginRow(types: run.types)
        defer { binder.recycle() }
        for (position, index) in columnIndexes.enumerated() where index >= 0 && !table.primaryKeyIndexes.contains(index) {
            try bind(fields[position], column: index, of: table, source: source, at: index + 1)
        }
        try bindKeys(table, fields, keyPositions, source)
        try admitKeyedRow(table)
        for index in table.primaryKeyIndexes { encoder.append(index + 1, to: &run.buffer) }
        for index in valueColumns { encoder.append(index + 1, to: &run.buffer) }
        syncedTime.withUnsafeBufferPointer { run.buffer.appendPlain($0) }
        run.buffer.endRow()
        counts.updates += 1
        if run.isFull { try flush() }
    }

    func delete(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource) throws {
        if !run.continues(table, .delete) {
            try flush()
            run.start(table, .delete)
        }
        encoder.beginRow(types: run.types)
        defer { binder.recycle() }
        let rowID = syncedParameter(table) + 1
        if table.hasPrimaryKey {
            var keyPositions = [Int](repeating: -1, count: table.primaryKeyIndexes.count)
            for (position, field) in fields.enumerated() {
                guard let index = table.columnIndex(forKey: field.key, at: position, in: source),
                    let keyPosition = table.primaryKeyIndexes.firstIndex(of: index)
                else { continue }
                if keyPositions[keyPosition] >= 0 { throw Self.namedTwice(table.columns[index].name) }
                keyPositions[keyPosition] = position
            }
            try bindKeys(table, fields, keyPositions, source)
        } else {
            // Without a primary key a row is identified by all its values: `keys` must be the full row.
            encoder.bind(try keyHash(table, fields, source, binder: &binder, scratch: &hashScratch), at: rowID)
        }
        try admitKeyedRow(table)
        if table.hasPrimaryKey {
            for index in table.primaryKeyIndexes { encoder.append(index + 1, to: &run.buffer) }
        } else {
            encoder.append(rowID, to: &run.buffer)
        }
        syncedTime.withUnsafeBufferPointer { run.buffer.appendPlain($0) }
        run.buffer.endRow()
        counts.deletes += 1
        if run.isFull { try flush() }
    }

    func truncate(_ table: WarehouseTable) throws {
        try flush()
        let (deleted, synced) = (quoteIdentifier(table.system.deleted), quoteIdentifier(table.system.synced))
        try connection.run(
            "UPDATE \(qualified(table.name)) SET \(deleted) = true, \(synced) = $1 WHERE NOT \(deleted)",
            [String(decoding: syncedTime, as: UTF8.self)])
        counts.truncates += 1
    }

    /// Starts the row of an update or delete whose key ``encoder`` holds; a key already in the run
    /// flushes the run first, so the two operations apply in their order.
    @inline(__always)
    private func admitKeyedRow(_ table: WarehouseTable) throws {
        run.key.removeAll(keepingCapacity: true)
        if table.hasPrimaryKey {
            for index in table.primaryKeyIndexes { encoder.appendKey(index + 1, to: &run.key) }
        } else {
            encoder.appendKey(syncedParameter(table) + 1, to: &run.key)
        }
        if !run.admitKey() {
            let key = run.key
            let (kind, valueColumns) = (run.kind, run.valueColumns)
            try flush()
            run.start(table, kind, valueColumns: valueColumns)
            run.key = key
            _ = run.admitKey()
        }
        run.beginRow()
    }

    @inline(__always)
    func bind(_ field: Field, column index: Int, of table: WarehouseTable, source: RecordSource, at parameter: Int)
        throws(OperationProblem)
    {
        guard let type = table.columns[index].type else {
            encoder.bindNull(parameter)
            return
        }
        if let flag = stringTypedBoolean(field.value, table.columns[index], source) {
            encoder.bindBoolean(flag, at: parameter)
            return
        }
        do throws(ValueProblem) {
            try binder.bind(field.value, as: type, from: source, to: encoder, at: parameter)
        } catch {
            throw OperationProblem(column: table.columns[index].name, reason: error.message(masking: redactor))
        }
        if let problem = encoder.problem { throw OperationProblem(column: table.columns[index].name, reason: problem) }
    }

    /// Binds the key columns of an update or delete, refusing a missing or null one as SQLite does.
    private func bindKeys(_ table: WarehouseTable, _ fields: [Field], _ keyPositions: [Int], _ source: RecordSource) throws {
        for (keyPosition, fieldPosition) in keyPositions.enumerated() {
            let columnIndex = table.primaryKeyIndexes[keyPosition]
            let columnName = table.columns[columnIndex].name
            guard fieldPosition >= 0 else { throw keyColumnMissing(columnName, of: table) }
            guard !isNull(fields[fieldPosition].value) else { throw Self.keyColumnNull(columnName) }
            try bind(fields[fieldPosition], column: columnIndex, of: table, source: source, at: columnIndex + 1)
        }
    }

    // MARK: Sending a run

    /// Sends the current run, if any: every operation before this call is then in the database
    /// (in the open transaction).
    func flush() throws(PostgresError) {
        guard let table = run.table, run.count > 0 else {
            run.removeAll()
            return
        }
        defer { run.removeAll() }
        switch run.kind {
        case .upsert: try flushUpserts(table)
        case .update:
            let changed = try flushKeyed(table, assignments: run.valueColumns.map { run.columnNames[$0] })
            counts.noopUpdates += run.count - changed
        case .delete:
            let changed = try flushKeyed(table, assignments: [])
            counts.noopDeletes += run.count - changed
        }
    }

    private func flushUpserts(_ table: WarehouseTable) throws(PostgresError) {
        let system = table.system
        let names = upsertColumns(table)
        let list = names.map(quoteIdentifier).joined(separator: ", ")
        if !mergedTables.contains(table.name) {
            // New rows (the common case of a first sync) need no merge: COPY them into the table,
            // the rest of them into the COPY already streaming, if any.
            if !run.streaming {
                try connection.execute("SAVEPOINT \"_connector_run\"")
                try connection.beginCopy("COPY \(qualified(table.name)) (\(list)) FROM STDIN")
                run.streaming = true
            }
            do throws(PostgresError) {
                do throws(PostgresError) { try sendRun(from: run.streamedBytes) } catch {
                    abandonStream()
                    throw error
                }
                run.streaming = false
                connection.finishStreamedCopy = nil
                try connection.endCopy()
                try connection.execute("RELEASE SAVEPOINT \"_connector_run\"")
                return
            } catch  where error.sqlState == .uniqueViolation {
                try connection.execute("ROLLBACK TO SAVEPOINT \"_connector_run\"; RELEASE SAVEPOINT \"_connector_run\"")
                mergedTables.insert(table.name)
            }
        }
        let staging = try stagingTable(table, shape: "upsert", columns: names)
        try copy("COPY \(staging) (\(list)) FROM STDIN")
        let conflict = table.hasPrimaryKey ? table.primaryKey.map(quoteIdentifier) : [quoteIdentifier(system.rowID)]
        let assignments =
            run.columnNames.map(quoteIdentifier).map { "\($0) = excluded.\($0)" } + [
                "\(quoteIdentifier(system.synced)) = excluded.\(quoteIdentifier(system.synced))",
                "\(quoteIdentifier(system.deleted)) = false",
            ]
        try connection.run(
            "INSERT INTO \(qualified(table.name)) (\(list)) SELECT \(list) FROM \(staging) ON CONFLICT (\(conflict.joined(separator: ", "))) DO UPDATE SET \(assignments.joined(separator: ", "))"
        )
    }

    /// An update (`assignments`: the columns it sets) or a soft delete (none) of the run's rows,
    /// matched by key. Returns the number of rows it changed.
    private func flushKeyed(_ table: WarehouseTable, assignments: [String]) throws(PostgresError) -> Int {
        let system = table.system
        let keys = table.hasPrimaryKey ? table.primaryKey : [system.rowID]
        let names = keys + assignments + [system.synced]
        let staging = try stagingTable(table, shape: run.kind == .delete ? "delete" : "update", columns: names)
        try copy("COPY \(staging) (\(names.map(quoteIdentifier).joined(separator: ", "))) FROM STDIN")
        var sets = assignments.map(quoteIdentifier).map { "\($0) = s.\($0)" }
        if run.kind == .delete { sets.append("\(quoteIdentifier(system.deleted)) = true") }
        sets.append("\(quoteIdentifier(system.synced)) = s.\(quoteIdentifier(system.synced))")
        let match = keys.map(quoteIdentifier).map { "t.\($0) = s.\($0)" }.joined(separator: " AND ")
        return try connection.run(
            "UPDATE \(qualified(table.name)) AS t SET \(sets.joined(separator: ", ")) FROM \(staging) AS s WHERE \(match)")
    }

    /// A temporary table with the types of `columns` of `table`, empty, for this transaction.
    private func stagingTable(_ table: WarehouseTable, shape: String, columns: [String]) throws(PostgresError) -> String {
        let key = table.name + "\u{0}" + shape + "\u{0}" + columns.joined(separator: "\u{0}")
        if let existing = stagingTables[key] {
            try connection.execute("TRUNCATE \(existing)")
            return existing
        }
        let name = "pg_temp.\"_connector_staging_\(stagingTables.count + 1)\""
        try connection.execute(
            "CREATE TEMPORARY TABLE \(name) ON COMMIT DROP AS SELECT \(columns.map(quoteIdentifier).joined(separator: ", ")) FROM \(qualified(table.name)) WITH NO DATA"
        )
        stagingTables[key] = name
        return name
    }

    /// Forgets (and drops) the staging tables of `table`: its columns changed.
    func dropStagingTables(of table: WarehouseTable) throws(PostgresError) {
        let prefix = table.name + "\u{0}"
        for (key, name) in stagingTables where key.hasPrefix(prefix) {
            try connection.execute("DROP TABLE IF EXISTS \(name)")
            stagingTables[key] = nil
        }
    }

    /// Runs `sql` (a COPY FROM STDIN) with the run's live rows.
    private func copy(_ sql: String) throws(PostgresError) {
        try connection.beginCopy(sql)
        let connection = self.connection
        let failure: PostgresError? = run.buffer.bytes.withUnsafeBytes { raw in
            do throws(PostgresError) {
                for range in run.liveRanges() { try connection.putCopyData(UnsafeRawBufferPointer(rebasing: raw[range])) }
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            connection.abortCopy()
            throw failure
        }
        try connection.endCopy()
    }
}
