import ConnectorHost
import Foundation
import Testing

/// Every connector folder the repository ships: connectors/* and examples/* with a manifest or a connector.py.
let shippedConnectors: [String] = ["connectors", "examples"].flatMap { folder -> [String] in
    let root = packageRoot.appendingPathComponent(folder)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().compactMap { name in
        let directory = root.appendingPathComponent(name).path
        let launchable = ["connector.json", "connector.py"].contains { FileManager.default.fileExists(atPath: directory + "/" + $0) }
        // Singer and Airbyte connectors install their package from PyPI first: AdapterPackageTests runs them.
        let manifest = (try? String(contentsOfFile: directory + "/connector.json", encoding: .utf8)) ?? ""
        return launchable && !manifest.contains(#""adapter""#) ? "\(folder)/\(name)" : nil
    }
}

/// A raw-protocol Python connector from Tests/Fixtures/broken, and the verdicts it must get.
struct BrokenConnector: Sendable, CustomTestStringConvertible {
    let script: String
    /// The checks that must fail, with their exact reasons.
    let failures: [ConformanceCheck: String]
    /// The checks that must be skipped (everything else must pass).
    var skipped: Set<ConformanceCheck> = []
    var timeout: Double = 30

    var testDescription: String { script }
}

let brokenConnectors: [BrokenConnector] = [
    BrokenConnector(script: "good.py", failures: [:]),
    BrokenConnector(script: "selects_tables.py", failures: [:]),
    BrokenConnector(
        script: "ignores_selection.py",
        failures: [
            .selectTables:
                "update with tables [items] sent operations on audit too; a connector that declares selectTables sends operations only for the tables update names"
        ]),
    BrokenConnector(
        script: "bad_handshake.py",
        failures: [
            .handshake:
                #"the initialize result is incomplete: connector.version is missing (a string); capabilities is missing (an object, e.g. {"test": false})"#
        ]),
    BrokenConnector(
        script: "no_init_guard.py",
        failures: [.notInitialized: "schema before initialize was answered with a result; expected error -32002 (not initialized)"]),
    BrokenConnector(
        script: "echoes_version.py",
        failures: [
            .versionNegotiation:
                "asked for version 2, the connector answered 2; a connector answers the requested version only if it speaks it, else the newest version it speaks (1 for v1 connectors)"
        ]),
    BrokenConnector(
        script: "prints_to_stdout.py",
        failures: [
            .stdout:
                #"run: stdout line 3 is not valid JSON (invalid literal, found 'f' at byte 1): "fetching items..." (and 3 more); stdout carries protocol messages only, print and log to stderr"#
        ]),
    BrokenConnector(
        script: "string_ids.py",
        failures: [
            .responseIDs: #"probes: the answer to schema (id 1) carried id "1" (and 17 more); copy the request's id exactly (1 is not "1")"#
        ]
    ),
    BrokenConnector(
        script: "never_answers.py",
        failures: [.unknownRequest: "conformance/no-such-method got no answer within 2 s; expected error -32601 (method not found)"],
        timeout: 2),
    BrokenConnector(
        script: "answers_notifications.py",
        failures: [
            .unknownNotification:
                "probes: the notification conformance/no-such-notification was answered with error -32601 (method not found); notifications are never answered, unknown ones are ignored"
        ]),
    BrokenConnector(
        script: "bad_schema.py",
        failures: [
            .schema: #"tables[0].columns.price: DECIMAL needs precision and scale: {"type": "DECIMAL", "precision": 10, "scale": 2}"#
        ],
        skipped: [.records]),
    BrokenConnector(
        script: "never_checkpoints.py",
        failures: [
            .update:
                "update succeeded without a checkpoint; checkpoint at least the final state before answering update, so the next run resumes from it"
        ],
        skipped: [.resume, .errorReporting]),
    BrokenConnector(
        script: "no_checkpoint_wait.py",
        failures: [
            .update:
                #"run: a records notification arrived while checkpoint "cp" was unanswered; checkpoint must block until the host answers (PROTOCOL.md 5.6)"#,
            .errorReporting:
                "update was answered with success although its checkpoint was refused; a checkpoint error must fail the update with an error answer",
        ]),
    BrokenConnector(
        script: "undeclared_table.py",
        failures: [
            .records: #"an operation wrote to table "audit", which the schema does not declare; declare every table in schema"#
        ]),
    BrokenConnector(
        script: "resume_fails.py",
        failures: [
            .resume: #"update from the first update's state {"next":4} was answered with error -32013 (source error): "KeyError: 'cursor'""#
        ]
    ),
    BrokenConnector(
        script: "eof_status.py",
        failures: [.eofExit: "the connector exited with status 1 after stdin EOF while idle after initialize; it must exit with status 0"]),
    BrokenConnector(
        script: "exits_early.py",
        failures: [
            .shutdown: "shutdown got no answer: the connector exited with status 0 first; expected the result {}, then exit 0 on stdin EOF"
        ]),
    BrokenConnector(script: "setup_good.py", failures: [:]),
    BrokenConnector(
        script: "setup_tests_disagree.py",
        failures: [
            .setupTests:
                "the test result says ok true but 1 of its 2 setup tests failed; ok is true exactly when every test passed"
        ]),
    BrokenConnector(
        script: "bad_configuration_form.py",
        failures: [
            .configurationForm:
                #"the configurationForm result has fields[0] (region) of type "number"; use text, password, dropdown or toggle (PROTOCOL.md 5.10)"#
        ]),
    BrokenConnector(
        script: "bad_warning.py",
        failures: [
            .warnings:
                #"run: the warning notification of stdout line 3 is not {"message": "..."}: it has no message; send the warning's text as a non-empty string (PROTOCOL.md 5.7a) (and 3 more)"#
        ]),
    BrokenConnector(
        script: "exits_on_failure.py",
        failures: [
            .errorReporting:
                "after the refused checkpoint, update got no answer: the connector exited with status 1 first; the connector must answer update with a JSON-RPC error (e.g. -32013), not only exit"
        ]),
]

@Suite("connector-host conformance")
struct ConformanceTests {
    @Test("every shipped connector passes conformance", arguments: shippedConnectors)
    func shippedConnectorConforms(_ connector: String) throws {
        let result = try runCLI(["conformance", packageRoot.appendingPathComponent(connector).path, "--no-build"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.hasSuffix("18 passed, 0 failed, 0 skipped: conforms to protocol 1\n"), "\(result.stdout)")
    }

    @Test("each broken connector fails exactly the check it breaks, with the expected reason", arguments: brokenConnectors)
    func brokenConnectorFails(_ broken: BrokenConnector) throws {
        let script = packageRoot.appendingPathComponent("Tests/Fixtures/broken/\(broken.script)").path
        let fixture = try ConnectorFixture(command: [pythonExecutable, script])
        var options = ConformanceOptions(directory: fixture.path)
        options.timeout = broken.timeout
        options.grace = 3
        let report = ConformanceSuite.run(options)
        #expect(report.launchFailure == nil)
        #expect(report.results.map(\.check) == ConformanceCheck.standard)
        for result in report.results {
            if let reason = broken.failures[result.check] {
                #expect(result.status == .failed, "\(result.check): \(result.reason)")
                #expect(result.reason == reason)
            } else if broken.skipped.contains(result.check) {
                #expect(result.status == .skipped, "\(result.check): \(result.reason)")
            } else {
                #expect(result.status == .passed, "\(result.check): \(result.reason)")
            }
        }
        #expect(report.passed == broken.failures.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.appendingPathComponent("files").path))
    }

    @Test("the CLI prints one line per check and exits 1 when a check fails; --json gives one object")
    func commandLine() throws {
        let fixture = try ConnectorFixture(
            command: [pythonExecutable, packageRoot.appendingPathComponent("Tests/Fixtures/broken/exits_early.py").path])
        let text = try runCLI(["conformance", fixture.path, "--grace", "3"])
        #expect(text.status == 1)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.count == ConformanceCheck.standard.count + 2)
        #expect(lines.filter { $0.hasPrefix("  PASS  ") }.count == 17)
        #expect(
            lines.contains(
                "  FAIL  shutdown              shutdown got no answer: the connector exited with status 0 first; expected the result {}, then exit 0 on stdin EOF"
            ))
        #expect(lines.last == "17 passed, 1 failed, 0 skipped: does not conform")

        let json = try runCLI(["conformance", fixture.path, "--grace", "3", "--json"])
        #expect(json.status == 1)
        #expect(
            json.stdout.hasPrefix(
                #"{"connector":"fixture","directory":"\#(fixture.path)","protocolVersion":1,"passed":false,"checks":[{"check":"handshake","status":"passed","reason":"#
            ))
        #expect(json.stdout.contains(#"{"check":"shutdown","status":"failed","reason":"shutdown got no answer"#))
    }

    @Test("secret configuration values never reach the report, the connector's stderr shown with --verbose, or the transcripts")
    func secretsMasked() throws {
        let secret = "conformance-secret-4711"
        let fixture = try ConnectorFixture(
            configuration: ["greeting": "hi", "api_key": .string(secret)],
            files: [
                "connector.py": """
                import sys
                from fivetran_connector_sdk import Connector, Operations as op

                def schema(configuration):
                    print("using key " + configuration["api_key"], file=sys.stderr)
                    return [{"table": "t", "primary_key": ["id"]}]

                def update(configuration, state):
                    if state:
                        raise RuntimeError("key " + configuration["api_key"] + " was rejected")
                    op.upsert("t", {"id": 1})
                    op.checkpoint({"done": True})

                connector = Connector(update=update, schema=schema)
                """
            ])
        let transcripts = fixture.directory.appendingPathComponent("transcripts")
        let result = try runCLI(["conformance", fixture.path, "--verbose", "--transcripts", transcripts.path])
        #expect(result.status == 1)
        #expect(
            result.stdout.contains(
                "  FAIL  resume                update from the first update's state {\"done\":true} was answered with error -32013 (source error): \"RuntimeError: key ******** was rejected\""
            ))
        #expect(result.stderr.contains("] using key ********"))
        var everything = result.stdout + result.stderr
        for file in try FileManager.default.contentsOfDirectory(atPath: transcripts.path) {
            everything += try String(contentsOf: transcripts.appendingPathComponent(file), encoding: .utf8)
        }
        #expect(everything.contains(#""api_key":"********""#))
        #expect(!everything.contains(secret))
    }

    @Test("a connector that cannot start is one error, not fourteen failures")
    func launchFailure() throws {
        let fixture = try ConnectorFixture(command: ["./missing-connector"])
        let result = try runCLI(["conformance", fixture.path])
        #expect(result.status == 1)
        #expect(
            result.stdout.hasSuffix(
                "error: the connector could not be checked: cannot start \(fixture.path)/missing-connector: no such file (spawn); check the manifest's \"command\" and build the connector\n"
            ))
    }

    @Test("the conformance vectors in protocol/conformance are what the suite records against connectors/hello")
    func vectorsAreCurrent() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-vectors-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let result = try runCLI(["conformance", packageRoot.appendingPathComponent("connectors/hello").path, "--transcripts", output.path])
        #expect(result.status == 0, "\(result.stdout)")
        let committed = packageRoot.appendingPathComponent("protocol/conformance")
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        #expect(files == ["eof", "failure", "probes", "resume", "run", "version"].map { "\($0).transcript.jsonl" })
        for file in files {
            let fresh = try String(contentsOf: output.appendingPathComponent(file), encoding: .utf8)
            let stored = try? String(contentsOf: committed.appendingPathComponent(file), encoding: .utf8)
            #expect(
                fresh == stored,
                "protocol/conformance/\(file) is out of date; regenerate with: swift run connector-host conformance connectors/hello --transcripts protocol/conformance"
            )
        }
    }
}
