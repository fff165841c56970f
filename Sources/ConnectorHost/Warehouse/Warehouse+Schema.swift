import ConnectorProtocol

/// Why a declared schema cannot be applied to the existing warehouse.
public struct SchemaConflict: Error, Sendable, CustomStringConvertible {
    public let table: String
    public let reason: String
    public var description: String { "table \"\(table)\": \(reason)" }
}

extension DestinationCatalog {
    /// Creates declared tables, adds new columns and widens changed types.
    /// - Throws: ``SchemaConflict`` when the declaration contradicts the warehouse (a changed primary
    ///   key, a type that is not a widening, a name that differs from an existing one only in letter
    ///   case), or the destination's error.
    func applySchema(_ schema: [TableDefinition]) throws {
        for sourceDefinition in schema {
            let source = SourceTableName(schema: sourceDefinition.schema, name: sourceDefinition.name)
            let destination: (table: String, schema: String?)
            do { destination = try destinationName(of: source) } catch {
                throw SchemaConflict(table: sourceDefinition.name, reason: error.reason)
            }
            let definition = mapped(sourceDefinition, to: destination.table)
            let table: WarehouseTable
            if let existing = self.table(exactly: definition.name) {
                guard existing.schema == destination.schema else {
                    throw SchemaConflict(table: definition.name, reason: schemaClash(destination, existing))
                }
                table = existing
                if !NameRules.same(existing.primaryKey, definition.primaryKey) {
                    throw SchemaConflict(
                        table: definition.name,
                        reason:
                            "the primary key changed from \(describeKey(existing.primaryKey)) to \(describeKey(definition.primaryKey)); the warehouse keeps rows by the old key. Restore the old key, or run `connector-host reset` to start over"
                    )
                }
            } else if let existingName = tableNamesByFoldedName[NameRules.folded(definition.name)] {
                throw SchemaConflict(
                    table: definition.name, reason: NameRules.collision(definition.name, existing: existingName, what: "table"))
            } else {
                let probe = WarehouseTable(
                    name: definition.name, schema: nil, primaryKey: [], system: settings.systemColumns, naming: naming)
                for (name, _) in definition.columns {
                    if let problem = probe.rowidProblem(adding: name) { throw SchemaConflict(table: definition.name, reason: problem) }
                    probe.appendColumn(WarehouseColumn(name: name, type: nil, declared: true))
                }
                let count = Set(definition.columns.map(\.name) + definition.primaryKey).count
                if let problem = columnLimitProblem(count, hasPrimaryKey: !definition.primaryKey.isEmpty) {
                    throw SchemaConflict(table: definition.name, reason: "\(SyncReportFormatter.group(count)) columns are \(problem)")
                }
                let table = try createTable(
                    name: definition.name, schema: destination.schema, primaryKey: definition.primaryKey, declared: definition.columns)
                noteSource(source, of: table)
                tablesBySource[source] = table
                continue
            }
            noteSource(source, of: table)
            tablesBySource[source] = table
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
                        table: definition.name, reason: NameRules.collision(name, existing: existingName, what: "column"))
                } else {
                    if let problem = columnLimitProblem(table.columns.count + 1, hasPrimaryKey: table.hasPrimaryKey) {
                        throw SchemaConflict(
                            table: definition.name,
                            reason:
                                "declared column \(NameRules.quoted(name)) would be column \(SyncReportFormatter.group(table.columns.count + 1)), \(problem)"
                        )
                    }
                    if let problem = table.rowidProblem(adding: name) { throw SchemaConflict(table: definition.name, reason: problem) }
                    try addColumn(to: table, name: name, type: type, declared: true)
                }
            }
        }
    }

    /// The definition with its warehouse names: the SQLite table name, the column and key names as
    /// naming maps them. Of two declared columns that map to one name the first is kept, and a
    /// declared system column of the Fivetran profile is dropped (the host sets it); each said once.
    func mapped(_ definition: TableDefinition, to tableName: String) -> TableDefinition {
        var columns: [(name: String, type: ColumnType)] = []
        var sourceOfColumn: [String: String] = [:]
        for (sourceName, type) in definition.columns {
            let name = naming.column(sourceName)
            if settings.systemColumns == .fivetran, settings.systemColumns.contains(name) {
                warnOnce(
                    "table \(NameRules.quoted(tableName)): the declared column \(NameRules.quoted(sourceName)) is a system column of this warehouse; the host sets it"
                )
                continue
            }
            if let first = sourceOfColumn[name] {
                warnOnce(
                    "columns \(NameRules.quoted(first)) and \(NameRules.quoted(sourceName)) of table \(NameRules.quoted(tableName)) both become \(NameRules.quoted(name)) under Fivetran naming: the first declaration is kept"
                )
                continue
            }
            sourceOfColumn[name] = sourceName
            columns.append((name, type))
        }
        var key: [String] = []
        for column in definition.primaryKey.map(naming.column) where !key.contains(column) { key.append(column) }
        return TableDefinition(name: tableName, schema: definition.schema, primaryKey: key, columns: columns)
    }

    func describeKey(_ key: [String]) -> String {
        key.isEmpty ? "none (row hash)" : "(" + key.joined(separator: ", ") + ")"
    }

    func createTable(
        name: String, schema: String? = nil, primaryKey: [String], declared: [(name: String, type: ColumnType)],
        inferred: [(name: String, type: ColumnType)] = [], inSchema: Bool = true
    ) throws -> WarehouseTable {
        let table = WarehouseTable(name: name, schema: schema, primaryKey: primaryKey, system: settings.systemColumns, naming: naming)
        for (columnName, type) in declared { table.appendColumn(WarehouseColumn(name: columnName, type: type, declared: true)) }
        // The first columns of an undeclared table, as source names: mapped as an operation's would be,
        // and only those an operation would add (no problem name, no collision, no system column),
        // and only as many as fit: the operation that adds one too many is the one told so.
        var inferredCount = 0
        for (sourceName, type) in inferred where inferredCount < maximumColumns(hasPrimaryKey: !primaryKey.isEmpty) {
            let columnName = naming.column(sourceName)
            guard NameRules.problem(columnName, what: "column") == nil, table.columnName(matchingCase: columnName) == nil,
                !table.system.contains(columnName), table.rowidProblem(adding: columnName) == nil
            else { continue }
            table.appendColumn(WarehouseColumn(name: columnName, type: type, declared: false))
            inferredCount += 1
        }
        // Key columns not declared get their type from their first value.
        for keyColumn in primaryKey where table.columnIndex(named: keyColumn) == nil {
            table.appendColumn(WarehouseColumn(name: keyColumn, type: nil, declared: false))
        }
        try storeNewTable(table)
        tables[name] = table
        tableNamesByFoldedName[NameRules.folded(name)] = name
        recordSchemaChange(
            !inSchema
                ? "\(name): table created (not in the schema: no primary key, columns inferred)"
                : declared.isEmpty && primaryKey.isEmpty
                    ? "\(name): table created with no primary key, columns inferred"
                    : "\(name): table created with \(table.columns.count) column\(table.columns.count == 1 ? "" : "s"), primary key \(describeKey(primaryKey))"
        )
        // Logged as if added one by one, as they would have been without the look-ahead.
        for column in table.columns.suffix(inferredCount) {
            recordSchemaChange("\(name).\(column.name): column added as \(column.type.map { "\($0)" } ?? "untyped") (inferred)")
        }
        return table
    }

    func addColumn(to table: WarehouseTable, name: String, type: ColumnType?, declared: Bool) throws {
        table.appendColumn(WarehouseColumn(name: name, type: type, declared: declared))
        try storeAddedColumn(of: table)
        recordSchemaChange(
            "\(table.name).\(name): column added as \(type.map { "\($0)" } ?? "untyped") (\(declared ? "declared" : "inferred"))")
    }

    func recordSchemaChange(_ line: String) {
        counts.schemaChanges += 1
        schemaChangeLog.append(line)
    }

    /// Gives column `index` its type in the model and in storage, where no stored value changes
    /// (a first type, or an inferred type becoming declared).
    func setColumnType(_ table: WarehouseTable, _ index: Int, _ type: ColumnType, declared: Bool) throws {
        let previous = table.columns[index].type
        table.setType(type, declared: declared, ofColumn: index)
        try storeColumnType(of: table, index, previous: previous)
    }

    /// Changes a column to a wider type and converts its stored values so they read as the new type
    /// (the destination's ``DestinationCatalog/storeWidening(_:_:from:to:declared:)``).
    func widen(_ table: WarehouseTable, _ index: Int, to type: ColumnType, declared: Bool) throws {
        let column = table.columns[index]
        let oldType = column.type ?? type
        try storeWidening(table, index, from: oldType, to: type, declared: declared)
        recordSchemaChange("\(table.name).\(column.name): widened from \(oldType) to \(type) (\(declared ? "declared" : "inferred"))")
    }
}

/// The SQLite storage of the catalog: DDL on the warehouse file and the `_connector_tables` and
/// `_connector_columns` rows, in the sync's transaction.
extension Warehouse {
    /// Creates declared tables, adds new columns and widens changed types.
    /// - Throws: ``SchemaConflict`` when the declaration contradicts the warehouse (a changed primary
    ///   key, a type that is not a widening, a name that differs from an existing one only in letter
    ///   case), or ``SQLiteError``.
    public func apply(schema: [TableDefinition]) throws { try applySchema(schema) }

    func storeNewTable(_ table: WarehouseTable) throws {
        try database.execute(table.createSQL)
        let keyJSON = JSONWriter.string(.array(table.primaryKey.map(JSONValue.string)))
        try database.run(
            #"INSERT INTO "_connector_tables" ("name", "primary_key", "created_at", "schema") VALUES (?1, ?2, ?3, ?4)"#,
            [.text(table.name), .text(keyJSON), .text(TemporalValues.nowUTC()), table.schema.map(SQLiteValue.text) ?? .null])
        for (position, column) in table.columns.enumerated() { try saveColumn(table: table.name, column, position: position) }
    }

    func storeAddedColumn(of table: WarehouseTable) throws {
        let column = table.columns[table.columns.count - 1]
        let sqlType = TypeRules.sqlType(column.type)
        try database.execute("ALTER TABLE \(table.quotedName) ADD COLUMN \(quoteIdentifier(column.name)) \(sqlType)")
        try saveColumn(table: table.name, column, position: table.columns.count - 1)
    }

    func storeColumnType(of table: WarehouseTable, _ index: Int, previous: ColumnType?) throws {
        try saveColumn(table: table.name, table.columns[index], position: index)
    }

    /// SQLite names need nothing beyond ``NameRules``.
    func destinationNameProblem(_ name: String, what: String) -> String? { nil }

    func saveColumn(table: String, _ column: WarehouseColumn, position: Int) throws(SQLiteError) {
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

    func storeWidening(_ table: WarehouseTable, _ index: Int, from oldType: ColumnType, to type: ColumnType, declared: Bool) throws {
        let column = table.columns[index]
        let quoted = quoteIdentifier(column.name)
        let conversion = TypeRules.conversion(from: oldType, to: type)
        if TypeRules.sqlType(oldType) != TypeRules.sqlType(type), table.primaryKey.contains(where: { NameRules.same($0, column.name) }) {
            try rebuild(table, widening: index, from: oldType, to: type, declared: declared)
            return
        }
        if TypeRules.sqlType(oldType) != TypeRules.sqlType(type) {
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
        // The row hash is over stored values, which the conversion may have changed (1 became "1").
        var storedValuesChanged = TypeRules.sqlType(oldType) != TypeRules.sqlType(type)
        if case .none = conversion {} else { storedValuesChanged = true }
        if !table.hasPrimaryKey, storedValuesChanged { try rehashRows(of: table) }
    }

    /// Widens a primary-key column to another storage class. SQLite can neither change a column's
    /// affinity nor drop a key column, so the table is copied into a new one with the wider type,
    /// its values converted (``TypeRules/conversion(from:to:)``), and renamed over the old one, in the
    /// sync's transaction like any other change.
    func rebuild(_ table: WarehouseTable, widening index: Int, from oldType: ColumnType, to type: ColumnType, declared: Bool) throws {
        let conversion = TypeRules.conversion(from: oldType, to: type)
        let oldColumns = table.columnListSQL
        table.invalidateStatements()
        try setColumnType(table, index, type, declared: declared)
        let temporary = systemPrefix + "rebuilt"
        try database.execute(table.createSQL(named: temporary))
        var selected = table.columns.map { quoteIdentifier($0.name) }
        if case .sql(let template) = conversion {
            selected[index] = template.replacing("{}", with: quoteIdentifier(table.columns[index].name))
        }
        selected += table.systemColumnNames.map(quoteIdentifier)
        try database.execute(
            """
            INSERT INTO \(quoteIdentifier(temporary)) (\(oldColumns)) SELECT \(selected.joined(separator: ", ")) FROM \(table.quotedName);
            DROP TABLE \(table.quotedName);
            ALTER TABLE \(quoteIdentifier(temporary)) RENAME TO \(table.quotedName);
            """)
        if case .perValue = conversion {
            let quoted = quoteIdentifier(table.columns[index].name)
            try convertValues(of: table, from: quoted, into: quoted, conversion)
        }
    }

    /// Writes `conversion` of every value of column `source` into column `target` (both quoted).
    func convertValues(of table: WarehouseTable, from source: String, into target: String, _ conversion: TypeRules.Conversion)
        throws(SQLiteError)
    {
        switch conversion {
        case .none:
            if source != target { try database.execute("UPDATE \(table.quotedName) SET \(target) = \(source)") }
        case .sql(let template):
            try database.execute("UPDATE \(table.quotedName) SET \(target) = \(template.replacing("{}", with: source))")
        case .perValue(let convert):
            // By the row id under the name no column hides (a connector's column may be called rowid).
            let rowid = table.rowidName
            let rows = try database.query("SELECT \(rowid), \(source) FROM \(table.quotedName) WHERE \(source) IS NOT NULL")
            let statement = try database.prepare("UPDATE \(table.quotedName) SET \(target) = ?1 WHERE \(rowid) = ?2")
            for row in rows {
                try statement.bind([convert(row[1]), row[0]])
                try statement.execute()
            }
        }
    }
}
