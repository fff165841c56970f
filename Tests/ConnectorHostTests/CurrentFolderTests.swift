import ConnectorHost
import Foundation
import Testing

/// Every command that takes DIR works in the current folder when DIR is left out, as `fivetran
/// debug` does.
@Suite("DIR defaults to the current folder")
struct CurrentFolderTests {
    /// A copy of connectors/hello in a temporary folder.
    private func hello() throws -> ConnectorFixture {
        let fixture = try ConnectorFixture()
        try fixture.write("connector.json", #"{"name": "hello", "swiftProduct": "hello-connector"}"#)
        return fixture
    }

    @Test("run, inspect, reset and conformance without DIR work on the connector in the current folder")
    func commandsWithoutDirectory() throws {
        let fixture = try hello()
        let run = try runCLI(["run"], in: fixture.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("warehouse: \(fixture.warehousePath)"))
        #expect(fixture.stateFile() == #"{"cursor":3}"#)

        let inspect = try runCLI(["inspect"], in: fixture.path)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("  greeting: 3 live rows, 0 deleted; primary key (id)"))

        let conformance = try runCLI(["conformance"], in: fixture.path)
        #expect(conformance.status == 0, "\(conformance.stdout)")
        #expect(conformance.stdout.hasPrefix("conformance: hello (\(fixture.path)), protocol 1"))

        let reset = try runCLI(["reset", "--yes"], in: fixture.path)
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(!FileManager.default.fileExists(atPath: fixture.warehousePath))
    }

    @Test("help shows DIR as optional, defaulting to the current folder")
    func helpShowsOptionalDirectory() throws {
        for command in ["run", "inspect", "reset", "conformance"] {
            let help = try runCLI(["help", command])
            #expect(help.stdout.contains("\nUSAGE: connector-host \(command) [DIR]"), "\(help.stdout)")
            #expect(help.stdout.contains("default: the current folder)"))
        }
    }

    @Test("run without DIR in a folder that holds no connector is a usage error (exit 2) naming the folder, with no report")
    func noConnectorInCurrentFolder() throws {
        let empty = try ConnectorFixture()
        let result = try runCLI(["run"], in: empty.path)
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(
            result.stderr
                == "error: \(empty.path) has neither connector.json nor connector.py, so it is not a connector's folder: name the folder that holds the connector (DIR defaults to the current folder), or add a manifest like {\"command\": [\"./my-connector\"]} (see README.md)\n"
        )
        let conformance = try runCLI(["conformance"], in: empty.path)
        #expect(conformance.status == 2)
        #expect(conformance.stdout == "")
        #expect(conformance.stderr.hasPrefix("error: \(empty.path) has neither connector.json nor connector.py"))
    }
}
