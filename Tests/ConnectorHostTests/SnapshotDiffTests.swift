import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `inspect --rows --json` writes a snapshot of every row; `diff [DIR] SNAPSHOT` exits 0 when the
/// warehouse matches it and 1 with the differences listed. The same snapshot, byte for byte, from
/// SQLite and from PostgreSQL.
@Suite("inspect --rows --json and diff")
struct SnapshotDiffTests {
    /// A connector.py whose rows depend on configuration["variant"].
    private func connector(_ backend: Backend = .sqlite) throws -> ConnectorFixture {
        try ConnectorFixture(
            files: [
                "connector.py": """
                from fivetran_connector_sdk import Connector, Operations as op
                def schema(configuration):
                    return [{"table": "items", "primary_key": ["id"],
                             "columns": {"id": "LONG", "name": "STRING", "active": "BOOLEAN", "score": "DOUBLE", "meta": "JSON"}},
                            {"table": "events", "columns": {"what": "STRING"}}]
                def update(configuration, state):
                    b = configuration.get("variant") == "b"
                    op.upsert("items", {"id": 1, "name": "a2" if b else "a", "active": True, "score": 1.5, "meta": {"k": [1, 2]}})
                    op.upsert("items", {"id": 2, "name": "b", "active": False, "score": None, "meta": None})
                    if b:
                        op.delete("items", {"id": 2})
                        op.upsert("items", {"id": 3, "name": "c", "active": True, "score": 3.25, "meta": None})
                    op.upsert("events", {"what": "started"})
                    op.checkpoint({"variant": configuration.get("variant", "a")})
                connector = Connector(update=update, schema=schema)
                """,
                "configuration.json": #"{"variant": "a"}"#,
            ], backend: backend)
    }

    @Test(
        "the snapshot holds every row by column type, without the synced time; diff of the same warehouse exits 0",
        arguments: Backend.all)
    func snapshotMatches(_ backend: Backend) throws {
        let fixture = try connector(backend)
        let destination = fixture.destinationArguments
        #expect(try runCLI(["run", fixture.path] + destination).status == 0)
        let inspect = try runCLI(["inspect", fixture.path, "--rows", "--json"] + destination)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let snapshot = try JSONParser.parse(inspect.stdout)
        let tables = snapshot["tables"]?.arrayValue ?? []
        let items = tables.first { $0["name"] == "items" }
        #expect(
            items?["rows"]
                == [
                    ["id": 1, "name": "a", "active": true, "score": 1.5, "meta": ["k": [1, 2]], "_fivetran_deleted": false],
                    ["id": 2, "name": "b", "active": false, "score": nil, "meta": nil, "_fivetran_deleted": false],
                ])
        let events = tables.first { $0["name"] == "events" }?["rows"]?.arrayValue ?? []
        #expect(events.count == 1)
        #expect(events.first?["what"] == "started")
        #expect(events.first?["_fivetran_id"]?.stringValue != nil)
        #expect(!inspect.stdout.contains("_fivetran_synced"))
        try inspect.stdout.write(toFile: fixture.path + "/snapshot.json", atomically: true, encoding: .utf8)
        let diff = try runCLI(["diff", "snapshot.json"] + destination, in: fixture.path)
        #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
        #expect(diff.stdout == "the warehouse \(fixture.location) matches \(fixture.path)/snapshot.json: 2 tables, 3 rows\n")
    }

    @Test("after a run that changes rows, diff lists what was added, removed and changed, and exits 1", arguments: Backend.all)
    func differencesListed(_ backend: Backend) throws {
        let fixture = try connector(backend)
        let destination = fixture.destinationArguments
        #expect(try runCLI(["run", fixture.path] + destination).status == 0)
        let snapshot = fixture.path + "/snapshot.json"
        try runCLI(["inspect", fixture.path, "--rows", "--json"] + destination).stdout.write(
            toFile: snapshot, atomically: true, encoding: .utf8)
        try fixture.write("configuration.json", #"{"variant": "b"}"#)
        #expect(try runCLI(["run", fixture.path] + destination).status == 0)
        let diff = try runCLI(["diff", fixture.path, snapshot] + destination)
        #expect(diff.status == 1)
        let lines = diff.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                #"items {"id":1}: name changed from "a" to "a2""#,
                #"items {"id":2}: _fivetran_deleted changed from false to true"#,
                #"items {"id":3}: row added {"id":3,"name":"c","active":true,"score":3.25,"meta":null,"_fivetran_deleted":false}"#,
                "3 differences between \(snapshot) and the warehouse \(fixture.location)",
            ], "\(diff.stdout)")
    }

    @Test(
        "a snapshot of SQLite matches the same sync into PostgreSQL: diff across destinations exits 0", .enabled(if: TestPostgres.shouldRun)
    )
    func sameSnapshotOnBothDestinations() throws {
        let sqlite = try connector()
        #expect(try runCLI(["run", sqlite.path]).status == 0)
        let snapshot = sqlite.path + "/snapshot.json"
        let inspect = try runCLI(["inspect", sqlite.path, "--rows", "--json"])
        try inspect.stdout.write(toFile: snapshot, atomically: true, encoding: .utf8)
        let postgres = try connector(.postgres)
        let destination = postgres.destinationArguments
        #expect(try runCLI(["run", postgres.path] + destination).status == 0)
        let diff = try runCLI(["diff", postgres.path, snapshot] + destination)
        #expect(diff.stdout == "the warehouse \(postgres.location) matches \(snapshot): 2 tables, 3 rows\n", "\(diff.stderr)")
        #expect(diff.status == 0)
        // The tables, columns and rows are the same JSON; only the warehouse's name and the history differ.
        let fromSQLite = try JSONParser.parse(inspect.stdout)["tables"]
        let fromPostgres = try JSONParser.parse(try runCLI(["inspect", postgres.path, "--rows", "--json"] + destination).stdout)["tables"]
        #expect(fromSQLite == fromPostgres)
    }

    @Test("diff takes --warehouse or --destination, not both")
    func warehouseOrDestination() throws {
        let diff = try runCLI(["diff", ".", "snapshot.json", "--warehouse", "w.db", "--destination", "postgresql://localhost/x"])
        #expect(diff.status == 2)
        #expect(diff.stderr == "error: `diff` takes --warehouse (an SQLite file) or --destination (PostgreSQL), not both\n")
    }

    @Test("diff without a snapshot, or with a snapshot without rows, is a usage error")
    func usage() throws {
        let fixture = try connector()
        let none = try runCLI(["diff"], in: fixture.path)
        #expect(none.status == 2)
        #expect(
            none.stderr
                == "error: `diff` needs a SNAPSHOT: connector-host inspect --rows --json > snapshot.json, then connector-host diff snapshot.json\n"
        )
        #expect(try runCLI(["run", fixture.path]).status == 0)
        try runCLI(["inspect", fixture.path, "--json"]).stdout.write(
            toFile: fixture.path + "/plain.json", atomically: true, encoding: .utf8)
        let plain = try runCLI(["diff", fixture.path, fixture.path + "/plain.json"])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("has no rows (it needs \"tables\" with \"rows\")"))
        let rowsAlone = try runCLI(["inspect", fixture.path, "--rows"])
        #expect(rowsAlone.status == 2)
        #expect(
            rowsAlone.stderr
                == "error: --rows goes with --json: `connector-host inspect --rows --json > snapshot.json` writes a snapshot for diff\n")
    }
}
