import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files on PostgreSQL (PROTOCOL.md 6.11), with the guarantees of the SQLite warehouse: the files
/// stay on this machine, in `files/storage/` of the connector's folder (as `fivetran debug` keeps
/// them), and the moves a checkpoint decides are journaled in the schema's `_connector_file_moves`
/// in the checkpoint's own transaction, carried out after its COMMIT, and finished by the next run
/// after a crash in between.
extension PostgresDestination {
    /// Gives the destination its file storage (beside the SQLite warehouse's place, `files/`) and
    /// finishes the moves a crash left between a commit and their renames.
    func attachFiles(_ store: FileStore) {
        files = store
        store.carryOut(in: fileJournal)
    }

    var fileJournal: PostgresFileJournal { PostgresFileJournal(connection: connection, schema: schema) }

    func prepareFileStaging() throws(SyncFailure) -> String? {
        guard let files else { return nil }
        try files.prepareStaging(keeping: files.journaledSources(in: fileJournal))
        return files.stagingRoot
    }

    func fileProblem(path: String, source: String, size: Int64?) -> String? {
        guard let files else { return "this destination stores no files" }
        return files.check(path: path, source: source, size: size)
    }

    /// Applies an upsert or update whose row carries a file, as ``Warehouse`` does: the op, then the
    /// row's file-path column set to the file's path (found again by its key, or its row id), the
    /// staged file queued for the next commit, and the file the row pointed to before noted for
    /// removal. Runs are sent first, so the row is in the database when it is looked up.
    func apply(
        _ kind: OperationKind, _ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?,
        file: FileAttachment, sourceTable: String, sourceSchema: String?
    ) throws {
        guard let files, kind == .upsert || kind == .update else { return }
        try flush()
        let filePath = table.system.filePath
        var previous: String?
        if table.columns.contains(where: { $0.name == filePath }), let located = try rowLocator(table, fields, source, hints: hints) {
            previous =
                try connection.query(
                    "SELECT \(quoteIdentifier(filePath)) FROM \(qualified(table.name)) WHERE \(located.condition(1))",
                    located.values
                ).first?.first ?? nil
        }
        if kind == .upsert { try upsert(table, fields, source, hints: hints) } else { try update(table, fields, source, hints: hints) }
        counts.fileUploads += 1
        try flush()
        // Added after the op's own columns, as Fivetran adds it.
        let column = try fileColumn(of: table)
        guard let located = try rowLocator(table, fields, source, hints: hints) else {
            unlink(file.source)
            return
        }
        let changed = try connection.run(
            "UPDATE \(qualified(table.name)) SET \(quoteIdentifier(column)) = $1 WHERE \(located.condition(2))",
            [file.path] + located.values)
        guard changed > 0 else {
            unlink(file.source)  // an update that found no row stores nothing
            return
        }
        let folder = FileStore.tableFolder(schema: sourceSchema, table: sourceTable)
        files.stage(file.source, to: folder + "/" + file.path)
        if let previous, previous != file.path {
            files.noteReplaced(table: table.name, column: column, value: previous, stored: folder + "/" + previous)
        }
    }

    /// The op's row: by its primary key (each value as its column stores it, in PostgreSQL's text
    /// form), or by its row id; `nil` when a key column does not exist yet (no row can).
    private func rowLocator(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?) throws
        -> (condition: (Int) -> String, values: [String?])?
    {
        guard table.hasPrimaryKey else {
            let id =
                table.system == .fivetran
                ? fivetranRowHash(table, fields, source, hints: hints)
                : try keyHash(table, fields, source, binder: &binder, scratch: &hashScratch)
            let name = quoteIdentifier(table.system.rowID)
            return ({ "\(name) = $\($0)" }, [id])
        }
        var keyPositions = [Int](repeating: -1, count: table.primaryKeyIndexes.count)
        for (position, field) in fields.enumerated() {
            guard let name = try? source.string(field.key), let index = table.index(forSourceName: name), index >= 0,
                let keyPosition = table.primaryKeyIndexes.firstIndex(of: index), keyPositions[keyPosition] < 0
            else { continue }
            keyPositions[keyPosition] = position
        }
        guard !keyPositions.contains(-1), table.primaryKeyIndexes.allSatisfy({ table.columns[$0].type != nil }) else { return nil }
        encoder.beginRow(types: [nil] + table.columns.map { $0.type?.dataType })
        defer { binder.recycle() }
        var values: [String?] = []
        for (keyPosition, fieldPosition) in keyPositions.enumerated() {
            let index = table.primaryKeyIndexes[keyPosition]
            try bind(fields[fieldPosition], column: index, of: table, source: source, at: index + 1)
            values.append(encoder.value(index + 1).map(Self.copyTextToText))
        }
        let names = table.primaryKeyIndexes.map { quoteIdentifier(table.columns[$0].name) }
        return ({ first in names.enumerated().map { "\($1) = $\(first + $0)" }.joined(separator: " AND ") }, values)
    }

    /// A value in COPY's text form as a parameter's text: COPY's backslash escapes undone.
    static func copyTextToText(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                index += 1
                switch bytes[index] {
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                default: out.append(bytes[index])
                }
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes this commit's file moves to the journal (in the open transaction).
    func journalFiles() throws(PostgresError) {
        try files?.journal(in: fileJournal)
    }

    /// Carries out the moves just committed; what fails is said (the rows stay committed; the
    /// journal keeps the moves for the next run).
    func finishFileMoves() {
        for problem in files?.carryOut(in: fileJournal) ?? [] { warningHandler?("warning: " + problem) }
    }

    /// At the end of a sync: the staging folder emptied of what no journal entry needs, and removed.
    func closeFileStaging() {
        files?.closeStaging(keeping: files?.journaledSources(in: fileJournal) ?? [])
    }
}

/// The PostgreSQL destination's file journal: `_connector_file_moves` in the connection's schema.
struct PostgresFileJournal: FileJournal {
    let connection: PostgresConnection
    /// The quoted schema.
    let schema: String

    func anyRow(of table: String, column: String, is value: String) throws(PostgresError) -> Bool {
        try !connection.query(
            "SELECT 1 FROM \(schema).\(quoteIdentifier(table)) WHERE \(quoteIdentifier(column)) = $1 LIMIT 1", [value]
        ).isEmpty
    }

    func appendMove(source: String?, destination: String) throws(PostgresError) {
        try connection.run(
            #"INSERT INTO \#(schema)."_connector_file_moves" ("source", "destination") VALUES ($1, $2)"#, [source, destination])
    }

    func recordedMoves() -> [(source: String?, destination: String)] {
        let rows = (try? connection.query(#"SELECT "source", "destination" FROM \#(schema)."_connector_file_moves" ORDER BY "seq""#)) ?? []
        return rows.compactMap { row in row[1].map { (row[0], $0) } }
    }

    func clearMoves() {
        // Outside a transaction this commits on its own (the moves are done); inside the next
        // sync's, it commits with it.
        _ = try? connection.run(#"DELETE FROM \#(schema)."_connector_file_moves""#)
    }
}
