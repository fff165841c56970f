import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `conformance` and `test` on adapted connectors: the adapter is a protocol-v1 connector like any other.
@Suite("Adapted connectors conform to the protocol")
struct AdapterConformanceTests {
    @Test("a Singer tap and an Airbyte source behind the adapter pass every conformance check", arguments: ["singer", "airbyte"])
    func conforms(_ adapter: String) throws {
        let fixture = try ConnectorFixture(
            adapter: adapter, script: adapter == "singer" ? "singer_tap.py" : "airbyte_source.py", configuration: ["rows": 3])
        var options = ConformanceOptions(directory: fixture.path)
        options.timeout = 120
        let report = ConformanceSuite.run(options)
        #expect(report.launchFailure == nil, "\(report.launchFailure ?? "")")
        for result in report.results { #expect(result.status == .passed, "\(result.check): \(result.reason)") }
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.appendingPathComponent("files").path))
    }

    @Test("`connector-host test` runs an Airbyte source's check: exit 0 when it succeeds, 1 with its message when it fails")
    func airbyteTestIsCheck() throws {
        let fixture = try ConnectorFixture(adapter: "airbyte", script: "airbyte_source.py", configuration: ["api_key": "right-key-1"])
        let passed = try runCLI(["test", fixture.path])
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(passed.stdout == "connector-host test: airbyte-fixture\n  PASS  setup test  check succeeded\n1 passed, 0 failed\n")
        try fixture.configure(["api_key": "wrong"])
        let failed = try runCLI(["test", fixture.path])
        #expect(failed.status == 1)
        #expect(
            failed.stdout
                == "connector-host test: airbyte-fixture\n  FAIL  setup test  401 Unauthorized: the API key is not valid\n0 passed, 1 failed\n"
        )
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.appendingPathComponent("files").path))
    }

    @Test("`connector-host test` runs a Singer tap's discovery")
    func singerTestIsDiscovery() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: [:])
        let passed = try runCLI(["test", fixture.path, "--json"])
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(
            passed.stdout
                == #"{"connector":"singer-fixture","hasTests":true,"passed":true,"result":{"ok":true,"message":"singer_tap.py discovered 2 stream(s): items, snapshot"}}"#
                + "\n")
        try fixture.configure(["discover_fails": "no such host"])
        let failed = try runCLI(["test", fixture.path])
        #expect(failed.status == 1)
        #expect(
            failed.stdout
                == "connector-host test: singer-fixture\n  FAIL  setup test  singer_tap.py --discover exited with status 1; its stderr says why. Check the configuration (configuration.json)\n0 passed, 1 failed\n"
        )
        #expect(failed.stderr.contains("CRITICAL could not list the streams: no such host"), "\(failed.stderr)")
    }
}
