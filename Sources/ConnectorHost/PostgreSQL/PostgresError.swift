/// A five-character SQLSTATE code (PostgreSQL's error codes, appendix A of its manual), as an open
/// set: codes without a name here still compare and print.
public struct SQLState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The class: the first two characters (`23` integrity constraint violation, `08` connection exception, ...).
    public var errorClass: String { String(rawValue.prefix(2)) }
    public var description: String { rawValue }

    public static let uniqueViolation = SQLState(rawValue: "23505")
    public static let undefinedTable = SQLState(rawValue: "42P01")
    public static let undefinedColumn = SQLState(rawValue: "42703")
    public static let invalidSchemaName = SQLState(rawValue: "3F000")
    public static let insufficientPrivilege = SQLState(rawValue: "42501")
    public static let readOnlySQLTransaction = SQLState(rawValue: "25006")
    public static let diskFull = SQLState(rawValue: "53100")
    public static let outOfMemory = SQLState(rawValue: "53200")
    public static let tooManyConnections = SQLState(rawValue: "53300")
    public static let queryCanceled = SQLState(rawValue: "57014")
    public static let adminShutdown = SQLState(rawValue: "57P01")
    public static let serializationFailure = SQLState(rawValue: "40001")
    public static let deadlockDetected = SQLState(rawValue: "40P01")
    public static let lockNotAvailable = SQLState(rawValue: "55P03")
    public static let invalidPassword = SQLState(rawValue: "28P01")
    public static let invalidAuthorization = SQLState(rawValue: "28000")
    public static let invalidCatalogName = SQLState(rawValue: "3D000")
}

/// A PostgreSQL failure: the server's SQLSTATE and message (with its detail and hint), or libpq's
/// message when the server never answered (no connection, connection lost), and the SQL that failed.
///
/// Messages come from the server and libpq, which never repeat a password; the host still masks
/// the destination's secrets in everything it shows.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The server's error code; `nil` when the error is libpq's own (connecting, a lost connection).
    public let sqlState: SQLState?
    /// The primary message.
    public let message: String
    public var detail: String?
    public var hint: String?
    /// The statement that failed, when there was one.
    public var sql: String?
    /// Whether the connection is gone (the server stopped, the network failed): nothing more can be
    /// sent on it, and the server rolls back whatever was not committed.
    public var connectionLost = false

    public init(sqlState: SQLState?, message: String, detail: String? = nil, hint: String? = nil, sql: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.sql = sql
    }

    public var description: String {
        var text = "PostgreSQL error" + (sqlState.map { " \($0)" } ?? "") + ": " + message
        if let detail { text += " (\(detail))" }
        if let hint { text += "; hint: \(hint)" }
        switch sqlState {
        case .diskFull?: text += " (the database server's disk is full)"
        case .insufficientPrivilege?: text += " (the destination's user lacks a privilege: grant it, or use another user)"
        case .readOnlySQLTransaction?: text += " (the server is read-only, e.g. a standby: use the primary)"
        default: break
        }
        if connectionLost { text += " (the connection to the server is lost; whatever was not committed is rolled back)" }
        if let sql { text += " — in: \(sql.count > 200 ? String(sql.prefix(200)) + "…" : sql)" }
        return text
    }
}
