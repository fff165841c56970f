import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `run --tables a,b`: a connector that declares `selectTables` is told in `update`; the host
/// applies only the selected tables' operations either way and says how many it skipped.
@Suite("run --tables: only some tables")
struct TableSelectionTests {
    /// A Fivetran-style connector.py sending two rows to each of orders, items and users; its
    /// update takes `tables` (and so selects) when `selecting`.
    private func threeTables(selecting: Bool) throws -> ConnectorFixture {
        let signature = selecting ? "configuration, state, tables=None" : "configuration, state"
        let send = selecting ? "wanted = tables if tables is not None else names" : "wanted = names"
        return try ConnectorFixture(files: [
            "connector.py": """
            from fivetran_connector_sdk import Connector, Operations as op
            names = ["orders", "items", "users"]
            def schema(configuration):
                return [{"table": name, "primary_key": ["id"]} for name in names]
            def update(\(signature)):
                \(send)
                for name in names:
                    if name in wanted:
                        for i in (1, 2):
                            op.upsert(name, {"id": i})
                op.checkpoint({"cursor": 2, "asked": "%r" % (\(selecting ? "tables" : "None"),)})
            connector = Connector(update=update, schema=schema)
            """,
            "configuration.json": "{}",
        ])
    }

    @Test(
        "a connector without selectTables sends every table: the host keeps the selected ones, counts the rest as skipped, and keeps the state"
    )
    func withoutCapability() throws {
        let fixture = try threeTables(selecting: false)
        let run = try runCLI(["run", fixture.path, "--tables", "orders,users"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try fixture.rows(#"SELECT count(*) FROM "orders""#) == [["2"]])
        #expect(try fixture.rows(#"SELECT count(*) FROM "users""#) == [["2"]])
        // Declared tables exist (the schema is applied whole); the skipped ones get no rows.
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["0"]])
        #expect(run.stdout.contains("\ntables          orders, users (--tables)\n"), "\(run.stdout)")
        #expect(run.stdout.contains("\nskipped         2 operations on tables not selected: items 2\n"))
        #expect(
            run.stderr.contains(
                "syncing only orders, users (--tables); the connector cannot select tables (no selectTables capability), so it sends every table: the host keeps only these and does not advance the stored state, which would claim the skipped tables' rows"
            ))
        #expect(
            run.stdout.contains(
                "not advanced by this run: tables were selected and the connector cannot select them (no selectTables capability), so its state would claim the skipped tables' rows"
            ))
        // The data is committed, the state stays the start state ({}): the next full run fetches everything.
        #expect(fixture.stateFile() == "{}")
        let json = try runCLI(["run", fixture.path, "--tables", "items", "--json"])
        let report = try JSONParser.parse(json.stdout)
        #expect(report["selectedTables"] == ["items"])
        #expect(report["skippedOperations"] == ["orders": 2, "users": 2])
        #expect(report["stateHeld"] == true)
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["2"]])
        let full = try runCLI(["run", fixture.path])
        #expect(full.status == 0)
        #expect(fixture.stateFile() == #"{"cursor":2,"asked":"None"}"#)
    }

    @Test("a Python update with a tables parameter declares selectTables and gets the selected names; its state is kept")
    func pythonSelects() throws {
        let fixture = try threeTables(selecting: true)
        let run = try runCLI(["run", fixture.path, "--tables", "users"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("syncing only users (--tables); the connector selects them\n"))
        #expect(run.stdout.contains("\nskipped         0 operations\n"), "\(run.stdout)")
        #expect(fixture.stateFile() == #"{"cursor":2,"asked":"['users']"}"#)
        #expect(try fixture.rows(#"SELECT count(*) FROM "users""#) == [["2"]])
        // Without --tables, the connector gets None: every table.
        _ = try runCLI(["run", fixture.path])
        #expect(fixture.stateFile() == #"{"cursor":2,"asked":"None"}"#)
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["2"]])
    }

    @Test("a name the schema does not declare fails the run before update, with the closest declared name")
    func unknownName() throws {
        let fixture = try threeTables(selecting: false)
        let run = try runCLI(["run", fixture.path, "--tables", "orders,ordrs"])
        #expect(run.status == 2)
        #expect(run.stderr.hasSuffix("error: no table \"ordrs\" in the connector's schema; did you mean \"orders\"?\n"), "\(run.stderr)")
        #expect(!run.stdout.contains("upserts"))
        let far = try runCLI(["run", fixture.path, "--tables", "zzzzzz"])
        #expect(
            far.stderr.hasSuffix("error: no table \"zzzzzz\" in the connector's schema; it declares \"orders\", \"items\", \"users\"\n"))
        let empty = try runCLI(["run", fixture.path, "--tables", ","])
        #expect(empty.status == 2)
        #expect(empty.stderr == "error: --tables takes one or more table names, comma-separated (e.g. --tables orders,items), not \",\"\n")
    }

    @Test("operation numbers count skipped operations: an invalid op after skipped ones has the connector's index")
    func indexCountsSkipped() throws {
        let fixture = try ConnectorFixture(files: [
            "connector.py": """
            from fivetran_connector_sdk import Connector, Operations as op
            def schema(configuration):
                return [{"table": "items", "primary_key": ["id"]}, {"table": "orders", "primary_key": ["id"], "columns": {"id": "INT"}}]
            def update(configuration, state):
                op.upsert("items", {"id": 1})
                op.upsert("items", {"id": 2})
                op.upsert("orders", {"id": "not a number"})
            connector = Connector(update=update, schema=schema)
            """,
            "configuration.json": "{}",
        ])
        let (report, _) = fixture.sync { $0.tables = ["orders"] }
        #expect(report.failure?.kind == .invalidOperation)
        #expect(report.failure?.details["operationIndex"] == "3", "\(report.failure?.message ?? "")")
        #expect(report.skippedOperations == ["items": 2])
    }

    @Test("the Swift SDK: a connector with selectsTables reads operations.isSelected and the host is told the tables")
    func swiftSelects() throws {
        let fixture = try ConnectorFixture(
            product: "operations-test-connector",
            configuration: [
                "schema": [["table": "a", "primaryKey": ["id"]], ["table": "b", "primaryKey": ["id"]]],
                "steps": [
                    ["upsert": ["table": "a", "data": ["id": 1]]], ["upsert": ["table": "b", "data": ["id": 1]]],
                    ["checkpoint": ["cursor": 1]],
                ],
            ])
        let (report, console) = fixture.sync { $0.tables = ["b"] }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(report.skippedOperations.isEmpty)
        #expect(!report.stateHeld)
        #expect(console.all.contains("syncing only b (--tables); the connector selects them"))
        #expect(try fixture.rows(#"SELECT count(*) FROM "b""#) == [["1"]])
        #expect(try fixture.rows(#"SELECT count(*) FROM "a""#) == [["0"]])
        #expect(fixture.stateFile() == #"{"cursor":1}"#)
    }

    @Test("the Node helper: selectsTables: true gets ctx.tables and ctx.isSelected (skipped without node)")
    func nodeSelects() throws {
        guard shell(["node", "--version"]).status == 0 else {
            print("skipped: node is not installed")
            return
        }
        let helper = try String(contentsOf: packageRoot.appendingPathComponent("sdks/node/protocol.js"), encoding: .utf8)
        let fixture = try ConnectorFixture(
            command: ["node", "connector.js"],
            files: [
                "protocol.js": helper,
                "connector.js": """
                const { run } = require('./protocol.js');
                run({
                  selectsTables: true,
                  schema: () => [{ table: 'a', primaryKey: ['id'] }, { table: 'b', primaryKey: ['id'] }],
                  async update(ctx) {
                    for (const t of ['a', 'b']) if (ctx.isSelected(t)) await ctx.upsert(t, { id: 1 });
                    await ctx.checkpoint({ tables: JSON.stringify(ctx.tables) });
                  },
                });
                """,
            ])
        let (report, _) = fixture.sync { $0.tables = ["a"] }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(report.skippedOperations.isEmpty)
        #expect(try fixture.rows(#"SELECT count(*) FROM "a""#) == [["1"]])
        #expect(fixture.stateFile() == #"{"tables":"[{\"table\":\"a\"}]"}"#)
        let (all, _) = fixture.sync()
        #expect(all.failure == nil)
        #expect(fixture.stateFile() == #"{"tables":"null"}"#)
        #expect(try fixture.rows(#"SELECT count(*) FROM "b""#) == [["1"]])
    }
}
