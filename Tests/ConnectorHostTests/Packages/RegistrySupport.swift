import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// A registry home and connector folders in a temporary folder, removed when the test ends; runs
/// the built `connector-host` with `CONNECTOR_HOST_HOME` pointing at the home.
final class RegistryFixture {
    let root: URL
    var home: String { root.appendingPathComponent("home").path }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("registry-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    var environment: [String: String] { ["CONNECTOR_HOST_HOME": home] }

    /// Runs `connector-host arguments` against this registry.
    func cli(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runCLI(arguments, environment: environment.merging(extra) { $1 })
    }

    /// Starts `connector-host arguments` against this registry, without waiting.
    func start(_ arguments: [String]) throws -> RunningCLI {
        try RunningCLI(arguments, environment: environment)
    }

    /// A Python connector: `runs` rows numbered from the state's `n`, one per step, a checkpoint
    /// after each. Configuration (strings): `steps` (default 1), `sleep` seconds before each step,
    /// `note` written into each row, `fail` = "yes" to fail after the steps.
    static let countingConnector = """
        import time
        from fivetran_connector_sdk import Connector, Operations as op

        def schema(configuration):
            return [{"table": "runs", "primary_key": ["n"], "columns": {"n": "INT", "note": "STRING"}}]

        def update(configuration, state):
            n = state.get("n", 0)
            for _ in range(int(configuration.get("steps", "1"))):
                time.sleep(float(configuration.get("sleep", "0")))
                n += 1
                op.upsert("runs", {"n": n, "note": configuration.get("note", "")})
                op.checkpoint({"n": n})
            if configuration.get("fail") == "yes":
                raise RuntimeError("failing on purpose")

        connector = Connector(update=update, schema=schema)
        """

    /// A connector folder `name` under the fixture's root with `files` (path -> content).
    @discardableResult
    func folder(_ name: String, _ files: [String: String] = ["connector.py": countingConnector]) throws -> String {
        let folder = root.appendingPathComponent(name)
        for (path, content) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try content.write(to: url, atomically: true, encoding: .utf8)
        }
        return folder.path
    }

    /// Writes a configuration file and returns its path.
    func configuration(_ name: String, _ values: [String: String]) throws -> String {
        let path = root.appendingPathComponent(name + ".json").path
        let object = JSONObject(values.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.string($0.value)) })
        try JSONWriter.string(.object(object)).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `package create FOLDER --json`, returning the package's id.
    func createPackage(_ folder: String) throws -> String {
        let result = try cli(["package", "create", folder, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONParser.parse(result.stdout)["id"]?.stringValue)
    }

    /// `connection create NAME --package ID ...`, returning the connection as JSON.
    @discardableResult
    func createConnection(_ name: String, package: String, configuration: [String: String]? = nil, every: String? = nil) throws
        -> JSONValue
    {
        var arguments = ["connection", "create", name, "--package", package, "--json"]
        if let configuration { arguments += ["--configuration", try self.configuration(name, configuration)] }
        if let every { arguments += ["--every", every] }
        let result = try cli(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONParser.parse(result.stdout)
    }

    /// `connection show NAME --json`.
    func connection(_ name: String) throws -> JSONValue {
        let result = try cli(["connection", "show", name, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONParser.parse(result.stdout)
    }

    /// Rows of a query on the registry database, each value rendered as text.
    func registryRows(_ sql: String) throws -> [[String]] {
        let database = try SQLiteDatabase(readOnlyPath: home + "/registry.db")
        return try database.query(sql).map { $0.map(render) }
    }

    /// Rows of a query on a connection's warehouse.
    func warehouseRows(_ connection: JSONValue, _ sql: String) throws -> [[String]] {
        let database = try SQLiteDatabase(readOnlyPath: try #require(connection["warehouse"]?.stringValue))
        return try database.query(sql).map { $0.map(render) }
    }

    /// Waits until `condition` holds, polling; false after `timeout` seconds.
    func waitUntil(timeout: Double = 60, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return false
    }

    /// The registry's syncs of connection `name`, oldest first: (status, trigger, scheduled_for, attempt, started, finished).
    func syncs(of name: String) throws -> [(status: String, scheduledFor: Int64?, attempt: Int, started: Int64, finished: Int64?)] {
        try registryRows(
            """
            SELECT s.status, s.scheduled_for, s.attempt, s.started_at, s.finished_at FROM syncs s
            JOIN connections c ON c.id = s.connection_id WHERE c.name = '\(name)' ORDER BY s.id
            """
        ).map { ($0[0], Int64($0[1]), Int($0[2]) ?? 0, Int64($0[3]) ?? 0, Int64($0[4])) }
    }
}

/// Lines of JSON events (`schedule --json`), parsed.
func scheduleEvents(_ output: String) -> [JSONValue] {
    output.split(separator: "\n").compactMap { try? JSONParser.parse(String($0)) }
}

/// Milliseconds since 1970 of an RFC 3339 UTC time as the registry prints it (`2026-12-01T18:00:00.123Z`).
func milliseconds(_ text: String) -> Int64? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.date(from: text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
}
