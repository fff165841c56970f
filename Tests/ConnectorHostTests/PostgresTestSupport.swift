import ConnectorHost
import Foundation
import Testing

/// The PostgreSQL server the PostgreSQL tests use, found once per test process:
///
/// 1. `CONNECTOR_HOST_TEST_POSTGRES` (a `postgresql://` URI; `.ci/run` starts a cluster and sets it), else
/// 2. a throwaway cluster this process starts with `scripts/pg_cluster` when the server binaries are
///    installed (it stops when the process ends, even if the process is killed), else
/// 3. none: the tests are skipped, and the reason is printed once. Under CI (`CI=true`) a missing
///    server fails the tests instead: CI must run them.
///
/// Every test works in a schema of its own (``TestSchema``), so tests run in parallel on one server.
enum TestPostgres {
    /// The server, or why there is none.
    static let server: Result<Server, Unavailable> = locate()

    struct Server {
        /// The URI (for a local cluster, over its Unix socket, trusted).
        let uri: String
        /// The URI over TCP with the password of the user postgres, when known (tests of password
        /// masking need one): always for a cluster started here, from
        /// `CONNECTOR_HOST_TEST_POSTGRES_PASSWORD_URI` for a server from the environment.
        let passwordURI: String?
    }

    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether the PostgreSQL tests run; for `.enabled(if:)`.
    static var isAvailable: Bool {
        if case .success = server { return true }
        return false
    }

    /// The URI; fails the test (instead of skipping it) when there is no server under CI.
    static func uri() throws -> String { try server.get().uri }

    private static func locate() -> Result<Server, Unavailable> {
        let environment = ProcessInfo.processInfo.environment
        if let uri = environment["CONNECTOR_HOST_TEST_POSTGRES"], !uri.isEmpty {
            return .success(Server(uri: uri, passwordURI: environment["CONNECTOR_HOST_TEST_POSTGRES_PASSWORD_URI"]))
        }
        let script = packageRoot.appendingPathComponent("scripts/pg_cluster").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-pg-\(getpid())").path
        let output = directory + ".out"
        // system(3) rather than Foundation's Process, whose waitUntilExit can miss the child's exit when
        // called from a static initializer on Linux.
        let status = system("/bin/bash '\(script)' start '\(directory)' --fast --watch \(getpid()) >'\(output)' 2>&1")
        let text = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        unlink(output)
        let exitCode = status >= 0 && status & 0x7F == 0 ? (status >> 8) & 0xFF : -1
        let uri = text.split(separator: "\n").last.map(String.init) ?? ""
        guard exitCode == 0, uri.hasPrefix("postgresql://") else {
            return unavailable(
                exitCode == 3
                    ? "no PostgreSQL server: set CONNECTOR_HOST_TEST_POSTGRES=postgresql://... or install the package postgresql"
                    : "the throwaway PostgreSQL cluster did not start: \(text)")
        }
        var passwordURI: String?
        if let port = try? String(contentsOfFile: directory + "/port", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            let password = try? String(contentsOfFile: directory + "/password", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
        {
            passwordURI = "postgresql://postgres:\(password)@127.0.0.1:\(port)/postgres"
        }
        return .success(Server(uri: uri, passwordURI: passwordURI))
    }

    private static func unavailable(_ reason: String) -> Result<Server, Unavailable> {
        let ci = ProcessInfo.processInfo.environment["CI"] == "true"
        // Under CI the tests still run (``shouldRun``) and fail on the missing server.
        let text = ci ? "PostgreSQL tests FAIL under CI: \(reason)" : "PostgreSQL tests skipped: \(reason)"
        FileHandle.standardError.write(Data((text + "\n").utf8))
        return .failure(Unavailable(description: reason))
    }

    /// Whether PostgreSQL tests should run: a server is there, or CI demands them (and they fail).
    static var shouldRun: Bool { isAvailable || ProcessInfo.processInfo.environment["CI"] == "true" }
}

/// Where a test's syncs write: the parameter of the suites that run against both destinations.
/// PostgreSQL is left out (and the reason printed once) when no server is found outside CI.
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var all: [Backend] { TestPostgres.shouldRun ? [.sqlite, .postgres] : [.sqlite] }
    var testDescription: String { rawValue == "sqlite" ? "SQLite" : "PostgreSQL" }
}

/// A schema of its own for one test, dropped when the test ends.
final class TestSchema {
    let uri: String
    let name: String
    let connection: PostgresConnection

    init(_ label: String = "t") throws {
        uri = try TestPostgres.uri()
        name = "\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        connection = try PostgresConnection(address: try PostgresAddress(uri), applicationName: "connector-host-tests")
        try connection.execute(
            "SET client_min_messages = warning; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; SET search_path TO \(quoteIdentifier(name))"
        )
    }

    /// The destination of a sync into this schema.
    var target: PostgresTarget { PostgresTarget(address: try! PostgresAddress(uri), schema: name) }

    /// Rows of a query in this schema (unqualified names are its tables), as SQLite would hold the values.
    func values(_ sql: String, _ parameters: [String?] = []) throws -> [[SQLiteValue]] {
        let (types, rows) = try connection.typedQuery(sql, parameters)
        return rows.map { row in zip(row, types).map { PostgresValues.sqliteValue($0, type: $1) } }
    }

    deinit { try? connection.execute("DROP SCHEMA IF EXISTS \(quoteIdentifier(name)) CASCADE") }

    /// `"schema"."table"`.
    func qualified(_ table: String) -> String { quoteIdentifier(name) + "." + quoteIdentifier(table) }

    /// Rows of a query, each value as PostgreSQL's text ("NULL" for NULL).
    func rows(_ sql: String, _ parameters: [String?] = []) throws -> [[String]] {
        try connection.query(sql, parameters).map { $0.map { $0 ?? "NULL" } }
    }
}
