import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `reset --table T [--state-key KEY] --yes`: one table dropped, with its cursor, so that the next
/// run refills it and leaves the others alone. The same on both destinations (on PostgreSQL the
/// state is the schema's `_connector_state`).
@Suite("reset --table: one table and its cursor")
struct ResetTableTests {
    /// A connector.py with a cursor per table in the state: each run fetches rows 1...2 of each
    /// table past its cursor.
    private func twoTables(_ backend: Backend) throws -> ConnectorFixture {
        try ConnectorFixture(
            files: [
                "connector.py": """
                from fivetran_connector_sdk import Connector, Operations as op
                def schema(configuration):
                    return [{"table": "orders", "primary_key": ["id"]}, {"table": "items", "primary_key": ["id"]}]
                def update(configuration, state):
                    cursors = dict(state.get("cursors", {}))
                    for name in ("orders", "items"):
                        for i in range(cursors.get(name, 0) + 1, 3):
                            op.upsert(name, {"id": i, "run": state.get("runs", 0) + 1})
                        cursors[name] = 2
                    op.checkpoint({"cursors": cursors, "runs": state.get("runs", 0) + 1})
                connector = Connector(update=update, schema=schema)
                """,
                "configuration.json": "{}",
            ], backend: backend)
    }

    @Test("the table and its state key go; the next run creates the table again and refills only it", arguments: Backend.all)
    func refillsOneTable(_ backend: Backend) throws {
        let fixture = try twoTables(backend)
        let destination = fixture.destinationArguments
        #expect(try runCLI(["run", fixture.path] + destination).status == 0)
        #expect(fixture.state() == #"{"cursors":{"orders":2,"items":2},"runs":1}"#)
        let reset = try runCLI(["reset", fixture.path, "--table", "orders", "--state-key", "cursors.orders", "--yes"] + destination)
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(
            reset.stdout
                == "dropped table orders (2 rows); the next run creates it again\nremoved cursors.orders from the state: {\"cursors\":{\"items\":2},\"runs\":1}\n"
        )
        #expect(fixture.state() == #"{"cursors":{"items":2},"runs":1}"#)
        #expect(try !fixture.tableExists("orders"))
        #expect(try fixture.rows(#"SELECT count(*) FROM "_connector_columns" WHERE "table_name" = 'orders'"#) == [["0"]])
        #expect(try fixture.rows(#"SELECT count(*) FROM "_connector_tables" WHERE "name" = 'orders'"#) == [["0"]])
        let again = try runCLI(["run", fixture.path] + destination)
        #expect(again.status == 0, "\(again.stderr)")
        // The start state is the reset one (the mirror agrees with the warehouse), not a user's edit.
        #expect(again.stderr.contains(#"start state: {"cursors":{"items":2},"runs":1}, the last checkpoint"#), "\(again.stderr)")
        #expect(try fixture.rows(#"SELECT "id", "run" FROM "orders" ORDER BY "id""#) == [["1", "2"], ["2", "2"]])
        #expect(try fixture.rows(#"SELECT "id", "run" FROM "items" ORDER BY "id""#) == [["1", "1"], ["2", "1"]])
    }

    @Test("without --state-key only the table goes; the state stays", arguments: Backend.all)
    func tableOnly(_ backend: Backend) throws {
        let fixture = try twoTables(backend)
        #expect(try runCLI(["run", fixture.path] + fixture.destinationArguments).status == 0)
        let reset = try runCLI(["reset", fixture.path, "--table", "items", "--yes"] + fixture.destinationArguments)
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stdout == "dropped table items (2 rows); the next run creates it again\n")
        #expect(try !fixture.tableExists("items"))
        #expect(fixture.state() == #"{"cursors":{"orders":2,"items":2},"runs":1}"#)
        #expect(try fixture.rows(#"SELECT count(*) FROM "orders""#) == [["2"]])
    }

    @Test("an unknown table or state key changes nothing, with one precise message", arguments: Backend.all)
    func refusals(_ backend: Backend) throws {
        let fixture = try twoTables(backend)
        let destination = fixture.destinationArguments
        #expect(try runCLI(["run", fixture.path] + destination).status == 0)
        let typo = try runCLI(["reset", fixture.path, "--table", "ordrs", "--yes"] + destination)
        #expect(typo.status == 2)
        #expect(
            typo.stderr
                == "error: the warehouse \(fixture.location) has no table \"ordrs\", so nothing was changed; did you mean \"orders\"?\n"
        )
        let key = try runCLI(["reset", fixture.path, "--table", "orders", "--state-key", "cursors.order", "--yes"] + destination)
        #expect(key.status == 2)
        #expect(
            key.stderr
                == "error: the state has no key \"cursors.order\" (its keys: \"cursors\", \"runs\"); a dotted path names a nested key, e.g. cursors.orders. Nothing was changed\n"
        )
        #expect(try fixture.rows(#"SELECT count(*) FROM "orders""#) == [["2"]])
        #expect(fixture.state() == #"{"cursors":{"orders":2,"items":2},"runs":1}"#)
        let alone = try runCLI(["reset", fixture.path, "--state-key", "cursors.orders", "--yes"])
        #expect(alone.status == 2)
        #expect(
            alone.stderr
                == "error: --state-key goes with --table: `reset --table orders --state-key cursors.orders` drops a table and its cursor\n")
    }
}

extension ConnectorFixture {
    /// The warehouse as the commands name it in messages: the SQLite file, or the PostgreSQL schema
    /// (``PostgresTarget/location(connector:)``).
    var location: String { schema.map { $0.target.location(connector: "fixture") } ?? warehousePath }

    @Test("--state-key on a warehouse that stores no state changes nothing, with one precise message", arguments: Backend.all)
    func noStoredState(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            files: [
                "connector.py": """
                from fivetran_connector_sdk import Connector, Operations as op
                def update(configuration, state):
                    op.upsert("orders", {"id": 1})
                connector = Connector(update=update)
                """,
                "configuration.json": "{}",
            ], backend: backend)
        let destination = fixture.destinationArguments
        #expect(try runCLI(["run", fixture.path] + destination).status == 0)
        let result = try runCLI(["reset", fixture.path, "--table", "orders", "--state-key", "cursor", "--yes"] + destination)
        #expect(result.status == 2)
        #expect(
            result.stderr == "error: the warehouse \(fixture.location) has no stored state to remove \"cursor\" from. Nothing was changed\n",
            "\(result.stderr)")
        #expect(try fixture.rows(#"SELECT count(*) FROM "orders""#) == [["1"]])
    }
}
