import ConnectorHost
import ConnectorProtocol
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The hostile connector: raw protocol in Python, scripted by its configuration (see the script's docstring).
let hostileScript = packageRoot.appendingPathComponent("Tests/Fixtures/hostile/hostile.py").path

/// The table the hostile connector's scripts write.
let itemsTable: JSONValue = table("items", primaryKey: ["id"], columns: ["id": "LONG", "value": "STRING"])

extension ConnectorFixture {
    /// A directory whose connector is the hostile script, configured by `script`.
    static func hostile(_ script: JSONObject, backend: Backend = .sqlite) throws -> ConnectorFixture {
        var configuration = script
        if configuration["tables"] == nil { configuration["tables"] = [itemsTable] }
        return try ConnectorFixture(command: ["python3", hostileScript], configuration: .object(configuration), backend: backend)
    }

    /// Replaces the hostile connector's script (the warehouse stays).
    func script(_ script: JSONObject) throws {
        var configuration = script
        if configuration["tables"] == nil { configuration["tables"] = [itemsTable] }
        try write("configuration.json", JSONWriter.string(.object(configuration)))
    }

    /// A hostile connector whose first, successful run left rows 1-3 and the state {"c":3}; the
    /// second run follows `script`.
    static func seeded(then script: JSONObject) throws -> ConnectorFixture {
        let fixture = try hostile(["update": [["rows": ["items", 1, 3]], ["checkpoint": ["c": 3]], ["reply": true]]])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "the seeding run failed: \(report.failure?.message ?? "")")
        #expect(try fixture.snapshot() == seededSnapshot)
        try fixture.script(script)
        return fixture
    }

    /// Every user table's rows (sorted, without the sync time), the stored state and the state
    /// file: what must not change when a sync fails.
    func snapshot() throws -> [String] {
        guard FileManager.default.fileExists(atPath: warehousePath) else { return ["no warehouse"] }
        let database = try SQLiteDatabase(readOnlyPath: warehousePath)
        var lines: [String] = []
        let tables = try database.query(#"SELECT "name" FROM "sqlite_master" WHERE "type" = 'table' ORDER BY "name""#)
        for case .text(let name) in tables.map({ $0[0] }) where !name.hasPrefix("_connector_syncs") && !name.hasPrefix("sqlite_") {
            let columns = try database.query("SELECT \"name\" FROM pragma_table_info(?1)", [.text(name)]).map { render($0[0]) }
            let shown = columns.filter {
                !["_connector_synced", "updated_at", "created_at", "mirror", "mirror_identity", "previous_mirror_identity"].contains($0)
            }.map(quoteIdentifier).joined(
                separator: ", ")
            let rows = try database.query("SELECT \(shown) FROM \(quoteIdentifier(name))").map { $0.map(render).joined(separator: "|") }
            lines += rows.sorted().map { "\(name): \($0)" }
        }
        lines.append("state file: \(stateFile() ?? "none")")
        return lines
    }

    /// The statuses and errors of the sync history, oldest first.
    func history() throws -> [[String]] {
        try rows(#"SELECT "status", coalesce("error", '') FROM "_connector_syncs" ORDER BY "id""#)
    }
}

/// The snapshot of a seeded warehouse: rows 1-3 and state {"c":3}.
let seededSnapshot = [
    #"_connector_columns: items|id|0|LONG|NULL|NULL|1"#, #"_connector_columns: items|value|1|STRING|NULL|NULL|1"#,
    "_connector_settings: naming|source", "_connector_settings: string_types|string", "_connector_settings: system_columns|connector",
    #"_connector_state: 1|{"c":3}"#, #"_connector_tables: items|["id"]|NULL"#, "items: 1|row 1|0", "items: 2|row 2|0", "items: 3|row 3|0",
    #"state file: {"c":3}"#,
]

/// Whether a process with this pid still exists (a zombie waiting to be reaped does not count:
/// in a container whose init does not reap, a killed orphan stays one).
func processExists(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 || errno != ESRCH else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
        return true
    }
    return stat[stat.index(close, offsetBy: 2)] != "Z"
}

/// Reads a pid the hostile connector wrote with `pidFile`.
func readPID(_ path: String) -> pid_t? {
    (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Runs `command` and returns its exit status and output (stdout and stderr together).
@discardableResult
func shell(_ command: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    guard (try? process.run()) != nil else { return (-1, "cannot run \(command[0])") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether this machine lets an unprivileged user namespace mount file systems (Linux), which
/// the disk-full and read-only tests use to get a real full or read-only file system.
let canMountInUserNamespace: Bool = shell(["unshare", "-rm", "true"]).status == 0

/// Whether a file can be made read-only for this process: by its permission bits, or, for root
/// (which ignores them), by `chattr +i` (which needs a file system and a capability that allow it).
let canMakeFileReadOnly: Bool = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-read-only-\(getpid())").path
    guard FileManager.default.createFile(atPath: path, contents: Data()) else { return false }
    defer { try? FileManager.default.removeItem(atPath: path) }
    chmod(path, 0o444)
    if access(path, W_OK) != 0 { return true }
    guard shell(["chattr", "+i", path]).status == 0 else { return false }
    shell(["chattr", "-i", path])
    return true
}()

/// The built `connector-host`, started without waiting for it: for tests that signal it while it runs.
final class RunningCLI {
    let process = Process()
    /// What the process wrote, by descriptor (1 stdout, 2 stderr).
    private final class Capture: Sendable {
        let data = Mutex<[Int32: Data]>([:])
    }
    private let captured = Capture()
    private let readers = DispatchGroup()

    /// Starts `connector-host arguments` (or `executable`, in `directory`) with the test's environment plus
    /// `environment` (only `environment` when not `inheriting`); stdin is /dev/null and both pipes are read
    /// to EOF on threads of their own (so large output cannot deadlock).
    init(
        _ arguments: [String], environment: [String: String] = [:], executable: String? = nil, directory: String? = nil,
        inheriting: Bool = true
    ) throws {
        process.executableURL = executable.map { URL(fileURLWithPath: $0) } ?? productsDirectory.appendingPathComponent("connector-host")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var merged = inheriting ? ProcessInfo.processInfo.environment : [:]
        if inheriting { merged["CONNECTOR_HOST_SWIFT_BIN_PATH"] = productsDirectory.path }
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let outputPipe = Pipe()
        let errorPipe = Pipe()
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (descriptor, pipe) in [(Int32(1), outputPipe), (2, errorPipe)] {
            readers.enter()
            Thread { [readers, captured] in
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                captured.data.withLock { $0[descriptor] = data }
                readers.leave()
            }.start()
        }
    }

    var pid: pid_t { process.processIdentifier }

    /// Waits for the exit: the status (or the signal that killed it), stdout and stderr.
    func finish() -> (status: Int32, signaled: Bool, stdout: String, stderr: String) {
        readers.wait()
        process.waitUntilExit()
        return (
            process.terminationStatus, process.terminationReason == .uncaughtSignal,
            captured.data.withLock { String(decoding: $0[1] ?? Data(), as: UTF8.self) },
            captured.data.withLock { String(decoding: $0[2] ?? Data(), as: UTF8.self) }
        )
    }
}

/// Waits until `path` exists; false after `timeout` seconds.
func waitForFile(_ path: String, timeout: Double = 30) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if FileManager.default.fileExists(atPath: path) { return true }
        usleep(10_000)
    }
    return false
}
