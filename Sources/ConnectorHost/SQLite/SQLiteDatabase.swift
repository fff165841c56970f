import CConnectorSQLite

/// An SQLite failure: the result code, SQLite's message and the SQL that failed.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code.
    public let code: Int32
    public let message: String
    public let sql: String?
    /// The operating system's errno behind an I/O failure (e.g. ENOSPC, EFBIG, EROFS), 0 when none.
    public var systemErrno: Int32 = 0

    /// The primary result code (e.g. `SQLITE_FULL`, `SQLITE_BUSY`).
    public var primaryCode: Int32 { code & 0xFF }

    public var description: String {
        var text = "SQLite error \(code): \(message)"
        if primaryCode == SQLITE_FULL { text += " (the disk is full)" }
        if primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED {
            text += " (another process holds the warehouse; wait for it or stop it)"
        }
        if primaryCode == SQLITE_READONLY { text += " (the warehouse file or its directory is read-only)" }
        if let sql { text += " — in: \(sql.count > 200 ? String(sql.prefix(200)) + "…" : sql)" }
        return text
    }
}

/// The destructor SQLite should use for bound text and blobs.
enum SQLiteBinding {
    /// SQLite copies the bytes.
    static let transient = cconnector_sqlite_transient()
    /// The bytes stay valid until the statement is stepped and reset; SQLite does not copy them.
    static let `static` = cconnector_sqlite_static()
}

/// One SQLite connection.
///
/// Not Sendable: a connection is confined to the thread that runs the sync.
public final class SQLiteDatabase {
    let handle: OpaquePointer

    /// Opens (creating if needed) the database at `path`.
    /// - Throws: ``SQLiteError`` when the file cannot be opened.
    public init(path: String) throws(SQLiteError) {
        _ = Self.processSettings
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &pointer, flags, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(pointer)
            throw SQLiteError(code: status, message: "\(message) (\(path))", sql: nil)
        }
        handle = pointer
        sqlite3_extended_result_codes(handle, 1)
        _ = cconnector_sqlite_enable_defensive(handle)
    }

    /// Process-wide SQLite settings, applied once before the first connection opens: no memory
    /// statistics (they cost a global mutex per allocation, ~2% of the host's instructions per row).
    private static let processSettings: Void = { _ = cconnector_sqlite_disable_memory_statistics() }()

    /// Opens an existing database read-only.
    public init(readOnlyPath path: String) throws(SQLiteError) {
        var pointer: OpaquePointer?
        let status = sqlite3_open_v2(path, &pointer, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(pointer)
            throw SQLiteError(code: status, message: "\(message) (\(path))", sql: nil)
        }
        handle = pointer
    }

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

    /// Whether the connection can only read (the file, its folder or its file system is read-only).
    public var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    /// Whether a transaction is open.
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    func error(_ status: Int32, sql: String?) -> SQLiteError {
        SQLiteError(
            code: sqlite3_extended_errcode(handle) == 0 ? status : sqlite3_extended_errcode(handle), message: lastErrorMessage, sql: sql,
            systemErrno: sqlite3_system_errno(handle))
    }
}

@available(*, unavailable)
extension SQLiteDatabase: Sendable {}

/// A value read from or bound to SQLite.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A compiled statement; finalized when released.
public final class SQLiteStatement {
    let handle: OpaquePointer
    unowned let database: SQLiteDatabase
    /// The SQL text, for error messages.
    public let sql: String

    init(database: SQLiteDatabase, sql: String) throws(SQLiteError) {
        var pointer: OpaquePointer?
        let status = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil)
        guard status == SQLITE_OK, let pointer else { throw database.error(status, sql: sql) }
        handle = pointer
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `parameters` to ?1...?n.
    public func bind(_ parameters: [SQLiteValue]) throws(SQLiteError) {
        for (index, value) in parameters.enumerated() {
            switch value {
            case .null: bindNull(index + 1)
            case .integer(let number): bind(number, at: index + 1)
            case .real(let number): bind(number, at: index + 1)
            case .text(let text): bind(text, at: index + 1)
            case .blob(let bytes):
                bytes.withUnsafeBytes { raw in
                    _ = sqlite3_bind_blob(
                        handle, Int32(index + 1), raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count),
                        SQLiteBinding.transient)
                }
            }
        }
    }

    @inline(__always) public func bindNull(_ index: Int) { sqlite3_bind_null(handle, Int32(index)) }
    @inline(__always) public func bind(_ value: Int64, at index: Int) { sqlite3_bind_int64(handle, Int32(index), value) }
    @inline(__always) public func bind(_ value: Double, at index: Int) { sqlite3_bind_double(handle, Int32(index), value) }
    public func bind(_ value: String, at index: Int) {
        sqlite3_bind_text(handle, Int32(index), value, -1, SQLiteBinding.transient)
    }

    /// Binds UTF-8 text without copying; `bytes` must stay valid until the statement is reset.
    @inline(__always)
    public func bindText(borrowing bytes: UnsafeBufferPointer<UInt8>, at index: Int) {
        bindText(bytes, at: index, destructor: SQLiteBinding.static)
    }

    /// Binds UTF-8 text, copying it.
    @inline(__always)
    public func bindText(copying bytes: UnsafeBufferPointer<UInt8>, at index: Int) {
        bindText(bytes, at: index, destructor: SQLiteBinding.transient)
    }

    @inline(__always)
    private func bindText(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, destructor: sqlite3_destructor_type?) {
        guard let base = bytes.baseAddress else {
            sqlite3_bind_text(handle, Int32(index), "", 0, SQLiteBinding.transient)
            return
        }
        sqlite3_bind_text(handle, Int32(index), UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), destructor)
    }

    /// Binds a blob, copying it.
    public func bindBlob(copying bytes: UnsafeRawBufferPointer, at index: Int) {
        sqlite3_bind_blob(
            handle, Int32(index), bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), SQLiteBinding.transient)
    }

    /// Steps once. Returns `true` when a row is available, `false` when done.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let status = sqlite3_step(handle)
        if status == SQLITE_ROW { return true }
        if status == SQLITE_DONE { return false }
        let error = database.error(status, sql: sql)
        sqlite3_reset(handle)
        throw error
    }

    /// Runs the statement to completion and resets it, keeping its bindings.
    @inline(__always)
    public func execute() throws(SQLiteError) {
        let status = sqlite3_step(handle)
        guard status == SQLITE_DONE || status == SQLITE_ROW else {
            let error = database.error(status, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
        sqlite3_reset(handle)
    }

    /// Resets the statement so it can run again (bindings are kept).
    public func reset() { sqlite3_reset(handle) }

    /// Sets every parameter to NULL.
    @inline(__always) public func clearBindings() { sqlite3_clear_bindings(handle) }

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// The name of result column `index`.
    public func columnName(_ index: Int) -> String { String(cString: sqlite3_column_name(handle, Int32(index))) }

    /// The value of result column `index` of the current row.
    public func value(at index: Int) -> SQLiteValue {
        let column = Int32(index)
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(handle, column)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: pointer, count: count)))
        default: return .null
        }
    }
}

@available(*, unavailable)
extension SQLiteStatement: Sendable {}

/// Quotes an identifier for SQL: names are data, never SQL.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
