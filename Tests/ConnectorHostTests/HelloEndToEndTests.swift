import ConnectorHost
import Foundation
import Testing

@Suite("hello, end to end through the CLI")
struct HelloEndToEndTests {
    /// A copy of connectors/hello in a temporary folder, so tests never touch the repository's files.
    private func helloCopy() throws -> ConnectorFixture {
        let fixture = try ConnectorFixture()
        try fixture.write("connector.json", #"{"name": "hello", "swiftProduct": "hello-connector"}"#)
        return fixture
    }

    @Test("hello runs twice: the warehouse holds both runs' rows and the state advances")
    func helloTwice() throws {
        let fixture = try helloCopy()
        let first = try runCLI(["run", fixture.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("upserts         3"))
        #expect(first.stdout.contains("outcome: succeeded"))
        #expect(first.stderr.contains("[hello INFO] starting after cursor 0"))
        #expect(fixture.stateFile() == #"{"cursor":3}"#)

        let second = try runCLI(["run", fixture.path])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(fixture.stateFile() == #"{"cursor":6}"#)
        let rows = try fixture.rows(#"SELECT "id", "message", "created_at", "_connector_deleted" FROM "greeting" ORDER BY "id""#)
        #expect(rows.map { $0[0] } == ["1", "2", "3", "4", "5", "6"])
        #expect(rows[3] == ["4", "hello #4", "2024-01-01T00:03:00Z", "0"])
        let history = try fixture.rows(#"SELECT "status", "upserts", "checkpoints" FROM "_connector_syncs" ORDER BY "id""#)
        #expect(history == [["succeeded", "3", "1"], ["succeeded", "3", "1"]])
    }

    @Test("reset --yes removes the warehouse and the state; without --yes and no terminal it refuses")
    func reset() throws {
        let fixture = try helloCopy()
        #expect(try runCLI(["run", fixture.path]).status == 0)
        let refused = try runCLI(["reset", fixture.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("pass --yes to confirm when not on a terminal"))
        let reset = try runCLI(["reset", fixture.path, "--yes"])
        #expect(reset.status == 0)
        #expect(!FileManager.default.fileExists(atPath: fixture.warehousePath))
        #expect(!FileManager.default.fileExists(atPath: fixture.statePath))
        #expect(try runCLI(["run", fixture.path]).status == 0)
        #expect(fixture.stateFile() == #"{"cursor":3}"#)
    }

    @Test("--json prints the report as one JSON object")
    func jsonReport() throws {
        let fixture = try helloCopy()
        let result = try runCLI(["run", fixture.path, "--json"])
        #expect(result.status == 0)
        #expect(
            result.stdout.hasPrefix(
                #"{"connector":"hello","status":"succeeded","counts":{"upserts":3,"updates":0,"deletes":0,"truncates":0,"schemaChanges":1,"checkpoints":1"#
            ))
        #expect(result.stdout.contains(#""state":{"cursor":3}"#))
    }

    @Test("usage errors say what to type instead and exit 2")
    func usageErrors() throws {
        let missing = try runCLI(["run", "/no/such/folder"])
        #expect(missing.status == 2)
        #expect(missing.stdout == "")
        #expect(missing.stderr == "error: the folder /no/such/folder does not exist; pass the folder that holds the connector\n")
        let unknown = try runCLI(["run", "x", "--fast"])
        #expect(unknown.stderr.hasPrefix("error: unknown option --fast for `run`; it takes --connection, --configuration, --warehouse"))
        let help = try runCLI(["help", "run"])
        #expect(help.status == 0)
        for flag in ["--configuration FILE", "--warehouse FILE", "--state FILE", "--no-build", "--idle-timeout SECONDS", "--json"] {
            #expect(help.stdout.contains(flag))
        }
    }

    @Test("a directory without a connector is a usage error (exit 2) with no report of zeros")
    func missingConnector() throws {
        let fixture = try ConnectorFixture()
        let result = try runCLI(["run", fixture.path])
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(
            result.stderr.contains(
                "has neither connector.json nor connector.py, so it is not a connector's folder: name the folder that holds the connector"))
    }
}
