import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// secret-configuration through the CLI: its secrets must appear in no output (run, inspect) and no file the host writes.
@Suite("Examples: secret-configuration")
struct SecretConfigurationExampleTests {
    let apiKey = "sk-example-7f3a9c2e41d8"
    let passphrase = "correct horse battery staple"

    /// Every byte the host wrote under files/: the warehouse (with its WAL), the state and the lock.
    func writtenFiles(_ fixture: ConnectorFixture) throws -> String {
        let folder = fixture.directory.appendingPathComponent("files")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { name in
            String(decoding: try Data(contentsOf: folder.appendingPathComponent(name)), as: UTF8.self)
        }.joined(separator: "\n")
    }

    @Test("a successful sync logs the account; neither the API key nor the passphrase appears in any output, inspect or file")
    func successKeepsSecrets() throws {
        let fixture = try ConnectorFixture.example("secret-configuration")
        let result = try runCLI(["run", fixture.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[fixture INFO] authenticated as account acme"))
        #expect(
            try fixture.rows(#"SELECT "id", "account", "amount", "due" FROM "invoice" ORDER BY "id""#) == [
                ["INV-001", "acme", "120.00", "2024-04-01"], ["INV-002", "acme", "75.50", "2024-04-15"],
                ["INV-003", "acme", "1999.99", "2024-05-01"],
            ])
        #expect(fixture.stateFile() == #"{"synced_invoices":3}"#)
        let inspect = try runCLI(["inspect", fixture.path])
        let inspectJSON = try runCLI(["inspect", fixture.path, "--json"])
        #expect(inspect.status == 0 && inspectJSON.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("invoice"))
        let everything = [result, inspect, inspectJSON].map { $0.stdout + $0.stderr }.joined() + (try writtenFiles(fixture))
        for secret in [apiKey, passphrase] { #expect(!everything.contains(secret)) }
    }

    @Test("a source error that echoes the rejected key shows it masked: in the console, --json, the sync history and inspect")
    func failureMasksSecrets() throws {
        let wrongKey = "sk-wrong-0123456789"
        let wrongPassphrase = "tr0ub4dor-and-3"
        let fixture = try ConnectorFixture.example(
            "secret-configuration",
            configuration: [
                "account": "acme", "api_key": .string(wrongKey), "passphrase": .string(wrongPassphrase), "__secrets": ["passphrase"],
            ])
        let result = try runCLI(["run", fixture.path])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "the connector failed in update: 401 Unauthorized: no account accepts the key ******** [error -32013 (source error)]"))
        let json = try runCLI(["run", fixture.path, "--json"])
        #expect(json.status == 1)
        #expect(json.stdout.contains("no account accepts the key ********"))
        let history = try fixture.rows(#"SELECT "status", "error" FROM "_connector_syncs" ORDER BY "id""#)
        #expect(history.map { $0[0] } == ["failed", "failed"])
        #expect(history.allSatisfy { $0[1].contains("no account accepts the key ********") })
        let inspect = try runCLI(["inspect", fixture.path])
        #expect(inspect.stdout.contains("no account accepts the key ********"), "\(inspect.stdout)")
        let inspectJSON = try runCLI(["inspect", fixture.path, "--json"])
        #expect(inspectJSON.stdout.contains("no account accepts the key ********"))
        let everything = [result, json, inspect, inspectJSON].map { $0.stdout + $0.stderr }.joined() + (try writtenFiles(fixture))
        for secret in [wrongKey, wrongPassphrase] { #expect(!everything.contains(secret)) }
    }
}
