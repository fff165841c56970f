import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `connection create NAME --package ID --destination postgresql://... [--schema NAME]`: a connection
/// of the registry that syncs into PostgreSQL, its password never shown nor kept outside its 0600 file.
@Suite("run --connection into PostgreSQL", .enabled(if: TestPostgres.shouldRun))
struct ConnectionPostgresTests {
    /// The server's URI with a password when one is known (the tests of masking need one).
    private var uri: (text: String, password: String?) {
        get throws {
            let server = try TestPostgres.server.get()
            guard let withPassword = server.passwordURI else { return (server.uri, nil) }
            let password = try PostgresAddress(withPassword).secrets.first
            return (withPassword, password)
        }
    }

    @Test("the connection syncs into its schema with the state; show, the report and both histories never hold the password")
    func syncsIntoPostgres() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let schema = try TestSchema("conn")
        let (uri, password) = try uri
        let shownURI = try PostgresAddress(uri).description
        let created = try fixture.cli([
            "connection", "create", "orders", "--package", id, "--configuration",
            try fixture.configuration("orders", ["note": "pg", "steps": "2"]), "--destination", uri, "--schema", schema.name, "--json",
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let connection = try JSONParser.parse(created.stdout)
        let location = "schema \"\(schema.name)\" of \(shownURI)"
        #expect(connection["destination"] == ["uri": .string(shownURI), "schema": .string(schema.name)])
        #expect(connection["warehouse"] == .string(location))
        #expect(connection["state"] == .null)
        let folder = fixture.home + "/connections/" + (connection["id"]?.stringValue ?? "")
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/destination.json")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        for _ in 0..<2 {
            let run = try fixture.cli(["run", "--connection", "orders"])
            #expect(run.status == 0, "\(run.stderr)")
            if let password { #expect(!(run.stdout + run.stderr).contains(password)) }
        }
        #expect(
            try schema.rows(#"SELECT "n", "note" FROM "runs" ORDER BY "n""#) == [["1", "pg"], ["2", "pg"], ["3", "pg"], ["4", "pg"]])
        #expect(try schema.rows(#"SELECT "state" FROM "_connector_state""#) == [[#"{"n":4}"#]])
        #expect(
            try schema.rows(#"SELECT "status", "connection", "package_id" FROM "_connector_syncs" ORDER BY "id""#) == [
                ["succeeded", "orders", id], ["succeeded", "orders", id],
            ])
        // Nothing went to an SQLite file: no warehouse, no state mirror.
        #expect(!FileManager.default.fileExists(atPath: folder + "/files/warehouse.db"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/files/state.json"))

        let show = try fixture.cli(["connection", "show", "orders"])
        #expect(show.status == 0)
        #expect(show.stdout.contains("\ndestination: \(location) (with the state)\n"), "\(show.stdout)")
        #expect(!show.stdout.contains("warehouse:"))
        // inspect of the same schema sees both syncs.
        let inspect = try runCLI(["inspect", fixture.root.path, "--destination", uri, "--schema", schema.name, "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(try JSONParser.parse(inspect.stdout)["syncs"]?.arrayValue?.count == 2)
        if let password {
            #expect(!show.stdout.contains(password))
            let registry = try Data(contentsOf: URL(fileURLWithPath: fixture.home + "/registry.db"))
            #expect(registry.range(of: Data(password.utf8)) == nil, "the registry's history holds the password")
            #expect(try schema.rows(#"SELECT count(*) FROM "_connector_syncs" WHERE "error" LIKE $1"#, ["%\(password)%"]) == [["0"]])
        }
    }

    @Test("a failing sync of the connection rolls PostgreSQL back to its last checkpoint and records the failure, password masked")
    func failureRollsBack() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let schema = try TestSchema("conn")
        let (uri, password) = try uri
        _ = try fixture.cli([
            "connection", "create", "failing", "--package", id, "--configuration",
            try fixture.configuration("failing", ["steps": "1", "fail": "yes"]), "--destination", uri, "--schema", schema.name,
        ])
        let run = try fixture.cli(["run", "--connection", "failing"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("failing on purpose"), "\(run.stderr)")
        // The one checkpoint before the failure stays.
        #expect(try schema.rows(#"SELECT "n" FROM "runs""#) == [["1"]])
        #expect(try schema.rows(#"SELECT "state" FROM "_connector_state""#) == [[#"{"n":1}"#]])
        #expect(try fixture.registryRows("SELECT status FROM syncs") == [["failed"]])
        #expect(try schema.rows(#"SELECT "status" FROM "_connector_syncs""#) == [["failed"]])
        if let password { #expect(!(run.stdout + run.stderr).contains(password)) }
    }

    @Test("without --schema the connection's tables go into a schema named after it")
    func schemaNamedAfterTheConnection() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let schema = try TestSchema("conn")
        // The connection takes the test schema's (unique) name, so the schema is dropped after the test.
        _ = try fixture.cli(["connection", "create", schema.name, "--package", id, "--destination", try TestPostgres.uri()])
        let run = try fixture.cli(["run", "--connection", schema.name])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try schema.rows(#"SELECT "n" FROM "runs""#) == [["1"]])
    }

    @Test("--schema without --destination, or a schema PostgreSQL cannot name, is refused with one message")
    func refusals() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let alone = try fixture.cli(["connection", "create", "orders", "--package", id, "--schema", "s"])
        #expect(alone.status == 2)
        #expect(alone.stderr == "error: --schema names a PostgreSQL schema and goes with --destination postgresql://...\n")
        let long = String(repeating: "s", count: 64)
        let tooLong = try fixture.cli([
            "connection", "create", "orders", "--package", id, "--destination", try TestPostgres.uri(), "--schema", long,
        ])
        #expect(tooLong.status == 1)
        #expect(
            tooLong.stderr
                == "error: schema name \"\(long)\" is 64 bytes long; PostgreSQL names are at most 63 bytes (UTF-8), so shorten it; choose another with --schema\n"
        )
        #expect(
            try fixture.cli(["connection", "list"]).stdout == "no connections yet: connector-host connection create NAME --package ID\n")
    }
}
