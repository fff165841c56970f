import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Attacks on the host's handling of processes and pipes: absurd durations, a connector that leaves
/// processes behind, one that writes before it reads, signals to the host, and what a connector
/// sends after it said it was done.
@Suite("Processes and pipes: no trap, no hang, no orphan, nothing dropped")
struct ProcessAttackTests {
    @Test("infinite or huge durations from a library caller neither trap nor hang a sync")
    func hugeDurations() throws {
        let fixture = try ConnectorFixture.hostile(["update": [["rows": ["items", 1, 3]], ["checkpoint": ["c": 3]], ["reply": true]]])
        for (idle, handshake, grace) in [(Double.infinity, 1e19, 1e300), (1e19, .infinity, .infinity), (.nan, .nan, .nan)] {
            let (report, _) = fixture.sync {
                $0.idleTimeout = idle
                $0.handshakeTimeout = handshake
                $0.gracePeriod = grace
            }
            #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        }
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["3"]])

        // On the failure path too: the connector is silent past a short idle timeout, and a grace
        // period of infinity (bounded to a year) is cut short by a second cancellation.
        try fixture.script(["update": [["hang": true]]])
        let cancellation = CancellationSignal()
        let warehouse = fixture.warehousePath
        Thread {
            // Once the timeout failed the sync (the history says so before the connector is stopped).
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                let status =
                    (try? SQLiteDatabase(readOnlyPath: warehouse).query(
                        #"SELECT "status" FROM "_connector_syncs" ORDER BY "id" DESC LIMIT 1"#))?.first?.first
                if status == .text("failed") { break }
                usleep(20_000)
            }
            cancellation.cancel(.terminate)
            cancellation.cancel(.terminate)
        }.start()
        var options = SyncOptions(directory: fixture.path)
        options.idleTimeout = 0.5
        options.gracePeriod = .infinity
        let report = SyncRunner.run(options, console: RecordingConsole(), cancellation: cancellation)
        #expect(report.failure?.kind == .timeout)
        #expect(
            report.failure?.message.hasPrefix(
                "the connector sent nothing for 0.5 s during update; it was stopped. If the source is just slow, raise --idle-timeout")
                == true, "\(report.failure?.message ?? "")")
        #expect(try fixture.history().last?[0] == "failed")
    }

    @Test("a connector that exits while a process it started (in a new session) holds its stdout is noticed at once")
    func exitWhileGrandchildHoldsStdout() throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("grandchild-\(UUID().uuidString)").path
        defer { readPID(pidFile).map { _ = kill($0, SIGKILL) } }
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                ["rows": ["items", 4, 3]],
                ["spawn": ["argv": ["sleep", "60"], "newSession": true, "pidFile": .string(pidFile)]], ["exit": 3],
            ]
        ])
        let (report, _) = fixture.sync { $0.idleTimeout = 30 }
        #expect(
            report.failure?.message
                == "the connector exited with status 3 (a process it started still holds its stdout) before answering update; the warehouse is back at the last checkpoint. A connector must answer every request and exit only on stdin EOF"
        )
        #expect(try fixture.snapshot() == seededSnapshot)
        #expect(readPID(pidFile).map(processExists) == true, "a process in a session of its own is out of the host's reach")
    }

    @Test("a large request is written while the connector's output is read: a connector that logs before it reads never deadlocks")
    func writeWhileReading() throws {
        let fixture = try ConnectorFixture.hostile([
            "schema": [
                ["reply": true],
                [
                    "repeat": [
                        .string(#"{"jsonrpc":"2.0","method":"log","params":{"level":"debug","message":"warming up"}}"# + "\n"), 40_000,
                    ]
                ],
            ],
            "update": [["checkpoint": ["c": 1]], ["reply": true]],
        ])
        try fixture.write("files/state.json", JSONWriter.string(["blob": .string(String(repeating: "s", count: 4 << 20))]))
        let (report, console) = fixture.sync { $0.idleTimeout = 30 }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(console.all.filter { $0 == "[fixture debug] warming up" }.count == 40_000)
        #expect(fixture.stateFile() == #"{"c":1}"#)
    }

    @Test(
        "SIGTERM or SIGHUP to the host is treated like Ctrl-C: rolled back, the connector stopped, recorded, said, exit 128 + signal",
        arguments: [
            (SIGTERM, "SIGTERM: the host was asked to stop", "the host was asked to stop (SIGTERM)"),
            (SIGHUP, "SIGHUP: the host's terminal went away", "the host's terminal went away (SIGHUP)"),
        ])
    func terminatedHost(_ signal: Int32, _ explanation: String, _ cancelReason: String) throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let marker = fixture.path + "/update-started"
        let pidFile = fixture.path + "/connector.pid"
        try fixture.script([
            "update": [
                ["rows": ["items", 4, 3]], ["checkpoint": ["c": 6]], ["rows": ["items", 7, 3]], ["pidFile": .string(pidFile)],
                ["touch": .string(marker)], ["readUntilEOF": true],
            ]
        ])
        let run = try RunningCLI(["run", fixture.path, "--grace", "2"])
        #expect(waitForFile(marker))
        kill(run.pid, signal)
        let result = run.finish()
        #expect(!result.signaled && result.status == 128 + signal, "\(result.stderr)")
        #expect(result.stderr.contains("[fixture] hostile: got cancel: \(cancelReason)\n"), "\(result.stderr)")
        #expect(
            result.stderr.hasSuffix(
                "error: cancelled (\(explanation)): the connector was asked to stop and everything after the last checkpoint was rolled back\n"
            ), "\(result.stderr)")
        let expected =
            seededSnapshot.filter { !$0.contains("{\"c\":3}") } + [#"_connector_state: 1|{"c":6}"#, #"state file: {"c":6}"#]
            + ["items: 4|row 4|0", "items: 5|row 5|0", "items: 6|row 6|0"]
        #expect(try fixture.snapshot().sorted() == expected.sorted())
        #expect(try fixture.history().map { $0[0] } == ["succeeded", "cancelled"])
        #expect(readPID(pidFile).map(processExists) == false)
    }

    @Test("SIGTERM to the host stops a connector that does not read its stdin (no orphan)")
    func terminatedHostWithDeafConnector() throws {
        let fixture = try ConnectorFixture.seeded(then: [:])
        let marker = fixture.path + "/update-started"
        let pidFile = fixture.path + "/connector.pid"
        try fixture.script([
            "update": [["pidFile": .string(pidFile)], ["ignore": ["SIGTERM"]], ["touch": .string(marker)], ["hang": true]]
        ])
        let run = try RunningCLI(["run", fixture.path, "--grace", "0.5"])
        #expect(waitForFile(marker))
        kill(run.pid, SIGTERM)
        let result = run.finish()
        #expect(result.status == 143)
        #expect(
            result.stderr.hasSuffix(
                "error: cancelled (SIGTERM: the host was asked to stop): the connector was asked to stop and everything after the last checkpoint was rolled back\n  the connector did not exit within 0.5 s of its stdin closing, nor 0.5 s after SIGTERM; the host killed it with SIGKILL\n"
            ), "\(result.stderr)")
        #expect(readPID(pidFile).map(processExists) == false)
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("processes the connector left in its group are ended at the end of every sync, successful or not")
    func stragglersEnded() throws {
        for (ending, failed) in [(["reply": true] as JSONValue, false), (["exit": 3], true)] {
            let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("straggler-\(UUID().uuidString)").path
            defer { readPID(pidFile).map { _ = kill($0, SIGKILL) } }
            let fixture = try ConnectorFixture.hostile([
                "update": [
                    ["spawn": ["argv": ["sh", "-c", "trap '' TERM; sleep 60"], "pidFile": .string(pidFile)]], ["checkpoint": ["c": 1]],
                    ending,
                ]
            ])
            let (report, console) = fixture.sync { $0.gracePeriod = 0.5 }
            #expect((report.failure != nil) == failed, "\(report.failure?.message ?? "")")
            #expect(
                console.all.contains(
                    "warning: processes the connector started were still running after it exited; the host stopped them with SIGKILL (they ignored SIGTERM)"
                ), "\(console.all)")
            let pid = try #require(readPID(pidFile))
            #expect(!processExists(pid))
        }
    }

    @Test("records or a checkpoint sent after the connector answered update are a protocol error, and roll back")
    func dataAfterUpdateAnswer() throws {
        for (late, what) in [
            (
                ["rows": ["items", 9, 1]] as JSONValue,
                "is a records message after the connector answered update; send every operation before answering update"
            ),
            (
                ["checkpointNoWait": ["c": 9]],
                #"is a checkpoint (id "cp-2") after the connector answered update; checkpoint before answering update"#
            ),
        ] {
            let fixture = try ConnectorFixture.seeded(then: [:])
            try fixture.script([
                "update": [["rows": ["items", 4, 2]], ["checkpoint": ["c": 5]], ["rows": ["items", 6, 1]], ["reply": true], late]
            ])
            let (report, _) = fixture.sync()
            #expect(report.failure?.kind == .protocolViolation)
            #expect(
                report.failure?.message.hasPrefix("stdout line 7 \(what). Nothing after the last checkpoint was kept") == true,
                "\(report.failure?.message ?? "")")
            #expect(try fixture.rows(#"SELECT "id" FROM "items" ORDER BY 1"#).map { $0[0] } == ["1", "2", "3", "4", "5"])
            #expect(fixture.stateFile() == #"{"c":5}"#)
            #expect(try fixture.history().map { $0[0] } == ["succeeded", "failed"])
        }
    }

    @Test("after one stderr line over 1 MiB, that line is cut and every later line is kept")
    func longStderrLine() throws {
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [["stderr": .string(String(repeating: "x", count: 1_500_000))], ["stderr": "Traceback: the real cause"], ["exit": 3]]
        ])
        let (report, console) = fixture.sync()
        #expect(
            console.all.contains(
                "[fixture] " + String(repeating: "x", count: 1 << 20) + "… (cut: the line has 1500000 bytes, more than 1048576)"))
        #expect(console.all.contains("[fixture] Traceback: the real cause"))
        #expect(
            report.failure?.message.hasSuffix("\n    Traceback: the real cause") == true, "\(report.failure?.message.suffix(300) ?? "")")
    }
}
