import CConnectorPostgres
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One libpq connection: statements in text format, parameters as text, COPY FROM STDIN.
///
/// Not Sendable: like the SQLite connection it is confined to the thread that runs the sync. Every
/// call blocks until the server answers.
public final class PostgresConnection {
    let handle: OpaquePointer
    /// The destination's secrets, masked in every message this connection produces.
    private let secrets: [String]

    /// Connects to `address`.
    /// - Parameters:
    ///   - applicationName: shown in `pg_stat_activity`; how another host names the holder of a lock.
    /// - Throws: ``PostgresError`` (no SQLSTATE) when the server cannot be reached or refuses the login.
    public init(address: PostgresAddress, applicationName: String) throws(PostgresError) {
        // libpq is opened on the first connection, not linked (CConnectorPostgres.h says why).
        if let problem = cconnector_postgres_load() { throw PostgresError(sqlState: nil, message: String(cString: problem)) }
        // Keywords are processed in order: the URI (dbname, expanded) overrides the default timeout,
        // and the host's own settings after it override the URI's.
        let keywords = ["connect_timeout", "dbname", "application_name", "client_encoding"]
        let values = ["10", address.uri, applicationName, "UTF8"]
        let connection = Self.withCStrings(keywords) { keywordPointers in
            Self.withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else { throw PostgresError(sqlState: nil, message: "out of memory while connecting") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(String(cString: PQerrorMessage(connection)))
            PQfinish(connection)
            throw PostgresError(sqlState: nil, message: Redaction.redact(message, secrets: address.secrets))
        }
        handle = connection
        secrets = address.secrets
        cconnector_postgres_silence_notices(handle)
    }

    deinit { PQfinish(handle) }

    /// The server's version as a number (150004 for 15.4).
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// The process id of this connection's server backend (as `pg_stat_activity.pid` shows it).
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// Whether the connection still works as far as libpq knows.
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The server's transaction state, as of the last command.
    public var transactionStatus: TransactionStatus {
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: .idle
        case PQTRANS_INTRANS: .inTransaction
        case PQTRANS_INERROR: .failedTransaction
        case PQTRANS_ACTIVE: .active
        default: .unknown
        }
    }

    /// Where the connection is with respect to transactions.
    public enum TransactionStatus: Sendable {
        case idle, active, inTransaction, failedTransaction, unknown
    }

    /// Ends a COPY that streams across calls (the destination's current run, sent while it is
    /// still being read) before any other statement: a statement cannot interleave with a COPY.
    /// Cleared before it is called.
    var finishStreamedCopy: (() throws(PostgresError) -> Void)?

    @inline(__always)
    private func endStreamedCopy() throws(PostgresError) {
        guard let finish = finishStreamedCopy else { return }
        finishStreamedCopy = nil
        try finish()
    }

    /// Runs one or more statements without parameters (the simple query protocol).
    public func execute(_ sql: String) throws(PostgresError) {
        try endStreamedCopy()
        let result = PQexec(handle, sql)
        try check(result, sql: sql, accepting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        PQclear(result)
    }

    /// Runs one statement with text parameters `$1...$n` (`nil` is NULL).
    /// - Returns: the number of rows it inserted, updated or deleted (0 for other statements).
    @discardableResult
    public func run(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> Int {
        let result = try executeParameters(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// All rows of a query, each value as the server's text form (`nil` for NULL).
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> [[String?]] {
        let result = try executeParameters(sql, parameters)
        defer { PQclear(result) }
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
            rows.append(values)
        }
        return rows
    }

    /// All rows of a query with the type (OID) of each result column, as ``query(_:_:)`` gives them.
    public func typedQuery(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> (types: [UInt32], rows: [[String?]]) {
        let result = try executeParameters(sql, parameters)
        defer { PQclear(result) }
        let types = (0..<PQnfields(result)).map { UInt32(PQftype(result, $0)) }
        var rows: [[String?]] = []
        for row in 0..<PQntuples(result) {
            rows.append(
                (0..<PQnfields(result)).map { column in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                })
        }
        return (types, rows)
    }

    /// The first column of the first row of a query, or `nil` when it has no row or the value is NULL.
    public func scalar(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> String? {
        try query(sql, parameters).first?.first ?? nil
    }

    private func executeParameters(_ sql: String, _ parameters: [String?]) throws(PostgresError) -> OpaquePointer {
        try endStreamedCopy()
        let result: OpaquePointer? = Self.withOptionalCStrings(parameters) { pointers in
            PQexecParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        try check(result, sql: sql, accepting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        return result!
    }

    /// Prepares `sql` as the named statement `name` (for ``runPrepared(_:_:)``).
    public func prepare(_ name: String, _ sql: String) throws(PostgresError) {
        try endStreamedCopy()
        let result = PQprepare(handle, name, sql, 0, nil)
        try check(result, sql: sql, accepting: [PGRES_COMMAND_OK])
        PQclear(result)
    }

    /// Runs the prepared statement `name` with text parameters (`nil` is NULL).
    /// - Returns: the number of rows it inserted, updated or deleted.
    @discardableResult
    public func runPrepared(_ name: String, _ parameters: [String?]) throws(PostgresError) -> Int {
        try endStreamedCopy()
        let result: OpaquePointer? = Self.withOptionalCStrings(parameters) { pointers in
            PQexecPrepared(handle, name, Int32(parameters.count), pointers, nil, nil, 0)
        }
        try check(result, sql: "EXECUTE \(name)", accepting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    // MARK: COPY

    /// Starts `COPY ... FROM STDIN`; send rows with ``putCopyData(_:)``, finish with ``endCopy()``.
    public func beginCopy(_ sql: String) throws(PostgresError) {
        try endStreamedCopy()
        let result = PQexec(handle, sql)
        try check(result, sql: sql, accepting: [PGRES_COPY_IN])
        PQclear(result)
    }

    /// Sends COPY data (whole rows or not; the server reassembles the stream).
    @inline(__always)
    public func putCopyData(_ bytes: UnsafeRawBufferPointer) throws(PostgresError) {
        guard bytes.count > 0 else { return }
        let status = PQputCopyData(handle, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        guard status == 1 else { throw connectionError(sql: "COPY") }
    }

    /// Ends the COPY started by ``beginCopy(_:)``.
    /// - Returns: the number of rows copied.
    @discardableResult
    public func endCopy() throws(PostgresError) -> Int {
        guard PQputCopyEnd(handle, nil) == 1 else { throw connectionError(sql: "COPY") }
        var copied = 0
        var failure: PostgresError?
        // The COPY's result, then the end of the command (a null result).
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                copied = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if failure == nil {
                failure = error(from: result, sql: "COPY")
            }
        }
        if let failure { throw failure }
        return copied
    }

    /// Abandons a COPY in progress (the server fails the command and, inside a transaction, the transaction).
    public func abortCopy() {
        _ = PQputCopyEnd(handle, "abandoned by the host")
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    // MARK: Errors

    private func check(_ result: OpaquePointer?, sql: String, accepting: [ExecStatusType]) throws(PostgresError) {
        guard let result else { throw connectionError(sql: sql) }
        let status = PQresultStatus(result)
        guard accepting.contains(status) else {
            let failure = error(from: result, sql: sql)
            PQclear(result)
            // A COPY the caller did not expect (or a failed one) must not leave the connection in COPY state.
            if status == PGRES_COPY_IN { abortCopy() }
            throw failure
        }
    }

    private func error(from result: OpaquePointer, sql: String) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            guard let pointer = PQresultErrorField(result, Int32(code)) else { return nil }
            return redact(String(cString: pointer))
        }
        let state = field(UInt8(ascii: "C")).map(SQLState.init(rawValue:))
        let message = field(UInt8(ascii: "M")) ?? redact(Self.trimmed(String(cString: PQresultErrorMessage(result))))
        var failure = PostgresError(
            sqlState: state, message: message.isEmpty ? "the server reported an error without a message" : message,
            detail: field(UInt8(ascii: "D")), hint: field(UInt8(ascii: "H")), sql: sql)
        failure.connectionLost = PQstatus(handle) != CONNECTION_OK
        return failure
    }

    private func connectionError(sql: String) -> PostgresError {
        var failure = PostgresError(sqlState: nil, message: redact(Self.trimmed(String(cString: PQerrorMessage(handle)))), sql: sql)
        failure.connectionLost = PQstatus(handle) != CONNECTION_OK
        return failure
    }

    private func redact(_ text: String) -> String { secrets.isEmpty ? text : Redaction.redact(text, secrets: secrets) }

    private static func trimmed(_ text: String) -> String {
        var lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if lines.isEmpty { lines = ["unknown libpq error"] }
        return lines.joined(separator: "; ")
    }

    // MARK: C strings

    private static func withCStrings<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private static func withOptionalCStrings<Result>(
        _ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> Result
    ) -> Result {
        guard !strings.isEmpty else { return body(nil) }
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

@available(*, unavailable)
extension PostgresConnection: Sendable {}

extension String {
    /// The string as an SQL string literal, inner quotes doubled: a PostgreSQL (and SQLite) string literal. For the few
    /// statements that cannot take parameters (DDL); values in statements that can are parameters.
    var sqlLiteral: String { "'" + replacingOccurrences(of: "'", with: "''") + "'" }
}
