import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Ctrl-C and a killed host")
struct InterruptTests {
    @Test("Ctrl-C asks the connector to stop, rolls back to the last checkpoint, says so and exits 130")
    func controlC() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let marker = fixture.path + "/files/update-started"
        try fixture.script([
            "update": [
                ["rows": ["items", 4, 3]], ["checkpoint": ["c": 6]], ["rows": ["items", 7, 3]], ["touch": .string(marker)],
                ["readUntilEOF": true],
            ]
        ])
        let run = try RunningCLI(["run", fixture.path, "--grace", "2"])
        #expect(waitForFile(marker))
        kill(run.pid, SIGINT)
        let result = run.finish()
        #expect(result.status == 130)
        #expect(result.stderr.contains("[fixture] hostile: got cancel: cancelled by the user\n"))
        #expect(
            result.stderr.hasSuffix(
                "error: cancelled (Ctrl-C): the connector was asked to stop and everything after the last checkpoint was rolled back\n"))
        #expect(result.stdout.contains("outcome: CANCELLED; the warehouse is at the last checkpoint"))
        let expected =
            seededSnapshot.filter { !$0.contains("{\"c\":3}") } + [#"_connector_state: 1|{"c":6}"#, #"state file: {"c":6}"#]
            + ["items: 4|row 4|0", "items: 5|row 5|0", "items: 6|row 6|0"]
        #expect(try fixture.snapshot().sorted() == expected.sorted())
        #expect(try fixture.history().map { $0[0] } == ["succeeded", "cancelled"])
    }

    @Test("Ctrl-C also ends a write blocked on a connector that does not read its stdin")
    func controlCDuringBlockedWrite() throws {
        let fixture = try ConnectorFixture(
            command: ["sleep", "30"], configuration: ["payload": .string(String(repeating: "x", count: 300_000))])
        let run = try RunningCLI(["run", fixture.path, "--grace", "0.2"])
        usleep(300_000)
        kill(run.pid, SIGINT)
        let result = run.finish()
        #expect(result.status == 130)
        #expect(
            result.stderr.hasSuffix(
                "error: cancelled (Ctrl-C): the connector was asked to stop and everything after the last checkpoint was rolled back\n  the connector did not exit within 0.2 s of its stdin closing; the host stopped it with SIGTERM\n"
            ))
    }

    @Test("a host killed with SIGKILL mid-sync leaves the last checkpoint; the next run resumes from it")
    func hostKilled() throws {
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                ["rows": ["items", 4, 3]], ["checkpoint": ["c": 6]], ["rows": ["items", 7, 3]],
                ["records": [["op": "truncate", "table": "items"]]],
                ["killHost": "SIGKILL"], ["readUntilEOF": true],
            ]
        ])
        let result = try RunningCLI(["run", fixture.path]).finish()
        #expect(result.signaled && result.status == SIGKILL)
        let expected =
            seededSnapshot.filter { !$0.contains("{\"c\":3}") } + [#"_connector_state: 1|{"c":6}"#, #"state file: {"c":6}"#]
            + ["items: 4|row 4|0", "items: 5|row 5|0", "items: 6|row 6|0"]
        #expect(try fixture.snapshot().sorted() == expected.sorted())
        #expect(try fixture.history().map { $0[0] } == ["succeeded", "running"])

        try fixture.script(["update": [["stderrState": true], ["rows": ["items", 7, 3]], ["checkpoint": ["c": 9]], ["reply": true]]])
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(console.all.contains(#"[fixture] state: {"c":6}"#))
        #expect(try fixture.history().map { $0[0] } == ["succeeded", "interrupted", "succeeded"])
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["9"]])
    }
}

extension InterruptTests {
    @Test("a state file left one checkpoint behind by a kill between commit and rename is repaired from the warehouse")
    func staleStateFileRepaired() throws {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["checkpoint": ["c": 5]], ["reply": true]]])
        // The mirror of {"c":3}, as a host killed between the commit of {"c":5} and the rename leaves it.
        let kept = fixture.statePath + ".kept"
        #expect(link(fixture.statePath, kept) == 0)
        #expect(fixture.sync().0.failure == nil)
        #expect(rename(kept, fixture.statePath) == 0)
        #expect(fixture.stateFile() == #"{"c":3}"#)
        try fixture.script(["update": [["stderrState": true], ["reply": true]]])
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(console.all.contains(#"[fixture] state: {"c":5}"#), "\(console.all)")
        #expect(
            console.all.contains(
                #"start state: {"c":5}, the last checkpoint; \#(fixture.statePath) was behind it (the host stopped between a commit and the file's rename) and is repaired"#
            ), "\(console.all)")
        #expect(fixture.stateFile() == #"{"c":5}"#)
        // A missing mirror is written again.
        unlink(fixture.statePath)
        let (_, again) = fixture.sync()
        #expect(again.all.contains(#"start state: {"c":5}, the last checkpoint; \#(fixture.statePath) was missing and is written again"#))
        #expect(fixture.stateFile() == #"{"c":5}"#)
        // A file that is not JSON was not written by the host (its writes are atomic): it is kept, and the sync refused.
        try fixture.write("files/state.json", "not json")
        let (refused, _) = fixture.sync()
        #expect(
            refused.failure?.message
                == "the state file \(fixture.statePath) is not valid JSON (invalid literal, found 'n' at byte 1); the host never overwrites a file it did not write. Fix or delete it, or choose another --state"
        )
        #expect(fixture.stateFile() == "not json")
    }
}

@Suite("The warehouse's file system: full, read-only, locked")
struct WarehouseFileFaultTests {
    /// Runs `script` in a user namespace (as the same user) so it can mount small or read-only file systems.
    private func inNamespace(_ script: String) -> (status: Int32, output: String) {
        shell(["unshare", "-rm", "sh", "-c", script])
    }

    private var host: String { productsDirectory.appendingPathComponent("connector-host").path }

    @Test(
        "a full disk while committing fails the checkpoint: nothing of it is kept and the message says so",
        .enabled(if: canMountInUserNamespace))
    func diskFull() throws {
        let fixture = try ConnectorFixture.hostile([:])
        let copy = fixture.path + "/copy"
        var steps: [JSONValue] = []
        for first in stride(from: 4, to: 20_000, by: 2000) { steps.append(["rows": ["items", .number(JSONNumber(first)), 2000]]) }
        let failing = JSONWriter.string(["tables": [itemsTable], "update": .array(steps + [["checkpoint": ["c": 99]], ["reply": true]])])
        try fixture.write("failing.json", failing)
        let seed = JSONWriter.string([
            "tables": [itemsTable], "update": [["rows": ["items", 1, 3]], ["checkpoint": ["c": 3]], ["reply": true]],
        ])
        try fixture.write("configuration.json", seed)
        let result = inNamespace(
            """
            set -e
            mkdir -p '\(fixture.path)/files' '\(copy)'
            mount -t tmpfs -o size=256k tmpfs '\(fixture.path)/files'
            '\(host)' run '\(fixture.path)' --quiet > /dev/null
            '\(host)' run '\(fixture.path)' --quiet --configuration '\(fixture.path)/failing.json' > /dev/null 2> '\(copy)/stderr' || echo "exit $?" > '\(copy)/exit'
            cp '\(fixture.path)/files/warehouse.db' '\(fixture.path)/files/state.json' '\(copy)/'
            """)
        #expect(result.status == 0, "\(result.output)")
        #expect(try String(contentsOfFile: copy + "/exit", encoding: .utf8) == "exit 1\n")
        let message = try String(contentsOfFile: copy + "/stderr", encoding: .utf8)
        #expect(
            message
                == #"error: the disk is full: the warehouse \#(fixture.path)/files/warehouse.db could not grow while committing checkpoint "cp-1" (stdout line 13) (database or disk is full [SQLite 13]); nothing after the last checkpoint was kept. Free some space, or move the warehouse with --warehouse, and run again"#
                + "\n")
        try FileManager.default.removeItem(atPath: fixture.path + "/files")
        try FileManager.default.moveItem(atPath: copy, toPath: fixture.path + "/files")
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test(
        "a full disk for the state file fails the checkpoint before its commit: warehouse and state stay at the previous one",
        .enabled(if: canMountInUserNamespace))
    func stateDiskFull() throws {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["rows": ["items", 4, 3]], ["checkpoint": ["c": 6]], ["reply": true]]])
        let stateFolder = fixture.path + "/state-fs"
        let result = inNamespace(
            """
            mkdir -p '\(stateFolder)'
            mount -t tmpfs -o size=8k tmpfs '\(stateFolder)' || exit 99
            cp '\(fixture.statePath)' '\(stateFolder)/state.json'
            dd if=/dev/zero of='\(stateFolder)/filler' bs=1k count=64 2> /dev/null
            '\(host)' run '\(fixture.path)' --quiet --state '\(stateFolder)/state.json' > /dev/null
            echo "exit $?"
            """)
        #expect(
            result.output
                == #"error: cannot write the state file \#(stateFolder)/state.json.tmp: No space left on device; checkpoint "cp-1" (stdout line 4) was not committed, so the warehouse and the state stay at the previous checkpoint. Free some disk space (or fix the folder's permissions) and run again"#
                + "\nexit 1\n")
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a read-only file system is refused before the connector starts", .enabled(if: canMountInUserNamespace))
    func readOnlyFileSystem() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let marker = fixture.path + "/connector-started"
        try fixture.script(["initialize": [["touch": .string(marker)], ["reply": true]]])
        let files = fixture.path + "/files"
        let result = inNamespace(
            """
            mount --bind '\(files)' '\(files)' && mount -o remount,ro,bind '\(files)' || exit 99
            '\(host)' run '\(fixture.path)' --quiet > /dev/null
            echo "exit $?"
            """)
        #expect(
            result.output
                == "error: cannot open the lock file \(files)/warehouse.db.lock: Read-only file system; \(files) is on a read-only file system: choose another warehouse with --warehouse\nexit 1\n"
        )
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test(
        "a read-only warehouse file is refused before the connector starts",
        .enabled(if: canMakeFileReadOnly, "root ignores permission bits, and chattr +i is not available here"))
    func readOnlyWarehouseFile() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let marker = fixture.path + "/connector-started"
        try fixture.script(["initialize": [["touch": .string(marker)], ["reply": true]]])
        chmod(fixture.warehousePath, 0o444)
        var immutable = false
        if access(fixture.warehousePath, W_OK) == 0 {
            // Root ignores permission bits; an immutable file is read-only even for root.
            immutable = shell(["chattr", "+i", fixture.warehousePath]).status == 0
            try #require(immutable, "chattr +i worked on a scratch file but not on the warehouse")
        }
        defer { if immutable { shell(["chattr", "-i", fixture.warehousePath]) } }
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "the warehouse \(fixture.warehousePath) is read-only (the file is not writable [SQLite 8]) while opening it; make the file, its -wal and -shm files and its folder writable (chmod u+w), or choose another file with --warehouse"
        )
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a warehouse locked by another program is reported before the connector starts")
    func lockedBySQLite() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let marker = fixture.path + "/connector-started"
        try fixture.script(["initialize": [["touch": .string(marker)], ["reply": true]]])
        let other = try SQLiteDatabase(path: fixture.warehousePath)
        try other.execute("BEGIN IMMEDIATE")
        defer { try? other.execute("ROLLBACK") }
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "the warehouse \(fixture.warehousePath) is locked by another program (database is locked [SQLite 5]) while opening it; close the program that writes to it (for example a sqlite3 shell with an open transaction) and run again"
        )
        #expect(!FileManager.default.fileExists(atPath: marker))
        try other.execute("ROLLBACK")
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a second run on the same directory is refused with a message naming the lock and its holder")
    func secondRunRefused() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let started = fixture.path + "/first-started"
        let release = fixture.path + "/release-first"
        try fixture.script([
            "update": [
                ["rows": ["items", 4, 3]], ["touch": .string(started)], ["waitFor": .string(release)], ["checkpoint": ["c": 6]],
                ["reply": true],
            ]
        ])
        let first = try RunningCLI(["run", fixture.path])
        #expect(waitForFile(started))
        let second = try runCLI(["run", fixture.path])
        #expect(second.status == 1)
        #expect(
            second.stderr
                == "error: another connector-host (pid \(first.pid)) is syncing into this warehouse; it holds the lock \(fixture.warehousePath).lock. Wait for it to finish or stop it\n"
        )
        #expect(FileManager.default.createFile(atPath: release, contents: nil))
        let result = first.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(fixture.stateFile() == #"{"c":6}"#)
    }

    @Test("past the file size limit (ulimit -f) the checkpoint fails with a message naming the limit")
    func fileSizeLimit() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        var steps: [JSONValue] = []
        for first in stride(from: 4, to: 20_000, by: 2000) { steps.append(["rows": ["items", .number(JSONNumber(first)), 2000]]) }
        try fixture.script(["update": .array(steps + [["checkpoint": ["c": 99]], ["reply": true]])])
        let result = shell(["sh", "-c", "trap '' XFSZ; ulimit -f 256 && exec '\(host)' run '\(fixture.path)' --quiet > /dev/null"])
        #expect(result.status == 1)
        #expect(
            result.output
                == #"error: the warehouse \#(fixture.warehousePath) reached the file size limit while committing checkpoint "cp-1" (stdout line 13) (disk I/O error [SQLite 778]); nothing after the last checkpoint was kept. Raise the limit (ulimit -f) and run again"#
                + "\n")
        #expect(try fixture.snapshot() == seededSnapshot)
    }
}
