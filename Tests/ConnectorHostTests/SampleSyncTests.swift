import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `run --limit N`: a sample sync that stops the connector cleanly after N operations, keeps them,
/// and never stores a state past what it kept.
@Suite("run --limit: a sample sync")
struct SampleSyncTests {
    /// A connector.py upserting rows 1...10 of `items`, with a checkpoint after row `checkpointAt` and one at the end.
    private func tenRows(checkpointAt: Int) throws -> ConnectorFixture {
        try ConnectorFixture(files: [
            "connector.py": """
            from fivetran_connector_sdk import Connector, Logging as log, Operations as op
            def schema(configuration):
                return [{"table": "items", "primary_key": ["id"]}]
            def update(configuration, state):
                for i in range(1, 11):
                    op.upsert("items", {"id": i})
                    if i == \(checkpointAt):
                        op.checkpoint({"c": i})
                op.checkpoint({"c": 10})
            connector = Connector(update=update, schema=schema)
            """,
            "configuration.json": "{}",
        ])
    }

    @Test("the host keeps the first N operations, stops the connector with cancel, and stores the last checkpoint's state, not a later one")
    func keepsFirstN() throws {
        let fixture = try tenRows(checkpointAt: 4)
        let run = try runCLI(["run", fixture.path, "--limit", "6"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try fixture.rows(#"SELECT "id" FROM "items" ORDER BY "id""#) == (1...6).map { [String($0)] })
        #expect(fixture.stateFile() == #"{"c":4}"#)
        #expect(
            run.stderr.contains(
                "a sample sync: the host stops the connector after 6 operations (--limit 6) and keeps them; the state stays at the last checkpoint before that\n"
            ))
        #expect(
            run.stdout.contains(
                "\noutcome: LIMITED; the host stopped the connector after 6 operations (--limit 6) and committed them; the state is the last checkpoint's, so the next run fetches what came after it again\n"
            ), "\(run.stdout)")
        #expect(!run.stderr.contains("error:"), "\(run.stderr)")
        #expect(try fixture.rows(#"SELECT "status", "upserts" FROM "_connector_syncs""#) == [["limited", "6"]])
        // The next run starts from the stored checkpoint and fetches the rest.
        let next = try runCLI(["run", fixture.path, "--json"])
        #expect(next.status == 0)
        #expect(fixture.stateFile() == #"{"c":10}"#)
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["10"]])
        let limitedJSON = try runCLI(["run", fixture.path, "--limit", "2", "--json"])
        #expect(try JSONParser.parse(limitedJSON.stdout)["status"] == "limited")
    }

    @Test("a checkpoint right at the limit, with no operation past it yet, is still committed")
    func checkpointAtTheLimit() throws {
        let fixture = try tenRows(checkpointAt: 4)
        let (report, _) = fixture.sync { $0.limit = 4 }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(report.limitedAt == 4)
        #expect(fixture.stateFile() == #"{"c":4}"#)
        #expect(report.committedCounts.upserts == 4)
        #expect(report.committedCounts.checkpoints == 1)
    }

    @Test("a connector that sends fewer operations than the limit syncs as usual")
    func underTheLimit() throws {
        let fixture = try tenRows(checkpointAt: 4)
        let (report, _) = fixture.sync { $0.limit = 100 }
        #expect(report.failure == nil)
        #expect(report.limitedAt == nil)
        #expect(fixture.stateFile() == #"{"c":10}"#)
        #expect(try fixture.rows(#"SELECT "status" FROM "_connector_syncs""#) == [["succeeded"]])
    }

    @Test("--limit takes a whole number of at least 1")
    func badLimit() throws {
        let run = try runCLI(["run", "--limit", "0"])
        #expect(run.status == 2)
        #expect(run.stderr == "error: --limit takes a whole number of operations from 1 to 1000000000, not \"0\"\n")
    }
}
