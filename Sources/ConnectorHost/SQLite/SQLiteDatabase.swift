import CConnectorSQLite

/// One SQLite connection.
///
/// Not Sendable: a connection is confined to the thread that runs the sync.
public final class SQLiteDatabase {
    let handle: OpaquePointer

    /// Opens (creating if needed) the database at `path`.
    /// - Throws: ``SQLiteError`` when the file cannot be opened.
    public init(path: String) throws(SQLiteError) {
        // Never through a symbolic link: the host writes only its own files (WorkspaceFiles.checkOwnership).
        handle = try Self.openConnection(path: path, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW)
    }

    /// Opens an existing database read-only.
    /// - Throws: ``SQLiteError`` when the file cannot be opened.
    public init(readOnlyPath path: String) throws(SQLiteError) {
        handle = try Self.openConnection(path: path, flags: SQLITE_OPEN_READONLY)
    }

    /// The one way a connection opens, whatever the mode: extended result codes on (they are what
    /// tells a full disk from a read-only file system), the defensive flag set.
    private static func openConnection(path: String, flags: Int32) throws(SQLiteError) -> OpaquePointer {
        _ = processSettings
        var pointer: OpaquePointer?
        let status = sqlite3_open_v2(path, &pointer, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            let code = pointer.map { sqlite3_extended_errcode($0) } ?? status
            sqlite3_close(pointer)
            throw SQLiteError(code: code, message: "\(message) (\(path))", sql: nil)
        }
        sqlite3_extended_result_codes(pointer, 1)
        _ = cconnector_sqlite_enable_defensive(pointer)
        return pointer
    }

    /// Process-wide SQLite settings, applied once before the first connection opens: no memory
    /// statistics (they cost a global mutex per allocation, ~2% of the host's instructions per row).
    private static let processSettings: Void = { _ = cconnector_sqlite_disable_memory_statistics() }()

    deinit { sqlite3_close_v2(handle) }

    /// Runs one or more statements without results.
    public func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        guard status == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(errorMessage)
            throw SQLiteError(
                code: sqlite3_extended_errcode(handle), message: message, sql: sql, systemErrno: sqlite3_system_errno(handle))
        }
    }

    /// Compiles `sql` into a statement.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(database: self, sql: sql)
    }

    /// Runs a statement with parameters, for statements off the hot path.
    public func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws(SQLiteError) {
        let statement = try prepare(sql)
        try statement.bind(parameters)
        _ = try statement.step()
    }

    /// All rows of a query, each as its column values.
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(SQLiteError) -> [[SQLiteValue]] {
        let statement = try prepare(sql)
        try statement.bind(parameters)
        var rows: [[SQLiteValue]] = []
        while try statement.step() { rows.append((0..<statement.columnCount).map(statement.value(at:))) }
        return rows
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The connection's value of an SQLite limit (`SQLITE_LIMIT_COLUMN`, `SQLITE_LIMIT_LENGTH`, ...).
    public func limit(_ id: Int32) -> Int { Int(sqlite3_limit(handle, id, -1)) }

    /// Whether the connection can only read (the file, its folder or its file system is read-only).
    public var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    /// Whether a transaction is open.
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: Transactions

    /// How a transaction takes its locks (<https://sqlite.org/lang_transaction.html>).
    public enum TransactionKind: String, Sendable {
        /// Locks on first read or write.
        case deferred = "DEFERRED"
        /// Takes the write lock at once: a transaction that will write fails now, not halfway.
        case immediate = "IMMEDIATE"
        /// As immediate (in WAL mode).
        case exclusive = "EXCLUSIVE"
    }

    /// Opens a transaction.
    public func beginTransaction(_ kind: TransactionKind = .deferred) throws(SQLiteError) {
        try execute("BEGIN \(kind.rawValue)")
    }

    /// Commits the open transaction.
    public func commit() throws(SQLiteError) {
        try execute("COMMIT")
    }

    /// Rolls back the open transaction, if one is open (SQLite may already have rolled it back
    /// after an I/O error; a ROLLBACK then would fail).
    public func rollback() throws(SQLiteError) {
        if isInTransaction { try execute("ROLLBACK") }
    }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    func error(_ status: Int32, sql: String?) -> SQLiteError {
        SQLiteError(
            code: sqlite3_extended_errcode(handle) == 0 ? status : sqlite3_extended_errcode(handle), message: lastErrorMessage, sql: sql,
            systemErrno: sqlite3_system_errno(handle))
    }
}

@available(*, unavailable)
extension SQLiteDatabase: Sendable {}

/// Quotes an identifier for SQL: names are data, never SQL.
public func quoteIdentifier(_ name: String) -> String {
    guard name.contains("\"") else { return "\"" + name + "\"" }
    return "\"" + name.replacing("\"", with: "\"\"") + "\""
}
