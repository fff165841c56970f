import CConnectorSQLite

/// An SQLite result code (<https://sqlite.org/rescode.html>): a primary code in the low byte, an
/// extended code in the whole value.
///
/// A primary constant matches its extended codes in patterns, so `case .ioError:` also catches
/// `SQLITE_IOERR_WRITE`; compare with `==` for one exact code.
public struct SQLiteResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The primary code (the low byte).
    public var primary: SQLiteResultCode { SQLiteResultCode(rawValue: rawValue & 0xFF) }

    public static let ok = SQLiteResultCode(rawValue: SQLITE_OK)
    public static let error = SQLiteResultCode(rawValue: SQLITE_ERROR)
    public static let permission = SQLiteResultCode(rawValue: SQLITE_PERM)
    public static let busy = SQLiteResultCode(rawValue: SQLITE_BUSY)
    public static let locked = SQLiteResultCode(rawValue: SQLITE_LOCKED)
    public static let readOnly = SQLiteResultCode(rawValue: SQLITE_READONLY)
    public static let ioError = SQLiteResultCode(rawValue: SQLITE_IOERR)
    public static let corrupt = SQLiteResultCode(rawValue: SQLITE_CORRUPT)
    public static let full = SQLiteResultCode(rawValue: SQLITE_FULL)
    public static let cannotOpen = SQLiteResultCode(rawValue: SQLITE_CANTOPEN)
    public static let constraint = SQLiteResultCode(rawValue: SQLITE_CONSTRAINT)
    public static let tooBig = SQLiteResultCode(rawValue: SQLITE_TOOBIG)
    public static let notADatabase = SQLiteResultCode(rawValue: SQLITE_NOTADB)

    /// A primary code matches itself and each of its extended codes; an extended code only itself.
    public static func ~= (pattern: SQLiteResultCode, code: SQLiteResultCode) -> Bool {
        pattern.rawValue & ~0xFF == 0 ? pattern.rawValue == code.primary.rawValue : pattern == code
    }

    /// The number, as SQLite documents it (`"778"`).
    public var description: String { String(rawValue) }
}

/// An SQLite failure: the result code, SQLite's message and the SQL that failed.
///
/// The description says what failed, never what to do about it: advice for the user is
/// ``WarehouseProblem``'s, which knows the file and what the host was doing.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code.
    public let code: SQLiteResultCode
    public let message: String
    public let sql: String?
    /// The operating system's errno behind an I/O failure (e.g. ENOSPC, EFBIG, EROFS), 0 when none.
    public var systemErrno: Int32 = 0

    public init(code: SQLiteResultCode, message: String, sql: String?, systemErrno: Int32 = 0) {
        self.code = code
        self.message = message
        self.sql = sql
        self.systemErrno = systemErrno
    }

    /// An error with a raw result code.
    public init(code: Int32, message: String, sql: String?, systemErrno: Int32 = 0) {
        self.init(code: SQLiteResultCode(rawValue: code), message: message, sql: sql, systemErrno: systemErrno)
    }

    /// The primary result code (e.g. `SQLITE_FULL`, `SQLITE_BUSY`).
    public var primaryCode: Int32 { code.primary.rawValue }

    public var description: String {
        var text = "SQLite error \(code): \(message)"
        if let sql { text += " — in: \(sql.count > 200 ? String(sql.prefix(200)) + "…" : sql)" }
        return text
    }
}
