import CConnectorSQLite
import ConnectorProtocol

/// Why an operation cannot be applied; the sync adds the op index, line and table.
struct OperationProblem: Error {
    var column: String?
    var reason: String
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
    var tables: [String: WarehouseTable] = [:]
    /// What this sync has done so far.
    @exclusivity(unchecked) public internal(set) var counts = OperationCounts()
    /// Tables created on first sight in this sync (not declared), for a warning.
    public internal(set) var undeclaredTablesCreated: [String] = []
    /// Each schema change of this sync (table created, column added or typed, column widened), in
    /// order, as one line for the report; ``OperationCounts/schemaChanges`` counts them.
    public internal(set) var schemaChangeLog: [String] = []
    /// Table names by their ASCII-folded form, to catch names SQLite would take for the same table.
    var tableNamesByFoldedName: [String: String] = [:]

    @exclusivity(unchecked) var binder = ValueBinder()
    /// The `_connector_synced` value of the operations being applied, as stable bytes.
    @exclusivity(unchecked) var syncedTime: [UInt8] = []
    @exclusivity(unchecked) var hashScratch: [(String, String)] = []
    @exclusivity(unchecked) var columnIndexes: [Int] = []

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
    func loadMetadata() throws(SQLiteError) {
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
}

@available(*, unavailable)
extension Warehouse: Sendable {}
