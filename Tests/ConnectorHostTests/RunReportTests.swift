import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What `run` tells a new user: counts that are not misread, where the configuration came from,
/// typos named, builds quiet when nothing was built, usage errors without a report, a traceback
/// once, and log lines in the order they were written.
@Suite("The run report and console")
struct RunReportTests {
    /// A Python connector (Fivetran style) in a temporary folder, with `configuration` unless nil.
    private func python(_ source: String, configuration: String? = nil) throws -> ConnectorFixture {
        var files = ["connector.py": source]
        if let configuration { files["configuration.json"] = configuration }
        return try ConnectorFixture(files: files)
    }

    @Test("a cancelled run reports received and committed counts side by side, and the outcome says what was kept")
    func cancelledCounts() throws {
        let fixture = try ConnectorFixture.hostile([
            "update": [
                ["rows": ["items", 1, 3]], ["checkpoint": ["c": 3]], ["rows": ["items", 4, 2]],
                ["send": ["method": "log", "params": ["level": "info", "message": "press Ctrl-C now"]]], ["readUntilEOF": true],
            ]
        ])
        // Ctrl-C once the log line after rows 4 and 5 is read: those two were received, then rolled back.
        let cancellation = CancellationSignal()
        let console = CancellingConsole(cancellation: cancellation, when: "press Ctrl-C now")
        var options = SyncOptions(directory: fixture.path)
        options.gracePeriod = 2
        let report = SyncRunner.run(options, console: console, cancellation: cancellation)
        #expect(report.failure?.kind == .cancelled)
        let lines = SyncReportFormatter.table(report).split(separator: "\n").map(String.init)
        #expect(lines.contains(String(repeating: " ", count: 16) + "received  committed"), "\(lines)")
        #expect(lines.contains("upserts" + String(repeating: " ", count: 16) + "5" + String(repeating: " ", count: 10) + "3"))
        #expect(lines.contains("checkpoints" + String(repeating: " ", count: 12) + "1" + String(repeating: " ", count: 10) + "1"))
        #expect(
            lines.contains(
                "outcome: CANCELLED; the warehouse is at the last checkpoint: 3 of 5 operations received were committed, 2 rolled back"))
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["3"]])
    }

    @Test("the run says where its configuration comes from, and when there is none, a failing connector gets a hint")
    func configurationSource() throws {
        let configured = try ConnectorFixture.hostile(["update": [["rows": ["items", 1, 1]], ["reply": true]]])
        let run = try runCLI(["run", configured.path])
        #expect(run.status == 0)
        #expect(run.stderr.contains("reading configuration from \(configured.path)/configuration.json\n"), "\(run.stderr)")

        let bare = try python(
            """
            from fivetran_connector_sdk import Connector, Operations as op
            def update(configuration, state):
                op.upsert("items", {"id": 1, "key": configuration["api_key"]})
            connector = Connector(update=update)
            """)
        let failed = try runCLI(["run", bare.path])
        #expect(failed.status == 1)
        #expect(
            failed.stderr.contains(
                "no configuration: \(bare.path)/configuration.json does not exist, so the connector gets an empty one ({}); create it, or pass --configuration FILE\n"
            ))
        #expect(failed.stderr.contains("error: the connector failed in update: KeyError: 'api_key' [error -32013 (source error)]\n"))
        #expect(
            failed.stderr.contains(
                "\n  hint: \(bare.path) has no configuration.json, so the connector got an empty configuration; if it needs settings (keys, URLs, ids), write them there as a JSON object, or pass --configuration FILE"
            ))
        // The traceback is shown once, in the error, with the line of connector.py.
        #expect(failed.stderr.components(separatedBy: "Traceback (most recent call last)").count == 2, "\(failed.stderr)")
        #expect(failed.stderr.contains("\n  traceback (from the connector):\n    Traceback (most recent call last):\n"))
        #expect(failed.stderr.contains(#"connector.py", line 3, in update"#))
    }

    @Test("an operation on an undeclared table close to a declared one asks: did you mean orders?")
    func didYouMean() throws {
        let fixture = try ConnectorFixture.hostile([
            "tables": [table("orders", primaryKey: ["id"], columns: ["id": "LONG"])],
            "update": [["records": [["op": "upsert", "table": "order", "data": ["id": 1]]]], ["reply": true]],
        ])
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(
            console.all.contains(
                #"warning: table "order" was not in the schema; it was created without a primary key, with inferred column types. Did you mean "orders", which the schema declares?"#
            ), "\(console.all)")
    }

    @Test("a build step's output shows when it built something and stays quiet when it found nothing to do")
    func buildOutputOnlyWhenBuilt() throws {
        let fixture = try ConnectorFixture(configuration: ["update": [["reply": true]], "tables": []])
        // The "build" writes the executable once (a script starting the hostile connector), then finds it up to date.
        try fixture.write(
            "connector.json",
            JSONWriter.string([
                "name": "built",
                "command": ["./bin/connector"],
                "build": [
                    "sh", "-c",
                    .string(
                        "echo checking sources; if [ ! -x bin/connector ]; then echo compiling connector; mkdir -p bin; printf '#!/bin/sh\\nexec python3 \(hostileScript)\\n' > bin/connector; chmod +x bin/connector; fi"
                    ),
                ],
            ]))
        let first = try runCLI(["run", fixture.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("building built: sh -c echo checking sources;"))
        #expect(first.stderr.contains("\n  checking sources\n  compiling connector\n"))
        let second = try runCLI(["run", fixture.path])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("building built"), "\(second.stderr)")
        #expect(!second.stderr.contains("checking sources"))
    }

    @Test("a configuration that is missing, not JSON or not an object is a usage error: exit 2, the message, no report")
    func configurationUsageErrors() throws {
        let fixture = try ConnectorFixture.hostile(["update": [["reply": true]]])
        let missing = try runCLI(["run", fixture.path, "--configuration", "/no/such/configuration.json"])
        #expect(missing.status == 2)
        #expect(missing.stdout == "")
        #expect(
            missing.stderr
                == "error: the configuration file /no/such/configuration.json does not exist; check the path given to --configuration\n")
        try fixture.write("broken.json", "{\"a\": ")
        let broken = try runCLI(["run", fixture.path, "--configuration", fixture.path + "/broken.json"])
        #expect(broken.status == 2)
        #expect(broken.stdout == "")
        #expect(broken.stderr.hasPrefix("error: the configuration file \(fixture.path)/broken.json is not valid JSON: "))
        #expect(broken.stderr.hasSuffix("; fix it, it must hold one JSON object\n"))
        #expect(!FileManager.default.fileExists(atPath: fixture.warehousePath))
    }

    @Test("inspect refuses a malformed configuration instead of showing its secrets unmasked")
    func inspectMalformedConfiguration() throws {
        let fixture = try ConnectorFixture.hostile([
            "update": [["rows": ["items", 1, 1]], ["checkpoint": ["token": "s3cr3t-value"]], ["reply": true]]
        ])
        #expect(fixture.sync().0.failure == nil)
        try fixture.write("configuration.json", "[1, 2")
        let result = try runCLI(["inspect", fixture.path])
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("error: the configuration file \(fixture.path)/configuration.json is not valid JSON: "))
        #expect(
            result.stderr.hasSuffix(
                ". inspect reads it to mask its secret values in what it shows; fix it, or name another with --configuration\n"))
    }

    @Test("print() and log lines of a Python connector show in the order they were written, even behind a backlog of records")
    func logOrder() throws {
        let fixture = try python(
            """
            from fivetran_connector_sdk import Connector, Operations as op, Logging as log
            def update(configuration, state):
                for i in range(20000):
                    op.upsert("items", {"id": i, "text": "row %d" % i})
                print("one: printed")
                log.info("two: logged")
                print("three: printed")
                log.warning("four: logged")
                op.checkpoint({"done": True})
            connector = Connector(update=update)
            """, configuration: "{}")
        let result = try runCLI(["run", fixture.path])
        #expect(result.status == 0, "\(result.stderr)")
        let order = ["one: printed", "two: logged", "three: printed", "four: logged"].map { marker in
            result.stderr.range(of: marker)?.lowerBound
        }
        #expect(!order.contains(nil), "\(result.stderr)")
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted(), "\(result.stderr)")
    }
}

/// A console that presses Ctrl-C (cancels) when the connector logs a given message: the cancel then
/// comes exactly after the lines before that log were read.
final class CancellingConsole: SyncConsole {
    let cancellation: CancellationSignal
    let trigger: String

    init(cancellation: CancellationSignal, when trigger: String) {
        self.cancellation = cancellation
        self.trigger = trigger
    }

    func connectorLog(_ connector: String, level: LogLevel?, _ message: String) {
        if message == trigger { cancellation.cancel() }
    }

    func note(_ message: String) {}
    func progress(_ counts: OperationCounts, elapsed: Double) {}
}
