import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// A refused operation sent by the Python SDK names the file and line of connector.py that made it
/// (`operationSite`, PROTOCOL.md 5.11), next to the table, column and value.
@Suite("Errors that point at the connector's code")
struct OperationSiteTests {
    @Test(
        "the invalid-op message says `called at connector.py:LINE (in update)`, also after a checkpoint, and --json has file and fileLine")
    func namesTheLine() throws {
        let fixture = try ConnectorFixture(files: [
            "connector.py": """
            from fivetran_connector_sdk import Connector, Operations as op
            def schema(configuration):
                return [{"table": "items", "primary_key": ["id"], "columns": {"id": "LONG"}}]
            def add(i):
                op.upsert("items", {"id": i})
            def update(configuration, state):
                for i in range(1, 2500):
                    add(i)
                op.checkpoint({"c": 1})
                add(2500)
                op.upsert("items", {"id": "not a number"})
                add(2501)
            connector = Connector(update=update, schema=schema)
            """,
            "configuration.json": "{}",
        ])
        let run = try runCLI(["run", fixture.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("invalid operation: operation #2501 (stdout line "), "\(run.stderr)")
        #expect(
            run.stderr.contains(#"\#n  called at connector.py:11 (in update)\#n  the operation: {"op":"upsert","table":"items""#),
            "\(run.stderr)")
        let json = try runCLI(["run", fixture.path, "--json"])
        let details = try JSONParser.parse(json.stdout)["error"]?["details"]
        #expect(details?["file"] == .string(fixture.directory.appendingPathComponent("connector.py").path))
        #expect(details?["fileLine"] == "11")
        #expect(details?["function"] == "update")
        #expect(details?["operationIndex"] == "2501")
        // Rolled back to the checkpoint: rows 1-2499 stay.
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["2499"]])
    }

    @Test("a call made in a helper function names the helper's line")
    func helperLine() throws {
        let fixture = try ConnectorFixture(files: [
            "connector.py": """
            from fivetran_connector_sdk import Connector, Operations as op
            def schema(configuration):
                return [{"table": "items", "primary_key": ["id"], "columns": {"id": "LONG"}}]
            def bad():
                op.upsert("items", {"id": 1.5})
            def update(configuration, state):
                bad()
            connector = Connector(update=update, schema=schema)
            """,
            "configuration.json": "{}",
        ])
        let (report, _) = fixture.sync()
        #expect(report.failure?.kind == .invalidOperation)
        #expect(report.failure?.message.contains("\n  called at connector.py:5 (in bad)\n") == true, "\(report.failure?.message ?? "")")
    }
}
