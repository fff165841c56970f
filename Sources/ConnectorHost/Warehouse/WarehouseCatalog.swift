import ConnectorProtocol

/// The warehouse's own tables — `_connector_tables`, `_connector_columns`, `_connector_state` and
/// `_connector_syncs` — in one place: their DDL, and how the table catalog and the sync history are
/// read and written. ``Warehouse`` and ``Inspector`` both go through it, so a column added here is
/// added for both.
enum WarehouseCatalog {
    /// Creates the catalog tables when they are missing.
    static var createSQL: String {
        """
        CREATE TABLE IF NOT EXISTS "_connector_tables" (
            "name" TEXT PRIMARY KEY, "primary_key" TEXT NOT NULL, "created_at" TEXT NOT NULL, "schema" TEXT);
        CREATE TABLE IF NOT EXISTS "_connector_columns" (
            "table_name" TEXT NOT NULL, "column_name" TEXT NOT NULL, "position" INTEGER NOT NULL,
            "type" TEXT, "precision" INTEGER, "scale" INTEGER, "declared" INTEGER NOT NULL,
            PRIMARY KEY ("table_name", "column_name"));
        CREATE TABLE IF NOT EXISTS "_connector_state" (
            "id" INTEGER PRIMARY KEY CHECK ("id" = 1), "state" TEXT NOT NULL, "updated_at" TEXT NOT NULL,
            "mirror" TEXT, "mirror_identity" TEXT, "previous_mirror_identity" TEXT);
        CREATE TABLE IF NOT EXISTS "_connector_syncs" (
            "id" INTEGER PRIMARY KEY AUTOINCREMENT, "started_at" TEXT NOT NULL, "ended_at" TEXT,
            "status" TEXT NOT NULL, "connector" TEXT, \(countColumns.map { "\(quoteIdentifier($0.name)) INTEGER NOT NULL DEFAULT 0" }.joined(separator: ", ")),
            "error" TEXT, \(addedSyncColumns.map { "\(quoteIdentifier($0.name)) \($0.type)" }.joined(separator: ", ")),
            "warning_messages" TEXT);
        CREATE TABLE IF NOT EXISTS "_connector_settings" ("key" TEXT PRIMARY KEY, "value" TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS "_connector_file_moves" (
            "seq" INTEGER PRIMARY KEY AUTOINCREMENT, "source" TEXT, "destination" TEXT NOT NULL);
        """
    }

    /// Columns of `_connector_syncs` added after the first release, which ``upgrade(_:)`` adds to older warehouses.
    static let addedSyncColumns: [(name: String, type: String)] = [
        ("connector_name", "TEXT"), ("connector_version", "TEXT"),
        // The connection and package of a `run --connection` sync.
        ("connection", "TEXT"), ("package_id", "TEXT"), ("package_sha256", "TEXT"),
    ]

    /// Columns of the other catalog tables added after the first release (a table's destination
    /// schema; what the state row knows of its mirror, PROTOCOL.md 12.1), and count columns of the
    /// history added after it, which ``upgrade(_:)`` adds to older warehouses too.
    static let addedColumns: [(table: String, name: String, type: String)] = [
        ("_connector_tables", "schema", "TEXT"), ("_connector_state", "mirror", "TEXT"),
        ("_connector_state", "mirror_identity", "TEXT"), ("_connector_state", "previous_mirror_identity", "TEXT"),
        ("_connector_syncs", "file_uploads", "INTEGER NOT NULL DEFAULT 0"), ("_connector_syncs", "warnings", "INTEGER NOT NULL DEFAULT 0"),
        ("_connector_syncs", "warning_messages", "TEXT"),
    ]

    /// Adds the columns of ``addedSyncColumns`` that an older warehouse lacks.
    static func upgrade(_ database: SQLiteDatabase) throws(SQLiteError) {
        let present = Set(try syncColumnNames(database))
        for column in addedColumns {
            let exists = try database.query(
                "SELECT 1 FROM pragma_table_info(?1) WHERE \"name\" = ?2", [.text(column.table), .text(column.name)])
            if exists.isEmpty {
                try database.execute(
                    "ALTER TABLE \(quoteIdentifier(column.table)) ADD COLUMN \(quoteIdentifier(column.name)) \(column.type)")
            }
        }
        for column in addedSyncColumns where !present.contains(column.name) {
            try database.execute(#"ALTER TABLE "_connector_syncs" ADD COLUMN "# + "\(quoteIdentifier(column.name)) \(column.type)")
        }
    }

    /// The columns `_connector_syncs` has (older warehouses lack the added ones).
    static func syncColumnNames(_ database: SQLiteDatabase) throws(SQLiteError) -> [String] {
        try database.query(#"SELECT "name" FROM pragma_table_info('_connector_syncs')"#).compactMap(\.first?.text)
    }

    // MARK: Tables and columns

    /// A column as the catalog records it.
    struct Column: Equatable {
        var name: String
        /// `nil` while the column has seen only nulls.
        var type: ColumnType?
        var declared: Bool
    }

    /// A table as the catalog records it.
    struct Table: Equatable {
        var name: String
        /// The destination schema, `nil` for the default one.
        var schema: String?
        var primaryKey: [String]
        /// In position order.
        var columns: [Column]
    }

    /// Every table of the catalog, sorted by name, with its columns in position order.
    static func tables(in database: SQLiteDatabase) throws(SQLiteError) -> [Table] {
        var tables: [Table] = []
        var indexByName: [String: Int] = [:]
        for row in try database.query(#"SELECT "name", "primary_key", "schema" FROM "_connector_tables" ORDER BY "name""#) {
            guard case .text(let name) = row[0], case .text(let keyJSON) = row[1] else { continue }
            let primaryKey = (try? JSONParser.parse(keyJSON))?.arrayValue?.compactMap(\.stringValue) ?? []
            var schema: String?
            if case .text(let value) = row[2] { schema = value }
            indexByName[name] = tables.count
            tables.append(Table(name: name, schema: schema, primaryKey: primaryKey, columns: []))
        }
        let columnRows = try database.query(
            #"SELECT "table_name", "column_name", "type", "precision", "scale", "declared" FROM "_connector_columns" ORDER BY "table_name", "position""#
        )
        for row in columnRows {
            guard case .text(let tableName) = row[0], case .text(let columnName) = row[1], let index = indexByName[tableName]
            else { continue }
            var type: ColumnType?
            if case .text(let typeName) = row[2], let dataType = DataType(rawValue: typeName) {
                type = ColumnType(dataType, precision: row[3].integer.map(Int.init), scale: row[4].integer.map(Int.init))
            }
            tables[index].columns.append(Column(name: columnName, type: type, declared: row[5] == .integer(1)))
        }
        return tables
    }

    // MARK: Sync history

    /// The `_connector_syncs` column of each of ``OperationCounts``' counters, in column order: the
    /// one list the history is written and read by.
    static var countColumns: [(name: String, keyPath: WritableKeyPath<OperationCounts, Int>)] {
        [
            ("upserts", \.upserts), ("updates", \.updates), ("deletes", \.deletes), ("truncates", \.truncates),
            ("checkpoints", \.checkpoints), ("schema_changes", \.schemaChanges), ("noop_updates", \.noopUpdates),
            ("noop_deletes", \.noopDeletes), ("file_uploads", \.fileUploads), ("warnings", \.warnings),
        ]
    }

    /// The count columns, quoted and comma-separated, for a SELECT.
    static var countColumnList: String { countColumns.map { quoteIdentifier($0.name) }.joined(separator: ", ") }

    /// Records the end of sync `id`: its status, counts and error.
    static func recordSyncEnd(
        in database: SQLiteDatabase, id: Int64, status: String, counts: OperationCounts, error: String?, at time: String
    )
        throws(SQLiteError)
    {
        let columns = countColumns
        let assignments = columns.enumerated().map { "\(quoteIdentifier($1.name)) = ?\($0 + 3)" }.joined(separator: ", ")
        try database.run(
            #"UPDATE "_connector_syncs" SET "ended_at" = ?1, "status" = ?2, "#
                + "\(assignments), \"error\" = ?\(columns.count + 3) WHERE \"id\" = ?\(columns.count + 4)",
            [.text(time), .text(status)] + columns.map { .integer(Int64(counts[keyPath: $0.keyPath])) } + [
                error.map(SQLiteValue.text) ?? .null, .integer(id),
            ])
    }

    /// The counts read from `values`, in the order of ``countColumns``.
    static func counts<Values: Collection<SQLiteValue>>(from values: Values) -> OperationCounts {
        var counts = OperationCounts()
        for (column, value) in zip(countColumns, values) { counts[keyPath: column.keyPath] = Int(value.integer ?? 0) }
        return counts
    }
}
