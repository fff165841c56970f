import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `file` member of an upsert or update, checked (PROTOCOL.md section 6.11).
struct FileAttachment {
    /// Where the file lands, relative to its table's folder; also the row's file-path value.
    var path: String
    /// The staged file (in the staging folder).
    var source: String
}

extension DestinationCatalog {
    /// The table's file-path column (6.3), added on its first file.
    func fileColumn(of table: WarehouseTable) throws -> String {
        let name = table.system.filePath
        if table.columns.contains(where: { $0.name == name }) { return name }
        try addColumn(to: table, name: name, type: ColumnType(.string), declared: false)
        return name
    }
}

extension Warehouse {
    /// Applies an upsert or update whose row carries a file: the op as usual, then the row's file-path
    /// column set to the file's path and the staged file queued for the next commit. The stored file
    /// a row pointed to before is removed at that commit when no row points to it any more; an update
    /// that finds no row stores nothing (its staged file is deleted).
    /// `sourceTable` and `sourceSchema` are the names the connector sent (the folder uses them, as
    /// Fivetran's does).
    func apply(
        _ kind: OperationKind, _ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?,
        file: FileAttachment, sourceTable: String, sourceSchema: String?
    ) throws {
        let hadColumn = table.columns.contains { $0.name == table.system.filePath }
        let previous = hadColumn ? try storedFilePath(table, column: table.system.filePath, fields, source, hints: hints) : nil
        switch kind {
        case .upsert: try upsert(table, fields, source, hints: hints)
        case .update: try update(table, fields, source, hints: hints)
        case .delete, .truncate: return
        }
        counts.fileUploads += 1
        if kind == .update, database.changes == 0 {
            unlink(file.source)
            return
        }
        // Added after the op's own columns, as Fivetran adds it.
        let column = try fileColumn(of: table)
        let located = try rowLocator(table, fields, source, hints: hints)
        guard let located else { return }
        defer { binder.recycle() }
        let statement = try database.prepare(
            "UPDATE \(table.quotedName) SET \(quoteIdentifier(column)) = ?1 WHERE \(located.condition)")
        statement.bind(file.path, at: 1)
        try located.bind(statement, 2)
        try statement.execute()
        let folder = FileStore.tableFolder(schema: sourceSchema, table: sourceTable)
        files.stage(file.source, to: folder + "/" + file.path)
        if let previous, previous != file.path {
            files.noteReplaced(table: table.name, column: column, value: previous, stored: folder + "/" + previous)
        }
    }

    /// The file path stored in the row the op names, before the op.
    private func storedFilePath(
        _ table: WarehouseTable, column: String, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?
    ) throws -> String? {
        guard let located = try rowLocator(table, fields, source, hints: hints) else { return nil }
        defer { binder.recycle() }
        let statement = try database.prepare("SELECT \(quoteIdentifier(column)) FROM \(table.quotedName) WHERE \(located.condition)")
        try located.bind(statement, 1)
        guard try statement.step(), case .text(let path) = statement.value(at: 0) else { return nil }
        return path
    }

    /// A WHERE condition finding the op's row (by primary key, or by row hash without one) and how to
    /// bind it from parameter `first` on; `nil` when a key column does not exist yet (no row can).
    private func rowLocator(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?) throws
        -> (condition: String, bind: (SQLiteStatement, Int) throws -> Void)?
    {
        guard table.hasPrimaryKey else {
            // The id the op gave the row (an upsert's, with its hints), or its keys' (keyHash).
            let hash = table.system == .fivetran ? fivetranRowHash(table, fields, source, hints: hints) : try keyHash(table, fields, source)
            return ("\(quoteIdentifier(table.system.rowID)) = ?", { statement, first in statement.bind(hash, at: first) })
        }
        var keyPositions = [Int](repeating: -1, count: table.primaryKeyIndexes.count)
        for (position, field) in fields.enumerated() {
            guard let name = try? source.string(field.key), let index = table.index(forSourceName: name),
                let keyPosition = table.primaryKeyIndexes.firstIndex(of: index), keyPositions[keyPosition] < 0
            else { continue }
            keyPositions[keyPosition] = position
        }
        guard !keyPositions.contains(-1), table.primaryKeyIndexes.allSatisfy({ table.columns[$0].type != nil }) else { return nil }
        let condition = table.primaryKeyIndexes.map { "\(quoteIdentifier(table.columns[$0].name)) = ?" }.joined(separator: " AND ")
        return (
            condition,
            { statement, first in try self.bindKeys(table, fields, keyPositions, source, statement, firstParameter: first) }
        )
    }
}

/// The SQLite warehouse's file journal: `_connector_file_moves` in the warehouse file.
struct SQLiteFileJournal: FileJournal {
    let database: SQLiteDatabase

    func anyRow(of table: String, column: String, is value: String) throws(SQLiteError) -> Bool {
        try !database.query("SELECT 1 FROM \(quoteIdentifier(table)) WHERE \(quoteIdentifier(column)) = ?1 LIMIT 1", [.text(value)]).isEmpty
    }

    func appendMove(source: String?, destination: String) throws(SQLiteError) {
        try database.run(
            #"INSERT INTO "_connector_file_moves" ("source", "destination") VALUES (?1, ?2)"#,
            [source.map(SQLiteValue.text) ?? .null, .text(destination)])
    }

    func recordedMoves() -> [(source: String?, destination: String)] {
        let rows = (try? database.query(#"SELECT "source", "destination" FROM "_connector_file_moves" ORDER BY "seq""#)) ?? []
        return rows.compactMap { row in
            guard case .text(let destination) = row[1] else { return nil }
            if case .text(let source) = row[0] { return (source, destination) }
            return (nil, destination)
        }
    }

    func clearMoves() { try? database.run(#"DELETE FROM "_connector_file_moves""#) }
}
