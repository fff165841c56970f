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
public final class Warehouse: DestinationCatalog {
    let database: SQLiteDatabase
    /// The file path.
    public let path: String
    var tables: [String: WarehouseTable] = [:]
    /// How this warehouse lands data (``settle(naming:fivetranConnector:)`` fixes it on the first sync).
    public internal(set) var settings = WarehouseSettings.legacy
    /// Tables by the (schema, table) a connector names them with, resolved once per distinct pair.
    var tablesBySource: [SourceTableName: WarehouseTable] = [:]
    /// The first source name that mapped to each table, to notice a second one (a naming collision).
    var sourceNameOfTable: [String: SourceTableName] = [:]
    /// Said once each: naming collisions, values for system columns that were dropped.
    var warned: Set<String> = []
    /// The connector's warnings shown in this sync (the first ten), recorded in its history.
    public var syncWarnings: [String] = []
    /// Where the warehouse's warnings go (the session shows them to the user).
    public var warningHandler: (@Sendable (String) -> Void)?
    /// What this sync has done so far: every operation received and applied, including those a
    /// failure then rolls back.
    @exclusivity(unchecked) public internal(set) var counts = OperationCounts()
    /// What this sync has committed: ``counts`` as of its last checkpoint (or its successful end).
    public internal(set) var committedCounts = OperationCounts()
    /// Tables created on first sight in this sync (not declared), for a warning.
    public internal(set) var undeclaredTablesCreated: [String] = []
    /// Each schema change of this sync (table created, column added or typed, column widened), in
    /// order, as one line for the report; ``OperationCounts/schemaChanges`` counts them.
    public internal(set) var schemaChangeLog: [String] = []
    /// Table names by their ASCII-folded form, to catch names SQLite would take for the same table.
    var tableNamesByFoldedName: [String: String] = [:]
    /// The files rows carry: staged, moved into storage at commits, removed when unreferenced.
    let files: FileStore
    /// Masks the configuration's secrets in the values that messages about invalid operations quote.
    var redactor = Redactor.none
    /// ``DestinationCatalog``'s bookkeeping of the schema changes a rollback undid.
    var committedSchemaChanges = 0
    public internal(set) var rolledBackSchemaChanges = 0

    @exclusivity(unchecked) var binder = ValueBinder()
    /// The `_connector_synced` value of the operations being applied, as stable bytes.
    @exclusivity(unchecked) var syncedTime: [UInt8] = []
    /// The non-null columns of the row being hashed (a table without primary key), for ``RowHash``.
    @exclusivity(unchecked) var hashScratch: [(name: [UInt8], value: CanonicalValue)] = []
    @exclusivity(unchecked) var columnIndexes: [Int] = []

    /// Opens or creates the warehouse at `path` and loads its metadata.
    /// - Throws: ``SQLiteError`` when the file cannot be opened, is not a database, or is locked.
    public init(path: String) throws(SQLiteError) {
        self.path = path
        files = FileStore(warehousePath: path)
        database = try SQLiteDatabase(path: path)
        try database.execute(
            """
            PRAGMA busy_timeout = 2000;
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            """)
        // One transaction for the catalog's DDL and upgrades: a new warehouse is one commit (one
        // fsync) rather than one per table. Deferred: an up-to-date warehouse writes nothing and
        // takes no write lock.
        try database.beginTransaction(.deferred)
        do throws(SQLiteError) {
            try database.execute(WarehouseCatalog.createSQL)
            try WarehouseCatalog.upgrade(database)
            try database.commit()
        } catch {
            try? database.rollback()
            throw error
        }
        try loadMetadata()
        // File moves a crash left between a commit and their renames (FileStore).
        files.carryOut(in: SQLiteFileJournal(database: database))
    }

    /// Reads the table and column metadata into memory (also after a rollback, which may undo DDL).
    func loadMetadata() throws(SQLiteError) {
        tables.removeAll()
        tableNamesByFoldedName.removeAll()
        tablesBySource.removeAll()
        sourceNameOfTable.removeAll()
        settings = try WarehouseSettings.stored(in: database) ?? .legacy
        for entry in try WarehouseCatalog.tables(in: database) {
            let table = WarehouseTable(
                name: entry.name, schema: entry.schema, primaryKey: entry.primaryKey, system: settings.systemColumns, naming: naming)
            for column in entry.columns {
                table.appendColumn(WarehouseColumn(name: column.name, type: column.type, declared: column.declared))
            }
            tables[entry.name] = table
            tableNamesByFoldedName[NameRules.folded(entry.name)] = entry.name
        }
    }
}

@available(*, unavailable)
extension Warehouse: Sendable {}

/// A table as a connector names it: its destination schema (`nil` for the default one) and name.
///
/// Compared byte for byte: Swift's String equality would take a canonically equivalent spelling
/// (`cafe\u{301}` for `café`) for the same name, which SQLite does not.
struct SourceTableName: Hashable {
    var schema: String?
    var name: String

    static func == (lhs: SourceTableName, rhs: SourceTableName) -> Bool {
        NameRules.same(lhs.name, rhs.name) && lhs.schema?.utf8.elementsEqual(rhs.schema?.utf8 ?? "".utf8) ?? (rhs.schema == nil)
            && (lhs.schema == nil) == (rhs.schema == nil)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(Array(name.utf8))
        hasher.combine(schema.map { Array($0.utf8) })
    }

    /// `name`, or `schema.name`, quoted, for messages.
    var shown: String { schema.map { NameRules.quoted($0) + "." }.map { $0 + NameRules.quoted(name) } ?? NameRules.quoted(name) }
}

/// SQLite's limits, checked before SQLite would hit them, so a connector learns which limit and
/// what to send instead (not a "warehouse" error quoting SQL).
extension Warehouse {
    /// SQLite's number of columns per table (`SQLITE_MAX_COLUMN`, 2,000 by default).
    var tableColumnLimit: Int { database.limit(SQLITE_LIMIT_COLUMN) }
    var tableColumnLimitSource: String {
        "SQLite allows \(SyncReportFormatter.group(tableColumnLimit)) columns per table (SQLITE_MAX_COLUMN)"
    }

    /// Runs an operation's statement; SQLite's size limit for a value or a row becomes an error of the operation.
    @inline(__always)
    func execute(_ statement: SQLiteStatement) throws {
        let failure: SQLiteError
        do throws(SQLiteError) {
            try statement.execute()
            return
        } catch {
            failure = error
        }
        guard failure.primaryCode == SQLITE_TOOBIG else { throw failure }
        throw tooBig()
    }

    private func tooBig() -> OperationProblem {
        OperationProblem(
            column: nil,
            reason:
                "a value or the row is larger than SQLite allows (\(SyncReportFormatter.group(database.limit(SQLITE_LIMIT_LENGTH))) bytes, SQLITE_MAX_LENGTH); send smaller values (split a large document, or store it elsewhere and send its location)"
        )
    }
}
