import CConnectorSQLite
import ConnectorProtocol

/// Counts of what a sync did, shown in the final table and kept in the sync history.
public struct OperationCounts: Sendable, Equatable {
    public var upserts = 0
    public var updates = 0
    public var deletes = 0
    public var truncates = 0
    public var checkpoints = 0
    public var schemaChanges = 0
    /// Updates that matched no row (counted, not errors).
    public var noopUpdates = 0
    /// Deletes that matched no row (counted, not errors).
    public var noopDeletes = 0

    public init() {}

    /// Operations that carry rows (upserts, updates, deletes).
    public var rowOperations: Int { upserts + updates + deletes }
}

/// Why an operation cannot be applied; the sync adds the op index, line and table.
struct OperationProblem: Error {
    var column: String?
    var reason: String
}

/// Why a declared schema cannot be applied to the existing warehouse.
public struct SchemaConflict: Error, Sendable, CustomStringConvertible {
    public let table: String
    public let reason: String
    public var description: String { "table \"\(table)\": \(reason)" }
}

/// The local SQLite warehouse: tables with system columns, metadata, state and sync history.
///
/// Everything between two checkpoints sits in one open transaction; ``checkpoint(state:)``
/// commits the data together with the state, and ``rollback()`` returns to the last checkpoint.
/// Confined to one thread (the sync's): not Sendable. The properties used per operation opt out of
/// the runtime's exclusivity checks (~10% of the host's instructions per row): confined to one thread,
/// they are never accessed while another access to them is in progress.
public final class Warehouse {
    let database: SQLiteDatabase
    /// The file path.
    public let path: String
    private(set) var tables: [String: WarehouseTable] = [:]
    /// What this sync has done so far.
    @exclusivity(unchecked) public private(set) var counts = OperationCounts()
    /// Tables created on first sight in this sync (not declared), for a warning.
    public private(set) var undeclaredTablesCreated: [String] = []
    /// Each schema change of this sync (table created, column added or typed, column widened), in
    /// order, as one line for the report; ``OperationCounts/schemaChanges`` counts them.
    public private(set) var schemaChangeLog: [String] = []
    /// Table names by their ASCII-folded form, to catch names SQLite would take for the same table.
    private var tableNamesByFoldedName: [String: String] = [:]

    @exclusivity(unchecked) private var binder = ValueBinder()
    /// The `_connector_synced` value of the operations being applied, as stable bytes.
    @exclusivity(unchecked) private var syncedTime: [UInt8] = []
    @exclusivity(unchecked) private var hashScratch: [(String, String)] = []

    /// Opens or creates the warehouse at `path` and loads its metadata.
    /// - Throws: ``SQLiteError`` when the file cannot be opened, is not a database, or is locked.
    public init(path: String) throws(SQLiteError) {
        self.path = path
        database = try SQLiteDatabase(path: path)
        try database.execute(
            """
            PRAGMA busy_timeout = 2000;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS "_connector_tables" (
                "name" TEXT PRIMARY KEY, "primary_key" TEXT NOT NULL, "created_at" TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS "_connector_columns" (
                "table_name" TEXT NOT NULL, "column_name" TEXT NOT NULL, "position" INTEGER NOT NULL,
                "type" TEXT, "precision" INTEGER, "scale" INTEGER, "declared" INTEGER NOT NULL,
                PRIMARY KEY ("table_name", "column_name"));
            CREATE TABLE IF NOT EXISTS "_connector_state" (
                "id" INTEGER PRIMARY KEY CHECK ("id" = 1), "state" TEXT NOT NULL, "updated_at" TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS "_connector_syncs" (
                "id" INTEGER PRIMARY KEY AUTOINCREMENT, "started_at" TEXT NOT NULL, "ended_at" TEXT,
                "status" TEXT NOT NULL, "connector" TEXT, "upserts" INTEGER NOT NULL DEFAULT 0,
                "updates" INTEGER NOT NULL DEFAULT 0, "deletes" INTEGER NOT NULL DEFAULT 0,
                "truncates" INTEGER NOT NULL DEFAULT 0, "checkpoints" INTEGER NOT NULL DEFAULT 0,
                "schema_changes" INTEGER NOT NULL DEFAULT 0, "noop_updates" INTEGER NOT NULL DEFAULT 0,
                "noop_deletes" INTEGER NOT NULL DEFAULT 0, "error" TEXT);
            """)
        try loadMetadata()
    }

    /// Reads the table and column metadata into memory (also after a rollback, which may undo DDL).
    private func loadMetadata() throws(SQLiteError) {
        tables.removeAll()
        tableNamesByFoldedName.removeAll()
        for row in try database.query(#"SELECT "name", "primary_key" FROM "_connector_tables""#) {
            guard case .text(let name) = row[0], case .text(let keyJSON) = row[1] else { continue }
            let primaryKey = (try? JSONParser.parse(keyJSON))?.arrayValue?.compactMap(\.stringValue) ?? []
            tables[name] = WarehouseTable(name: name, primaryKey: primaryKey)
            tableNamesByFoldedName[NameRules.folded(name)] = name
        }
        let columnRows = try database.query(
            #"SELECT "table_name", "column_name", "type", "precision", "scale", "declared" FROM "_connector_columns" ORDER BY "table_name", "position""#
        )
        for row in columnRows {
            guard case .text(let tableName) = row[0], case .text(let columnName) = row[1], let table = tables[tableName]
            else { continue }
            var type: ColumnType?
            if case .text(let typeName) = row[2], let dataType = DataType(rawValue: typeName) {
                var precision: Int?
                var scale: Int?
                if case .integer(let value) = row[3] { precision = Int(value) }
                if case .integer(let value) = row[4] { scale = Int(value) }
                type = ColumnType(dataType, precision: precision, scale: scale)
            }
            table.appendColumn(WarehouseColumn(name: columnName, type: type, declared: row[5] == .integer(1)))
        }
    }

    // MARK: State and history

    /// The state stored with the last checkpoint (compact JSON), or `nil` before the first one.
    public func storedState() throws(SQLiteError) -> String? {
        let rows = try database.query(#"SELECT "state" FROM "_connector_state" WHERE "id" = 1"#)
        if case .text(let state)? = rows.first?.first { return state }
        return nil
    }

    /// Records the start of a sync (committed on its own, so even a crash leaves a trace) and opens
    /// the sync's transaction.
    /// - Returns: the sync's history id.
    public func beginSync(connector: String) throws(SQLiteError) -> Int64 {
        try database.run(#"UPDATE "_connector_syncs" SET "status" = 'interrupted' WHERE "status" = 'running'"#)
        try database.run(
            #"INSERT INTO "_connector_syncs" ("started_at", "status", "connector") VALUES (?1, 'running', ?2)"#,
            [.text(TemporalValues.nowUTC()), .text(connector)])
        let id = try database.query("SELECT last_insert_rowid()").first?.first
        try database.execute("BEGIN IMMEDIATE")
        counts = OperationCounts()
        schemaChangeLog = []
        guard case .integer(let syncID)? = id else { return 0 }
        return syncID
    }

    /// Takes and releases the write lock, so that a read-only file or another program writing to the
    /// warehouse is reported before the connector starts.
    public func probeWriteAccess() throws(SQLiteError) {
        if database.isReadOnly {
            throw SQLiteError(code: SQLITE_READONLY, message: "the file is not writable", sql: nil)
        }
        try database.execute("BEGIN IMMEDIATE")
        try database.execute("ROLLBACK")
    }

    /// Commits every operation so far together with `state` (compact JSON). The caller opens the
    /// next transaction with ``beginTransaction()`` once the checkpoint is acknowledged, so a failure
    /// there is never mistaken for a failed commit.
    public func checkpoint(state: String) throws(SQLiteError) {
        try database.run(
            #"INSERT INTO "_connector_state" ("id", "state", "updated_at") VALUES (1, ?1, ?2) ON CONFLICT ("id") DO UPDATE SET "state" = excluded."state", "updated_at" = excluded."updated_at""#,
            [.text(state), .text(TemporalValues.nowUTC())])
        try database.execute("COMMIT")
        counts.checkpoints += 1
    }

    /// Opens the transaction that collects the operations up to the next checkpoint.
    public func beginTransaction() throws(SQLiteError) {
        try database.execute("BEGIN IMMEDIATE")
    }

    /// Commits the operations since the last checkpoint (the state stays the last checkpointed one)
    /// and records the sync as successful, in the same transaction.
    public func finishSync(id: Int64) throws(SQLiteError) {
        try recordSyncEnd(id: id, status: "succeeded", error: nil)
        try database.execute("COMMIT")
    }

    /// Undoes everything since the last checkpoint and records the failure.
    public func failSync(id: Int64, status: String, error: String) {
        rollback()
        try? recordSyncEnd(id: id, status: status, error: error)
    }

    /// Undoes everything since the last checkpoint.
    public func rollback() {
        if database.isInTransaction { try? database.execute("ROLLBACK") }
        try? loadMetadata()
    }

    private func recordSyncEnd(id: Int64, status: String, error: String?) throws(SQLiteError) {
        try database.run(
            """
            UPDATE "_connector_syncs" SET "ended_at" = ?1, "status" = ?2, "upserts" = ?3, "updates" = ?4,
            "deletes" = ?5, "truncates" = ?6, "checkpoints" = ?7, "schema_changes" = ?8, "noop_updates" = ?9,
            "noop_deletes" = ?10, "error" = ?11 WHERE "id" = ?12
            """,
            [
                .text(TemporalValues.nowUTC()), .text(status), .integer(Int64(counts.upserts)), .integer(Int64(counts.updates)),
                .integer(Int64(counts.deletes)), .integer(Int64(counts.truncates)), .integer(Int64(counts.checkpoints)),
                .integer(Int64(counts.schemaChanges)), .integer(Int64(counts.noopUpdates)), .integer(Int64(counts.noopDeletes)),
                error.map(SQLiteValue.text) ?? .null, .integer(id),
            ])
    }

    // MARK: Schema

    /// Creates declared tables, adds new columns and widens changed types.
    /// - Throws: ``SchemaConflict`` when the declaration contradicts the warehouse (a changed primary
    ///   key, a type that is not a widening, a name that differs from an existing one only in letter
    ///   case), or ``SQLiteError``.
    public func apply(schema: [TableDefinition]) throws {
        for definition in schema {
            let table: WarehouseTable
            if let existing = tables[definition.name] {
                table = existing
                if existing.primaryKey != definition.primaryKey {
                    throw SchemaConflict(
                        table: definition.name,
                        reason:
                            "the primary key changed from \(describeKey(existing.primaryKey)) to \(describeKey(definition.primaryKey)); the warehouse keeps rows by the old key. Restore the old key, or run `connector-host reset` to start over"
                    )
                }
            } else if let existingName = tableNamesByFoldedName[NameRules.folded(definition.name)] {
                throw SchemaConflict(
                    table: definition.name, reason: NameRules.caseCollision(definition.name, existing: existingName, what: "table"))
            } else {
                _ = try createTable(name: definition.name, primaryKey: definition.primaryKey, declared: definition.columns)
                continue
            }
            for (name, type) in definition.columns {
                if let index = table.columnIndex(named: name) {
                    let column = table.columns[index]
                    guard let oldType = column.type else {
                        try setColumnType(table, index, type, declared: true)
                        continue
                    }
                    if oldType == type {
                        if !column.declared { try setColumnType(table, index, type, declared: true) }
                        continue
                    }
                    let widened = TypeRules.widened(oldType, type)
                    guard widened == type else {
                        throw SchemaConflict(
                            table: definition.name,
                            reason:
                                "column \(NameRules.quoted(name)) is \(oldType) in the warehouse, and \(type) is not a widening of it (the order is BOOLEAN < SHORT < INT < LONG < FLOAT < DOUBLE, NAIVE_DATE < NAIVE_DATETIME < UTC_DATETIME, anything < STRING). Declare \(widened), or run `connector-host reset` to start over"
                        )
                    }
                    try widen(table, index, to: type, declared: true)
                } else if let existingName = table.columnName(matchingCase: name) {
                    throw SchemaConflict(
                        table: definition.name, reason: NameRules.caseCollision(name, existing: existingName, what: "column"))
                } else {
                    try addColumn(to: table, name: name, type: type, declared: true)
                }
            }
        }
    }

    private func describeKey(_ key: [String]) -> String {
        key.isEmpty ? "none (row hash)" : "(" + key.joined(separator: ", ") + ")"
    }

    private func createTable(name: String, primaryKey: [String], declared: [(name: String, type: ColumnType)], inSchema: Bool = true) throws
        -> WarehouseTable
    {
        let table = WarehouseTable(name: name, primaryKey: primaryKey)
        for (columnName, type) in declared { table.appendColumn(WarehouseColumn(name: columnName, type: type, declared: true)) }
        // Key columns not declared get their type from their first value.
        for keyColumn in primaryKey where table.columnIndex(named: keyColumn) == nil {
            table.appendColumn(WarehouseColumn(name: keyColumn, type: nil, declared: false))
        }
        try database.execute(table.createSQL)
        let keyJSON = JSONWriter.string(.array(primaryKey.map(JSONValue.string)))
        try database.run(
            #"INSERT INTO "_connector_tables" ("name", "primary_key", "created_at") VALUES (?1, ?2, ?3)"#,
            [.text(name), .text(keyJSON), .text(TemporalValues.nowUTC())])
        for (position, column) in table.columns.enumerated() { try saveColumn(table: name, column, position: position) }
        tables[name] = table
        tableNamesByFoldedName[NameRules.folded(name)] = name
        recordSchemaChange(
            !inSchema
                ? "\(name): table created (not in the schema: no primary key, columns inferred)"
                : declared.isEmpty && primaryKey.isEmpty
                    ? "\(name): table created with no primary key, columns inferred"
                    : "\(name): table created with \(table.columns.count) column\(table.columns.count == 1 ? "" : "s"), primary key \(describeKey(primaryKey))"
        )
        return table
    }

    private func saveColumn(table: String, _ column: WarehouseColumn, position: Int) throws(SQLiteError) {
        try database.run(
            #"INSERT INTO "_connector_columns" ("table_name", "column_name", "position", "type", "precision", "scale", "declared") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT ("table_name", "column_name") DO UPDATE SET "type" = excluded."type", "precision" = excluded."precision", "scale" = excluded."scale", "declared" = excluded."declared""#,
            [
                .text(table), .text(column.name), .integer(Int64(position)),
                column.type.map { .text($0.dataType.rawValue) } ?? .null,
                column.type?.precision.map { .integer(Int64($0)) } ?? .null,
                column.type?.scale.map { .integer(Int64($0)) } ?? .null,
                .integer(column.declared ? 1 : 0),
            ])
    }

    private func addColumn(to table: WarehouseTable, name: String, type: ColumnType?, declared: Bool) throws(SQLiteError) {
        let sqlType = TypeRules.sqlType(type)
        try database.execute("ALTER TABLE \(table.quotedName) ADD COLUMN \(quoteIdentifier(name)) \(sqlType)")
        table.appendColumn(WarehouseColumn(name: name, type: type, declared: declared))
        try saveColumn(table: table.name, table.columns[table.columns.count - 1], position: table.columns.count - 1)
        recordSchemaChange(
            "\(table.name).\(name): column added as \(type.map { "\($0)" } ?? "untyped") (\(declared ? "declared" : "inferred"))")
    }

    private func recordSchemaChange(_ line: String) {
        counts.schemaChanges += 1
        schemaChangeLog.append(line)
    }

    private func setColumnType(_ table: WarehouseTable, _ index: Int, _ type: ColumnType, declared: Bool) throws(SQLiteError) {
        table.setType(type, declared: declared, ofColumn: index)
        try saveColumn(table: table.name, table.columns[index], position: index)
    }

    /// Changes a column to a wider type and converts its stored values so they read as the new type
    /// (``TypeRules/conversion(from:to:)``).
    private func widen(_ table: WarehouseTable, _ index: Int, to type: ColumnType, declared: Bool) throws {
        let column = table.columns[index]
        let oldType = column.type ?? type
        let quoted = quoteIdentifier(column.name)
        let conversion = TypeRules.conversion(from: oldType, to: type)
        if TypeRules.sqlType(oldType) != TypeRules.sqlType(type) {
            guard !table.primaryKey.contains(column.name) else {
                throw SchemaConflict(
                    table: table.name,
                    reason:
                        "primary-key column \(NameRules.quoted(column.name)) would change from \(oldType) to \(type); declare its type in the schema so every value has the same type"
                )
            }
            // SQLite cannot change a column's type (its affinity): fill a new column, drop the old, rename.
            let temporary = quoteIdentifier(systemPrefix + "widening")
            try database.execute("ALTER TABLE \(table.quotedName) ADD COLUMN \(temporary) \(TypeRules.sqlType(type))")
            try convertValues(of: table, from: quoted, into: temporary, conversion)
            try database.execute(
                """
                ALTER TABLE \(table.quotedName) DROP COLUMN \(quoted);
                ALTER TABLE \(table.quotedName) RENAME COLUMN \(temporary) TO \(quoted);
                """)
        } else {
            try convertValues(of: table, from: quoted, into: quoted, conversion)
        }
        try setColumnType(table, index, type, declared: declared)
        recordSchemaChange("\(table.name).\(column.name): widened from \(oldType) to \(type) (\(declared ? "declared" : "inferred"))")
    }

    /// Writes `conversion` of every value of column `source` into column `target` (both quoted).
    private func convertValues(of table: WarehouseTable, from source: String, into target: String, _ conversion: TypeRules.Conversion)
        throws(SQLiteError)
    {
        switch conversion {
        case .none:
            if source != target { try database.execute("UPDATE \(table.quotedName) SET \(target) = \(source)") }
        case .sql(let template):
            try database.execute("UPDATE \(table.quotedName) SET \(target) = \(template.replacingOccurrences(of: "{}", with: source))")
        case .perValue(let convert):
            let rows = try database.query("SELECT rowid, \(source) FROM \(table.quotedName) WHERE \(source) IS NOT NULL")
            let statement = try database.prepare("UPDATE \(table.quotedName) SET \(target) = ?1 WHERE rowid = ?2")
            for row in rows {
                try statement.bind([convert(row[1]), row[0]])
                try statement.execute()
            }
        }
    }

    // MARK: Operations

    /// Sets the `_connector_synced` time for the operations that follow.
    func setSyncedTime(_ time: String) { syncedTime = Array(time.utf8) }

    /// The table named by `token`, creating it (without primary key) on first sight.
    func table(named name: String) throws -> WarehouseTable {
        if let table = tables[name] { return table }
        if let message = NameRules.problem(name, what: "table") { throw OperationProblem(column: nil, reason: message) }
        if let existingName = tableNamesByFoldedName[NameRules.folded(name)] {
            throw OperationProblem(column: nil, reason: NameRules.caseCollision(name, existing: existingName, what: "table"))
        }
        let table = try createTable(name: name, primaryKey: [], declared: [], inSchema: false)
        undeclaredTablesCreated.append(name)
        return table
    }

    /// Resolves each field to a column index, creating or widening undeclared columns as needed.
    /// Fields whose value is null and whose column does not exist yet are skipped (index -1).
    private func resolveColumns(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, into indexes: inout [Int]) throws {
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
                throw OperationProblem(column: name, reason: NameRules.caseCollision(name, existing: existingName, what: "column"))
            }
            try addColumn(to: table, name: name, type: TypeRules.inferredType(field.value, source), declared: false)
            indexes.append(table.columns.count - 1)
        }
    }

    /// Throws when an earlier field of the same operation already named column `index`: a member
    /// twice has no defined meaning in JSON, so the operation is refused rather than one value kept.
    @inline(__always)
    private static func checkNamedOnce(_ index: Int, _ named: inout UInt64, _ indexes: [Int], _ table: WarehouseTable)
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

    private static func namedTwice(_ column: String) -> OperationProblem {
        OperationProblem(column: column, reason: "column \(NameRules.quoted(column)) appears twice in the operation; send each column once")
    }

    @exclusivity(unchecked) private var columnIndexes: [Int] = []

    /// Applies an upsert.
    func upsert(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource) throws {
        try resolveColumns(table, fields, source, into: &columnIndexes)
        let statement = try upsertStatement(table)
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

    /// The table's cached upsert statement, prepared on first use.
    func upsertStatement(_ table: WarehouseTable) throws(SQLiteError) -> SQLiteStatement {
        if let cached = table.upsertStatement { return cached }
        let statement = try database.prepare(table.upsertSQL)
        table.upsertStatement = statement
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
        let statement: SQLiteStatement
        if let cached = table.updateStatements[valueColumns] {
            statement = cached
        } else {
            statement = try database.prepare(table.updateSQL(columnIndexes: valueColumns))
            table.updateStatements[valueColumns] = statement
        }
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
        let statement: SQLiteStatement
        if let cached = table.deleteStatement {
            statement = cached
        } else {
            statement = try database.prepare(table.deleteSQL)
            table.deleteStatement = statement
        }
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
        let statement: SQLiteStatement
        if let cached = table.truncateStatement {
            statement = cached
        } else {
            statement = try database.prepare(table.truncateSQL)
            table.truncateStatement = statement
        }
        syncedTime.withUnsafeBufferPointer { statement.bindText(borrowing: $0, at: 1) }
        try statement.execute()
        counts.truncates += 1
    }

    @inline(__always)
    private func bind(
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
            throw OperationProblem(column: table.columns[index].name, reason: error.reason)
        }
    }

    private func bindKeys(
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

    private func missingKey(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, boundKeys: UInt64) -> OperationProblem {
        for index in table.primaryKeyIndexes where boundKeys & (1 << UInt64(index)) == 0 {
            let name = table.columns[index].name
            let present = fields.contains { (try? source.string($0.key)) == name }
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
    private func isNull(_ value: FieldValue) -> Bool {
        if case .null = value { return true }
        return false
    }

    /// A stable id for a row of a table without primary key: a hash of its sorted non-null
    /// `column=value` pairs (values as sent), so identical rows collapse into one.
    private func rowHash(_ fields: [Field], _ source: RecordSource) -> String {
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

@available(*, unavailable)
extension Warehouse: Sendable {}

/// A 128-bit FNV-1a hash with length-prefixed inputs: stable across runs and platforms (unlike
/// Swift's `Hasher`, which is seeded per process).
struct StableHasher {
    private var high: UInt64 = 0x6C62_272E_07BB_0142
    private var low: UInt64 = 0x62B8_2175_6295_C58D

    mutating func combine(_ text: String) {
        var length = UInt64(text.utf8.count)
        for _ in 0..<8 {
            mix(UInt8(truncatingIfNeeded: length))
            length >>= 8
        }
        for byte in text.utf8 { mix(byte) }
    }

    private mutating func mix(_ byte: UInt8) {
        low ^= UInt64(byte)
        // Multiply the 128-bit state by the FNV-128 prime 2^88 + 0x13B.
        let product = low.multipliedFullWidth(by: 0x13B)
        let newHigh = high &* 0x13B &+ product.high &+ (low << 24)
        low = product.low
        high = newHigh
    }

    var hexDigest: String {
        let highText = String(high, radix: 16)
        let lowText = String(low, radix: 16)
        return String(repeating: "0", count: 16 - highText.count) + highText + String(repeating: "0", count: 16 - lowText.count) + lowText
    }
}
