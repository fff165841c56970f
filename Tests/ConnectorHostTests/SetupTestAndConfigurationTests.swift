import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `connector-host test` (setup tests) and `connector-host configuration` (the configuration form).
@Suite("Setup tests and the configuration form")
struct SetupTestAndConfigurationTests {
    static let form: JSONValue = [
        "fields": [
            ["name": "api_key", "label": "API key", "type": "password", "required": true],
            [
                "name": "region", "label": "Region", "type": "dropdown",
                "options": [["value": "eu", "label": "Europe"], ["value": "us", "label": "US"]], "default": "eu",
            ],
            ["name": "verbose", "label": "Verbose", "type": "toggle"],
        ],
        "tests": ["Connection", "API key"],
    ]

    func connector(capabilities: JSONValue, test: JSONValue? = nil, form: JSONValue? = nil, extra: JSONObject = [:]) throws
        -> ConnectorFixture
    {
        var configuration: JSONObject = ["capabilities": capabilities]
        if let test { configuration["test"] = test }
        if let form { configuration["configurationForm"] = form }
        for (key, value) in extra { configuration[key] = value }
        let script = packageRoot.appendingPathComponent("Tests/Connectors/RawProtocolConnector/raw_connector.py").path
        return try ConnectorFixture(command: ["python3", script], configuration: .object(configuration))
    }

    @Test("test prints one PASS or FAIL line per setup test and exits 1 when one fails")
    func setupTests() throws {
        let fixture = try connector(
            capabilities: ["test": true],
            test: [
                "ok": false, "message": "1 of 2 setup tests failed",
                "tests": [
                    ["label": "Connection", "ok": true, "message": "reached eu.example.com"],
                    ["label": "API key", "ok": false, "message": "401 Unauthorized"],
                ],
            ])
        let result = try runCLI(["test", fixture.path])
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(
            result.stdout == """
                connector-host test: fixture
                  PASS  Connection  reached eu.example.com
                  FAIL  API key     401 Unauthorized
                1 passed, 1 failed
                1 of 2 setup tests failed

                """, "\(result.stdout)")
    }

    @Test("a connector answering only ok and message gets one line; passing tests exit 0; none to run is said")
    func singleTestAndNone() throws {
        let passing = try connector(capabilities: ["test": true], test: ["ok": true, "message": "connected"])
        let result = try runCLI(["test", passing.path])
        #expect(result.status == 0)
        #expect(result.stdout == "connector-host test: fixture\n  PASS  setup test  connected\n1 passed, 0 failed\n", "\(result.stdout)")
        let none = try connector(capabilities: [:])
        let empty = try runCLI(["test", none.path])
        #expect(empty.status == 0)
        #expect(
            empty.stdout
                == "connector-host test: fixture has no setup tests (its initialize result does not announce capabilities.test)\n")
    }

    @Test("configuration asks nothing with --non-interactive: --set values, then existing values and defaults, written 0600")
    func configurationNonInteractive() throws {
        let fixture = try connector(capabilities: ["configurationForm": true], form: Self.form)
        let result = try runCLI(["configuration", fixture.path, "--non-interactive", "--set", "api_key=s3cr3t", "--set", "verbose=true"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("wrote \(fixture.path)/configuration.json (3 fields)"))
        let written = try JSONParser.parse(Array(try Data(contentsOf: fixture.directory.appendingPathComponent("configuration.json"))))
        #expect(written["api_key"] == "s3cr3t" && written["region"] == "eu" && written["verbose"] == "true")
        #expect(written["capabilities"] != nil, "keys the form does not name are kept")
        let mode = try FileManager.default.attributesOfItem(atPath: fixture.path + "/configuration.json")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(!result.stdout.contains("s3cr3t") && !result.stderr.contains("s3cr3t"))
    }

    @Test("configuration refuses a missing required field, a dropdown value not offered and a toggle that is not true or false")
    func configurationProblems() throws {
        let fixture = try connector(capabilities: ["configurationForm": true], form: Self.form)
        let missing = try runCLI(["configuration", fixture.path, "--non-interactive"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("error: the field api_key (API key) is required: pass --set api_key=VALUE"), "\(missing.stderr)")
        let region = try runCLI(["configuration", fixture.path, "--non-interactive", "--set", "api_key=k", "--set", "region=asia"])
        #expect(region.stderr.contains(#"error: the field region takes one of eu, us, not "asia""#), "\(region.stderr)")
        let toggle = try runCLI(["configuration", fixture.path, "--non-interactive", "--set", "api_key=k", "--set", "verbose=yes"])
        #expect(toggle.stderr.contains(#"error: the field verbose is a toggle: true or false, not "yes""#), "\(toggle.stderr)")
        let unknown = try runCLI(["configuration", fixture.path, "--non-interactive", "--set", "colour=red"])
        #expect(unknown.status == 2)
        #expect(
            unknown.stderr.contains("--set colour=...: the form has no field colour; its fields are api_key, region, verbose"),
            "\(unknown.stderr)")
        let formless = try connector(capabilities: [:])
        let none = try runCLI(["configuration", formless.path, "--non-interactive"])
        #expect(none.status == 1)
        #expect(
            none.stderr.contains(
                "error: the connector has no configuration form (its initialize result does not announce capabilities.configurationForm); write \(formless.path)/configuration.json by hand"
            ), "\(none.stderr)")
    }
}
