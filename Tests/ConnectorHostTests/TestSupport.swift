import ConnectorHost
import ConnectorProtocol
import Foundation
import Synchronization
import Testing

/// Where `swift build` put the executables this test bundle depends on (the connectors, the CLI).
let productsDirectory: URL = {
    let candidates = [
        Bundle.main.bundleURL,
        Bundle.main.bundleURL.deletingLastPathComponent(),
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
    ]
    for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("hello-connector").path) {
        return candidate
    }
    return candidates[0]
}()

/// The package's root folder.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A console that remembers everything, for assertions.
final class RecordingConsole: SyncConsole {
    private let lines = Mutex<[String]>([])

    func connectorLog(_ connector: String, level: LogLevel?, _ message: String) {
        lines.withLock { $0.append("[\(connector)\(level.map { " " + $0.rawValue } ?? "")] \(message)") }
    }

    func note(_ message: String) { lines.withLock { $0.append(message) } }
    func progress(_ counts: OperationCounts, elapsed: Double) {}

    var all: [String] { lines.withLock { $0 } }
}

/// A temporary connector directory with a manifest, removed when the test ends; its syncs write to
/// the SQLite warehouse in the directory, or (``Backend/postgres``) to a schema of its own.
final class ConnectorFixture {
    let directory: URL
    let backend: Backend
    /// The PostgreSQL schema of a ``Backend/postgres`` fixture.
    let schema: TestSchema?

    /// A directory whose manifest runs `arguments` (the first resolved against the products directory
    /// when it names a built product), with `configuration` written to configuration.json.
    init(
        product: String? = nil, command: [String]? = nil, configuration: JSONValue? = nil, files: [String: String] = [:],
        backend: Backend = .sqlite
    ) throws {
        self.backend = backend
        schema = backend == .postgres ? try TestSchema("fixture") : nil
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var manifestCommand = command ?? []
        if let product { manifestCommand = [productsDirectory.appendingPathComponent(product).path] }
        if !manifestCommand.isEmpty {
            try write("connector.json", JSONWriter.string(["name": "fixture", "command": .array(manifestCommand.map(JSONValue.string))]))
        }
        if let configuration { try write("configuration.json", JSONWriter.string(configuration)) }
        for (name, content) in files { try write(name, content) }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ content: String) throws {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try content.write(to: url, atomically: true, encoding: .utf8)
    }

    var path: String { directory.path }
    var warehousePath: String { directory.appendingPathComponent("files/warehouse.db").path }
    var statePath: String { directory.appendingPathComponent("files/state.json").path }

    /// Runs a sync in-process (the connector is a real child process).
    func sync(configure: (inout SyncOptions) -> Void = { _ in }) -> (SyncReport, RecordingConsole) {
        var options = SyncOptions(directory: path)
        options.gracePeriod = 2
        if let schema { options.postgres = schema.target }
        configure(&options)
        let console = RecordingConsole()
        return (SyncRunner.run(options, console: console), console)
    }

    /// Rows of a query against the warehouse, each value rendered as text (NULL as "NULL"). On
    /// PostgreSQL the query runs in the fixture's schema, and values are rendered as SQLite holds them
    /// (``PostgresValues``): the same expectations hold for both.
    func rows(_ sql: String) throws -> [[String]] {
        if let schema { return try schema.values(sql).map { row in row.map(render) } }
        let database = try SQLiteDatabase(readOnlyPath: warehousePath)
        return try database.query(sql).map { row in row.map(render) }
    }

    /// `run` arguments that send a CLI sync to this fixture's destination (none for SQLite).
    var destinationArguments: [String] {
        guard let schema else { return [] }
        return ["--destination", schema.uri, "--schema", schema.name]
    }

    /// Whether the warehouse has a table called `name` (the connector's or the host's own).
    func tableExists(_ name: String) throws -> Bool {
        if let schema {
            return try schema.rows("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = $2", [schema.name, name]) == [
                ["1"]
            ]
        }
        return try rows(#"SELECT count(*) FROM sqlite_master WHERE "name" = '\#(name)'"#) == [["1"]]
    }

    /// The checkpointed state: the state file's on SQLite (the mirror the tests have always read),
    /// the destination's `_connector_state` on PostgreSQL (which keeps no file unless asked).
    func state() -> String? {
        guard schema != nil else { return stateFile() }
        return (try? rows(#"SELECT "state" FROM "_connector_state""#))?.first?.first
    }

    func stateFile() -> String? {
        (try? String(contentsOfFile: statePath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

func render(_ value: SQLiteValue) -> String {
    switch value {
    case .null: "NULL"
    case .integer(let number): String(number)
    case .real(let number): "\(number)"
    case .text(let text): text
    case .blob(let bytes): "blob(\(bytes.count))"
    }
}

/// Runs the built `connector-host` executable (in `directory`, when given) and returns its exit code, stdout and stderr.
func runCLI(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let result = try RunningCLI(arguments, environment: environment, directory: directory).finish()
    return (result.status, result.stdout, result.stderr)
}

/// A schema entry for the operations test connector.
func table(_ name: String, primaryKey: [String] = [], columns: JSONObject = [:]) -> JSONValue {
    ["table": .string(name), "primaryKey": .array(primaryKey.map(JSONValue.string)), "columns": .object(columns)]
}

/// The real Python interpreter behind `python3` (resolved once): starting it directly skips
/// version-manager shims such as pyenv's, which cost ~70 ms per process.
let pythonExecutable: String = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import sys; print(sys.executable)"]
    let output = Pipe()
    process.standardOutput = output
    guard (try? process.run()) != nil else { return "python3" }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return process.terminationStatus == 0 && !path.isEmpty ? path : "python3"
}()
