import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Attacks on the files of a workspace: a `reset` or a hand that deletes them during a sync, flags
/// that name other files, and links or odd files planted in an untrusted connector folder.
@Suite("Workspace files: nothing deleted under a sync, nothing overwritten that is not the host's")
struct WorkspaceAttackTests {
    @Test("reset while a sync runs is refused and deletes nothing; the sync then finishes with all its data")
    func resetDuringSync() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let started = fixture.path + "/started"
        let proceed = fixture.path + "/proceed"
        try fixture.script([
            "update": [
                ["rows": ["items", 4, 3]], ["checkpoint": ["c": 6]], ["touch": .string(started)], ["waitFor": .string(proceed)],
                ["rows": ["items", 7, 3]], ["checkpoint": ["c": 9]], ["reply": true],
            ]
        ])
        let run = try RunningCLI(["run", fixture.path, "--quiet"])
        #expect(waitForFile(started))
        let reset = try runCLI(["reset", fixture.path, "--yes"])
        #expect(reset.status == 1)
        #expect(
            reset.stderr
                == "error: cannot reset: another connector-host (pid \(run.pid)) is syncing into this warehouse; it holds the lock \(fixture.warehousePath).lock. Wait for it to finish or stop it\n"
        )
        #expect(FileManager.default.fileExists(atPath: fixture.warehousePath))
        #expect(FileManager.default.fileExists(atPath: fixture.warehousePath + ".lock"))
        #expect(fixture.stateFile() == #"{"c":6}"#)
        FileManager.default.createFile(atPath: proceed, contents: nil)
        let result = run.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try fixture.rows(#"SELECT "id" FROM "items" ORDER BY 1"#).map { $0[0] } == (1...9).map(String.init))
        #expect(fixture.stateFile() == #"{"c":9}"#)

        // Afterwards reset deletes the warehouse, the state and, last, the lock.
        let after = try runCLI(["reset", fixture.path, "--yes"])
        #expect(after.status == 0)
        #expect(after.stdout.hasPrefix("deleted \(fixture.warehousePath), "))
        #expect(after.stdout.hasSuffix(", \(fixture.statePath), \(fixture.warehousePath).lock\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.path + "/files").isEmpty)
    }

    @Test("a warehouse deleted by hand during a sync is noticed at the next checkpoint, which is not acknowledged")
    func warehouseDeletedDuringSync() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let files = fixture.path + "/files/warehouse.db"
        try fixture.script([
            "update": [
                ["rows": ["items", 4, 3]], ["unlink": [.string(files), .string(files + "-wal"), .string(files + "-shm")]],
                ["checkpoint": ["c": 6]], ["reply": true],
            ]
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == #"the warehouse \#(fixture.warehousePath) was deleted or replaced while this sync ran (by hand, or by another program); checkpoint "cp-1" (stdout line 4) was not committed to it. Run again"#
        )
        #expect(report.failure?.kind == .warehouse)
        #expect(fixture.stateFile() == #"{"c":3}"#)
    }

    @Test("a lock file deleted during a sync is noticed at the next checkpoint: it no longer keeps a second run out")
    func lockDeletedDuringSync() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        try fixture.script([
            "update": [["rows": ["items", 4, 3]], ["unlink": [.string(fixture.warehousePath + ".lock")]], ["checkpoint": ["c": 6]]]
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == #"the lock file \#(fixture.warehousePath).lock was deleted or replaced while this sync ran, so it no longer keeps another run out; checkpoint "cp-1" (stdout line 4) was not committed to it. Run again"#
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("--state naming the warehouse, the configuration or the manifest is refused before anything is written")
    func stateNamingAnotherFile() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let configuration = try String(contentsOfFile: fixture.path + "/configuration.json", encoding: .utf8)
        let manifest = try String(contentsOfFile: fixture.path + "/connector.json", encoding: .utf8)
        let cases = [
            (fixture.warehousePath, "the state file \(fixture.warehousePath) is also the warehouse"),
            (fixture.warehousePath + ".lock", "the state file \(fixture.warehousePath).lock is also the lock file"),
            (fixture.path + "/configuration.json", "the state file \(fixture.path)/configuration.json is also the configuration file"),
            (fixture.path + "/connector.json", "the state file \(fixture.path)/connector.json is also the connector's manifest"),
        ]
        for (path, start) in cases {
            let result = try runCLI(["run", fixture.path, "--state", path])
            #expect(result.status == 1, "\(path)")
            #expect(
                result.stderr.hasSuffix(
                    "error: \(start); each must be a file of its own. Choose another path (--state, --warehouse); the defaults are DIR/files/state.json and DIR/files/warehouse.db\n"
                ), "\(result.stderr)")
        }
        #expect(try fixture.snapshot() == seededSnapshot)
        #expect(try fixture.history().map { $0[0] } == ["succeeded"])
        #expect(try String(contentsOfFile: fixture.path + "/configuration.json", encoding: .utf8) == configuration)
        #expect(try String(contentsOfFile: fixture.path + "/connector.json", encoding: .utf8) == manifest)
    }

    @Test("a state or warehouse path naming someone else's file (not JSON, not SQLite) is refused and the file kept")
    func foreignFiles() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        try fixture.write("notes.txt", "my notes, not a state\n")
        let notes = fixture.path + "/notes.txt"
        let state = try runCLI(["run", fixture.path, "--state", notes])
        #expect(state.status == 1)
        #expect(
            state.stderr.hasSuffix(
                "error: the state file \(notes) is not valid JSON (expected a JSON value, found 'm' at byte 1); the host never overwrites a file it did not write. Fix or delete it, or choose another --state\n"
            ), "\(state.stderr)")
        let warehouse = try runCLI(["run", fixture.path, "--warehouse", notes])
        #expect(warehouse.status == 1)
        #expect(
            warehouse.stderr.hasSuffix(
                #"error: the warehouse \#(notes) is not an SQLite database (it starts with "my notes, not a "); the host never overwrites another file. Move that file away, or choose another --warehouse"#
                    + "\n"), "\(warehouse.stderr)")
        let reset = try runCLI(["reset", fixture.path, "--state", notes, "--yes"])
        #expect(reset.status == 1)
        #expect(reset.stderr.hasPrefix("error: the state file \(notes) is not valid JSON"), "\(reset.stderr)")
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "my notes, not a state\n")
        #expect(!FileManager.default.fileExists(atPath: notes + ".lock"))
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("reset refuses an SQLite database that is not a connector-host warehouse")
    func resetForeignDatabase() throws {
        let fixture = try ConnectorFixture.hostile([:])
        let other = fixture.path + "/app.db"
        #expect(shell(["sqlite3", other, "CREATE TABLE accounts (id INTEGER); INSERT INTO accounts VALUES (1)"]).status == 0)
        let result = try runCLI(["reset", fixture.path, "--warehouse", other, "--yes"])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "error: the warehouse \(other) is an SQLite database but not a connector-host warehouse (it has no _connector_tables); reset deletes nothing of it. Delete it yourself if it is yours, or choose another --warehouse\n"
        )
        #expect(shell(["sqlite3", other, "SELECT id FROM accounts"]).output == "1\n")
    }

    @Test(
        "a symbolic link planted among the workspace files (or as the files folder) is refused; its target is untouched",
        arguments: [
            "files/warehouse.db", "files/warehouse.db-wal", "files/warehouse.db.lock", "files/state.json", "files/state.json.tmp", "files",
        ])
    func plantedLinks(_ planted: String) throws {
        let fixture = try ConnectorFixture.hostile(["update": [["rows": ["items", 1, 3]], ["checkpoint": ["c": 3]], ["reply": true]]])
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try "precious\n".write(toFile: outside + "/target", atomically: true, encoding: .utf8)
        if planted != "files" {
            try FileManager.default.createDirectory(atPath: fixture.path + "/files", withIntermediateDirectories: true)
        }
        let target = planted == "files" ? outside : outside + "/target"
        try FileManager.default.createSymbolicLink(atPath: fixture.path + "/" + planted, withDestinationPath: target)
        let result = try runCLI(["run", fixture.path])
        #expect(result.status == 1)
        let role =
            [
                "files/warehouse.db": "the warehouse", "files/warehouse.db-wal": "the warehouse's SQLite file",
                "files/warehouse.db.lock": "the lock file", "files/state.json": "the state file",
                "files/state.json.tmp": "the state file's temporary file",
            ][planted]
        let what = role.map { "\($0) \(fixture.path)/\(planted)" } ?? "the folder \(fixture.path)/files (on the way to the warehouse)"
        #expect(
            result.stderr.hasSuffix(
                "error: \(what) is a symbolic link (to \(target)); the host never writes through a link, since a connector folder may come from an untrusted repository. Remove the link, or name a real file with --warehouse or --state\n"
            ), "\(result.stderr)")
        #expect(try String(contentsOfFile: outside + "/target", encoding: .utf8) == "precious\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).sorted() == ["target"])
        let reset = try runCLI(["reset", fixture.path, "--yes"])
        if planted == "files" {
            #expect(reset.stdout.hasPrefix("nothing to reset"))  // nothing of the host's is there
        } else {
            #expect(reset.status == 1)
            #expect(reset.stderr.contains("is a symbolic link (to \(target))"), "\(reset.stderr)")
        }
        #expect(try String(contentsOfFile: outside + "/target", encoding: .utf8) == "precious\n")
    }

    @Test("a state file holding a JSON array (or any non-object) is refused, naming the file; the connector never starts")
    func stateNotAnObject() throws {
        for content in ["[1, 2]", "\"cursor\"", "42", "null"] {
            let fixture = try ConnectorFixture.hostile([:])
            try fixture.write("files/state.json", content)
            let (report, _) = fixture.sync()
            let kind = ["[": "array", "\"": "string", "4": "number", "n": "null"][String(content.prefix(1))]!
            #expect(
                report.failure?.message
                    == #"the state file \#(fixture.statePath) holds a JSON \#(kind), not an object; a state is a JSON object like {"cursor": 3}. Fix or delete it"#
            )
            #expect(!FileManager.default.fileExists(atPath: fixture.warehousePath))
            #expect(fixture.stateFile() == content)
        }
    }

    @Test("a stored state that is not an object (edited outside the host) is refused, not replaced by {}")
    func storedStateNotAnObject() throws {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["stderrState": true], ["reply": true]]])
        #expect(shell(["sqlite3", fixture.warehousePath, #"UPDATE _connector_state SET state = '[1]'"#]).status == 0)
        let (report, console) = fixture.sync()
        #expect(
            report.failure?.message
                == #"the warehouse \#(fixture.warehousePath) holds a stored state that is not a JSON object ("[1]" in _connector_state); it was changed outside connector-host. Restore it, or run `connector-host reset` to start over"#
        )
        #expect(!console.all.contains { $0.contains("state:") })
    }

    @Test("a named pipe or a device as the manifest, configuration, state or requirements file never hangs the host")
    func pipesAndDevices() throws {
        for planted in ["connector.json", "configuration.json", "files/state.json", "requirements.txt"] {
            let fixture = try ConnectorFixture.hostile([:])
            if planted == "requirements.txt" {
                unlink(fixture.path + "/connector.json")
                try fixture.write("connector.py", "")
            }
            try FileManager.default.createDirectory(atPath: fixture.path + "/files", withIntermediateDirectories: true)
            unlink(fixture.path + "/" + planted)
            #expect(mkfifo(fixture.path + "/" + planted, 0o600) == 0)
            let (report, _) = fixture.sync()
            let path = fixture.path + "/" + planted
            let expected = [
                "connector.json": "\(path) is a named pipe, not a regular file; a manifest is a small JSON file",
                "configuration.json": "the configuration file \(path) is a named pipe, not a regular file; it must be a JSON file",
                "files/state.json": "the state file \(path) is a named pipe, not a regular file; remove it or choose another path",
                "requirements.txt": nil,
            ][planted]!
            if let expected {
                #expect(report.failure?.message == expected)
            } else {
                // A requirements.txt that cannot be read has no requirements: the connector runs without a venv.
                #expect(report.failure?.message.hasPrefix("the connector") ?? true, "\(report.failure?.message ?? "")")
            }
        }
        let fixture = try ConnectorFixture.hostile([:])
        unlink(fixture.path + "/configuration.json")
        try FileManager.default.createSymbolicLink(atPath: fixture.path + "/configuration.json", withDestinationPath: "/dev/zero")
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "the configuration file \(fixture.path)/configuration.json is a device, not a regular file; it must be a JSON file")
    }

    @Test("--attach with a descriptor of a file (the warehouse itself) is refused: nothing read from it or written over it")
    func attachToAFile() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.warehousePath))
        #expect(shell(["mkfifo", fixture.path + "/pipe"]).status == 0)
        let host = productsDirectory.appendingPathComponent("connector-host").path
        // Descriptor 5 a pipe (a FIFO opened read-write never blocks), 6 the warehouse, read-write.
        let run = try RunningCLI(
            ["-c", #"exec "$0" run "$1" --attach 5,6 5<>"$1/pipe" 6<>"$1/files/warehouse.db""#, host, fixture.path],
            executable: "/bin/sh"
        ).finish()
        #expect(run.status == 1, "\(run.stderr)")
        #expect(
            run.stderr.hasSuffix(
                "error: --attach: descriptor 6 is a regular file, not a pipe or a socket; it must be the pipe to write requests to, which the process that starts `connector-host run --attach` (the Python SDK's connector.debug()) passes\n"
            ), "\(run.stderr)")
        #expect(try fixture.snapshot() == seededSnapshot)
        let after = try Data(contentsOf: URL(fileURLWithPath: fixture.warehousePath))
        #expect(after.prefix(16) == before.prefix(16))
    }
}
