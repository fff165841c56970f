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
