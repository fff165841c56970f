import CConnectorSQLite

/// The destructor SQLite should use for bound text and blobs.
enum SQLiteBinding {
    /// SQLite copies the bytes.
    static let transient = cconnector_sqlite_transient()
    /// The bytes stay valid until the statement is stepped and reset; SQLite does not copy them.
    static let `static` = cconnector_sqlite_static()
}

/// A value read from or bound to SQLite.
public enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue {
    /// The integer, when the value is one.
    var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text, when the value is text.
    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }
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
                bytes.withUnsafeBytes { raw in bindBlob(copying: raw, at: index + 1) }
            }
        }
    }

    /// Checks a bind's result code. A bind fails only for a parameter index out of range
    /// (SQLITE_RANGE) or a value longer than SQLite's limit (SQLITE_TOOBIG, 1e9 bytes): the first is
    /// a bug of the host's hand-numbered parameters, the second cannot come from a protocol line
    /// (the CLI caps lines below it). Asserted, as GRDB does, at no cost in release builds.
    @inline(__always)
    private func checked(_ code: Int32, _ index: Int) {
        assert(code == SQLITE_OK, "binding parameter \(index) of \(sql) failed: SQLite \(code), \(database.lastErrorMessage)")
    }

    @inline(__always) public func bindNull(_ index: Int) { checked(sqlite3_bind_null(handle, Int32(index)), index) }
    @inline(__always) public func bind(_ value: Int64, at index: Int) { checked(sqlite3_bind_int64(handle, Int32(index), value), index) }
    @inline(__always) public func bind(_ value: Double, at index: Int) { checked(sqlite3_bind_double(handle, Int32(index), value), index) }
    public func bind(_ value: String, at index: Int) {
        checked(sqlite3_bind_text(handle, Int32(index), value, -1, SQLiteBinding.transient), index)
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
            checked(sqlite3_bind_text(handle, Int32(index), "", 0, SQLiteBinding.transient), index)
            return
        }
        checked(
            sqlite3_bind_text(
                handle, Int32(index), UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(bytes.count), destructor),
            index)
    }

    /// Binds a blob, copying it.
    public func bindBlob(copying bytes: UnsafeRawBufferPointer, at index: Int) {
        checked(
            sqlite3_bind_blob(
                handle, Int32(index), bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), SQLiteBinding.transient),
            index)
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
        case SQLITE_TEXT:
            // By its length, not up to a NUL: a text written before NULs were refused reads back whole.
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let pointer = sqlite3_column_text(handle, column) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self))
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
