import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Each test seeds a warehouse (rows 1-3, state {"c":3}), runs a connector that fails in one way,
/// and checks the exact message and that the warehouse and the state file did not change.
@Suite("The connector exits or is killed")
struct ConnectorExitTests {
    @Test("a connector that exits during initialize fails the sync with its status and changes nothing")
    func exitDuringInitialize() throws {
        let fixture = try ConnectorFixture.seeded(then: ["initialize": [["stderr": "cannot start: no API key"], ["exit": 3]]])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "the connector exited with status 3 before answering initialize; the warehouse is back at the last checkpoint. A connector must answer every request and exit only on stdin EOF\n  last lines of the connector's stderr:\n    cannot start: no API key"
        )
        #expect(report.failure?.kind == .connectorExited)
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a connector that crashes with SIGSEGV during schema fails the sync and changes nothing")
    func crashDuringSchema() throws {
        let fixture = try ConnectorFixture.seeded(then: ["schema": [["kill": "SIGSEGV"]]])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "the connector was killed by signal 11 (SIGSEGV, a crash) before answering schema; the warehouse is back at the last checkpoint. A connector must answer every request and exit only on stdin EOF"
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a connector killed with SIGKILL between records loses everything after its last checkpoint")
    func killedBetweenRecords() throws {
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                ["rows": ["items", 1, 2]], ["records": [["op": "delete", "table": "items", "keys": ["id": 3]]]],
                ["rows": ["items", 100, 50]], ["kill": "SIGKILL"],
            ]
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "the connector was killed by signal 9 (SIGKILL) before answering update; the warehouse is back at the last checkpoint. A connector must answer every request and exit only on stdin EOF"
        )
        #expect(try fixture.snapshot() == seededSnapshot)
        #expect(try fixture.history().map { $0[0] } == ["succeeded", "failed"])
    }

    @Test("a connector that exits in the middle of a line: the partial line is shown and nothing of it is applied")
    func exitMidLine() throws {
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                ["rows": ["items", 4, 2]],
                ["raw": #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"items","data":{"id":7"#],
                ["exit": 0],
            ]
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == #"stdout ended in the middle of line 4 (the connector exited with status 0): "{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"items","data":{"id":7"; the connector stopped while writing a message"#
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a connector that dies with its checkpoint unanswered: the checkpoint it sent in full is committed")
    func killedWithCheckpointUnanswered() throws {
        // Closing stdin first makes the host's answer fail for certain, whether or not the process is gone yet.
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                ["rows": ["items", 4, 3]], ["closeStdin": true], ["checkpointNoWait": ["c": 6]], ["rows": ["items", 7, 3]],
                ["kill": "SIGKILL"],
            ]
        ])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == #"the connector was killed by signal 9 (SIGKILL) before it read the answer to its checkpoint "cp-1" (stdout line 4); that checkpoint is committed, so the next run resumes from its state"#
        )
        let expected =
            seededSnapshot.filter { !$0.contains("{\"c\":3}") } + [#"_connector_state: 1|{"c":6}"#, #"state file: {"c":6}"#]
            + ["items: 4|row 4|0", "items: 5|row 5|0", "items: 6|row 6|0"]
        #expect(try fixture.snapshot().sorted() == expected.sorted())
    }

    @Test("a connector that exits 0 without answering update fails the sync")
    func exitWithoutAnsweringUpdate() throws {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["rows": ["items", 4, 3]], ["exit": 0]]])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "the connector exited with status 0 before answering update; the warehouse is back at the last checkpoint. A connector must answer every request and exit only on stdin EOF"
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a connector that closes stdout but keeps running is stopped with SIGTERM")
    func closesStdout() throws {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["rows": ["items", 4, 3]], ["closeStdout": true], ["hang": true]]])
        let (report, _) = fixture.sync { $0.gracePeriod = 0.2 }
        #expect(
            report.failure?.message
                == "the connector closed its stdout before answering update; the warehouse is back at the last checkpoint. A connector must answer every request and exit only on stdin EOF\n  the connector did not exit within 0.2 s of its stdin closing; the host stopped it with SIGTERM"
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }
}

@Suite("The connector hangs")
struct ConnectorHangTests {
    @Test("a connector silent during initialize hits the handshake timeout; ignoring SIGTERM gets it SIGKILL")
    func handshakeTimeout() throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString).pid").path
        defer { unlink(pidFile) }
        let fixture = try ConnectorFixture.seeded(then: [
            "initialize": [["pidFile": .string(pidFile)], ["ignore": ["SIGTERM"]], ["hang": true]]
        ])
        let started = Date()
        // Generous enough for Python to start on a loaded machine; the connector hangs after writing its pid.
        let (report, _) = fixture.sync {
            $0.handshakeTimeout = 1.5
            $0.gracePeriod = 0.2
        }
        #expect(
            report.failure?.message
                == "the connector did not answer initialize within 1.5 s; it was stopped. If it needs longer to start, raise --handshake-timeout\n  the connector did not exit within 0.2 s of its stdin closing, nor 0.2 s after SIGTERM; the host killed it with SIGKILL"
        )
        #expect(report.failure?.kind == .timeout)
        #expect(Date().timeIntervalSince(started) < 5)
        let pid = try #require(readPID(pidFile))
        #expect(!processExists(pid))
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("log messages do not extend the handshake timeout: it covers the whole request")
    func handshakeTimeoutIsPerRequest() throws {
        let log: JSONValue = ["send": ["method": "log", "params": ["level": "debug", "message": "still starting"]]]
        let fixture = try ConnectorFixture.seeded(then: [
            "schema": [log, ["sleep": 0.5], log, ["sleep": 0.5], log, ["sleep": 0.5], log, ["sleep": 0.5], ["reply": true]]
        ])
        let (report, _) = fixture.sync {
            $0.handshakeTimeout = 1.5
            $0.gracePeriod = 0.2
        }
        #expect(
            report.failure?.message
                == "the connector did not answer schema within 1.5 s; it was stopped. If it needs longer to start, raise --handshake-timeout\n  the connector did not exit within 0.2 s of its stdin closing; the host stopped it with SIGTERM"
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a connector silent during update hits the idle timeout and is stopped with SIGTERM")
    func idleTimeout() throws {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["rows": ["items", 4, 3]], ["hang": true]]])
        let (report, _) = fixture.sync {
            $0.idleTimeout = 0.3
            $0.gracePeriod = 0.2
        }
        #expect(
            report.failure?.message
                == "the connector sent nothing for 0.3 s during update; it was stopped. If the source is just slow, raise --idle-timeout, or send log messages to show progress (each message restarts the timer)\n  the connector did not exit within 0.2 s of its stdin closing; the host stopped it with SIGTERM"
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("every message restarts the idle timer: a slow connector that keeps talking succeeds")
    func idleTimerRestarts() throws {
        let log: JSONValue = ["send": ["method": "log", "params": ["level": "debug", "message": "waiting for the API"]]]
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                log, ["sleep": 0.3], log, ["sleep": 0.3], log, ["sleep": 0.3], ["rows": ["items", 4, 1]], ["checkpoint": ["c": 4]],
                ["reply": true],
            ]
        ])
        let (report, _) = fixture.sync { $0.idleTimeout = 1 }
        #expect(report.failure == nil)
        #expect(fixture.stateFile() == #"{"c":4}"#)
    }

    @Test("a line trickled byte by byte without its newline still hits the idle timeout")
    func tricklingLine() throws {
        var steps: [JSONValue] = []
        for _ in 0..<20 { steps += [["raw": "{"], ["sleep": 0.05]] }
        let fixture = try ConnectorFixture.seeded(then: ["update": .array(steps + [["hang": true]])])
        let (report, _) = fixture.sync {
            $0.idleTimeout = 0.3
            $0.gracePeriod = 0.2
        }
        #expect(report.failure?.message.hasPrefix("the connector sent nothing for 0.3 s during update; it was stopped.") == true)
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("a connector that never reads its stdin cannot block the host: the write times out")
    func connectorNotReadingStdin() throws {
        let fixture = try ConnectorFixture(
            command: ["sleep", "30"], configuration: ["payload": .string(String(repeating: "x", count: 300_000))])
        let (report, _) = fixture.sync {
            $0.handshakeTimeout = 0.3
            $0.gracePeriod = 0.2
        }
        #expect(
            report.failure?.message
                == "the connector did not read its stdin for 0.3 s while the host was sending its initialize request; it was stopped. A connector must keep reading stdin (a full pipe blocks the host)\n  the connector did not exit within 0.2 s of its stdin closing; the host stopped it with SIGTERM"
        )
        // The host opened (created) the warehouse before starting the connector; nothing was written to it.
        #expect(try fixture.snapshot() == ["state file: none"])
    }
}

@Suite("Garbage on the connector's stdout")
struct StdoutGarbageTests {
    /// Seeds, sends rows 4-6 (which must be rolled back), then `line`, and returns the failure message.
    private func failure(after line: String, configure: (inout SyncOptions) -> Void = { _ in }) throws -> String? {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["rows": ["items", 4, 3]], ["raw": .string(line)], ["reply": true]]])
        let (report, _) = fixture.sync(configure: configure)
        #expect(try fixture.snapshot() == seededSnapshot)
        return report.failure?.message
    }

    @Test("a stray print on stdout is a protocol error naming the line and its text")
    func strayPrint() throws {
        let message = try failure(after: "Fetching page 2...\n")
        #expect(
            message
                == """
                stdout line 4 is not valid JSON (expected a JSON-RPC object, found 'F' at byte 1): "Fetching page 2..."
                  stdout carries protocol messages only; write logs and prints to stderr (the SDKs do this for you)
                """)
    }

    @Test("invalid UTF-8 in a record value is an invalid operation naming the column")
    func invalidUTF8InRecord() throws {
        let message = try failure(
            after:
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"items","data":{"id":9,"value":"\#u{FF}\#u{FE}"}}]}}"#
                + "\n")
        #expect(
            message?.hasPrefix(
                #"invalid operation: operation #4 (stdout line 4), table "items", column "value": the string is not valid UTF-8"#) == true)
    }

    @Test("invalid UTF-8 in a control message is a protocol error with the byte offset")
    func invalidUTF8InLog() throws {
        let message = try failure(after: #"{"jsonrpc":"2.0","method":"log","params":{"level":"info","message":"caf\#u{E9}"}}"# + "\n")
        #expect(
            message
                == """
                stdout line 4 is not valid JSON (invalid UTF-8 in string at byte 69): "{"jsonrpc":"2.0","method":"log","params":{"level":"info","message":"caf\\xE9"}}"
                  stdout carries protocol messages only; write logs and prints to stderr (the SDKs do this for you)
                """)
    }

    @Test("a line over the size limit is refused even when it arrives in one read")
    func lineOverLimit() throws {
        #expect(
            try failure(after: String(repeating: "x", count: 5000) + "\n", configure: { $0.maximumLineLength = 1024 })
                == "stdout line 4 is longer than 1024 bytes; send records in batches of at most ~1 MiB (the SDKs do), or raise --max-line-bytes"
        )
    }

    @Test("deeply nested JSON is refused at the nesting limit, not by running out of stack")
    func deepNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let message = try failure(after: #"{"jsonrpc":"2.0","method":"log","params":{"message":"# + deep + "}}\n")
        #expect(
            message?.hasPrefix(
                #"stdout line 4 nests arrays and objects deeper than the host's limit of 64 levels (at byte 115): "{"jsonrpc":"2.0","method":"log","params":{"message":[[[[[["#
            ) == true)
        #expect(message?.hasSuffix("… (200054 bytes)\n  flatten the value, or send a deep document as a JSON string") == true)
        let inRecord = try failure(
            after: #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"items","data":{"id":9,"value":"# + deep
                + "}}]}}\n")
        #expect(
            inRecord?.hasPrefix("stdout line 4 nests arrays and objects deeper than the host's limit of 64 levels (at byte 167)") == true)
    }

    @Test("a NUL byte on stdout is a protocol error that shows the byte")
    func nulByte() throws {
        #expect(
            try failure(after: "{\"jsonrpc\":\"2.0\",\u{0}\"method\":\"log\"}\n")
                == """
                stdout line 4 is not valid JSON (expected a string, found byte 0x0 at byte 18): "{"jsonrpc":"2.0",\\x00"method":"log"}"
                  stdout carries protocol messages only; write logs and prints to stderr (the SDKs do this for you)
                """)
    }

    @Test("valid JSON that is not an object (a batch array, a number, a string, null) is named as such")
    func notAnObject() throws {
        #expect(
            try failure(after: "[1,2,3]\n")
                == #"stdout line 4 is not a JSON-RPC 2.0 message: expected a JSON-RPC object, got a JSON array: "[1,2,3]""#)
        #expect(
            try failure(after: "42\n")
                == #"stdout line 4 is not a JSON-RPC 2.0 message: expected a JSON-RPC object, got a JSON number: "42""#)
        #expect(
            try failure(after: "null\n")
                == #"stdout line 4 is not a JSON-RPC 2.0 message: expected a JSON-RPC object, got a JSON null: "null""#)
    }

    @Test("a response to an id the host never sent is a protocol error")
    func responseToUnknownID() throws {
        #expect(
            try failure(after: #"{"jsonrpc":"2.0","id":99,"result":{}}"# + "\n")
                == "stdout line 4 answers request id 99, which the host never sent; a response must carry the id of the host's pending request"
        )
        #expect(
            try failure(after: #"{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"no"}}"# + "\n")
                == #"stdout line 4 answers request id "x", which the host never sent; a response must carry the id of the host's pending request"#
        )
    }

    @Test("a second answer to an answered request is a protocol error naming the request")
    func duplicateResponse() throws {
        #expect(
            try failure(after: #"{"jsonrpc":"2.0","id":2,"result":{"tables":[]}}"# + "\n")
                == "stdout line 4 answers the host's request 2 (schema) a second time; answer each request exactly once")
    }

    @Test("a member sent twice (envelope, params, operation, column) is refused, never resolved by picking one")
    func duplicateMembers() throws {
        let envelope = try failure(after: #"{"jsonrpc":"2.0","method":"log","method":"records","params":{"ops":[]}}"# + "\n")
        #expect(
            envelope
                == #"stdout line 4 is not a JSON-RPC 2.0 message: the member "method" appears twice: "{"jsonrpc":"2.0","method":"log","method":"records","params":{"ops":[]}}""#
        )
        let ops = #"{"jsonrpc":"2.0","method":"records","params":{"ops":[],"ops":[{"op":"truncate","table":"items"}]}}"#
        #expect(
            try failure(after: ops + "\n")
                == #"stdout line 4 is not a valid records message: the member "ops" appears twice in the params of records at byte 56: "#
                + "\"\(ops)\"")
        let table = try failure(
            after:
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"items","table":"other","data":{"id":9}}]}}"#
                + "\n")
        #expect(
            table?.hasPrefix(
                #"invalid operation: operation #4 (stdout line 4), table "other": the operation has "table" twice; send each member once"#)
                == true,
            "\(table ?? "")")
        let column = try failure(
            after:
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"items","data":{"id":9,"value":"a","value":"b"}}]}}"#
                + "\n")
        #expect(
            column?.hasPrefix(
                #"invalid operation: operation #4 (stdout line 4), table "items", column "value": column "value" appears twice in the operation; send each column once"#
            ) == true, "\(column ?? "")")
        let key = try failure(
            after: #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"delete","table":"items","keys":{"id":1,"id":2}}]}}"# + "\n"
        )
        #expect(
            key?.hasPrefix(
                #"invalid operation: operation #4 (stdout line 4), table "items", column "id": column "id" appears twice in the operation; send each column once"#
            ) == true, "\(key ?? "")")
    }

    @Test("a checkpoint id reused before its answer was read gets two answers, in order, and both commit")
    func reusedCheckpointID() throws {
        let checkpoint = { (cursor: Int) -> JSONValue in
            ["send": ["id": "cp", "method": "checkpoint", "params": ["state": ["c": .number(JSONNumber(cursor))]]]]
        }
        let fixture = try ConnectorFixture.seeded(then: [
            "update": [
                ["rows": ["items", 4, 1]], checkpoint(4), ["rows": ["items", 5, 1]], checkpoint(5), ["sleep": 0.2], ["reply": true],
            ]
        ])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        #expect(report.counts.checkpoints == 2)
        #expect(fixture.stateFile() == #"{"c":5}"#)
    }

    @Test("a checkpoint whose state is not an object is refused and rolled back")
    func checkpointStateNotObject() throws {
        let fixture = try ConnectorFixture.seeded(then: ["update": [["rows": ["items", 4, 3]], ["checkpoint": 7], ["reply": true]]])
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == #"checkpoint "cp-1" (stdout line 4) has a params.state that is a JSON number, not an object; send {"state": {...}} with the complete state as a JSON object"#
                + "\n  last lines of the connector's stderr:\n    hostile: checkpoint refused: checkpoint has a params.state that is a JSON number, not an object"
        )
        #expect(try fixture.snapshot() == seededSnapshot)
    }

    @Test("records and checkpoints outside update are protocol errors")
    func recordsOutsideUpdate() throws {
        let fixture = try ConnectorFixture.seeded(then: ["schema": [["rows": ["items", 4, 1]], ["reply": true]]])
        #expect(fixture.sync().0.failure?.message == "the connector sent records during schema; records belong inside update")
        try fixture.script(["schema": [["checkpointNoWait": ["c": 9]], ["reply": true]]])
        #expect(
            fixture.sync().0.failure?.message
                == #"the connector sent a checkpoint (id "cp-1") during schema; checkpoints belong inside update"#)
        #expect(try fixture.snapshot() == seededSnapshot)
    }
}
