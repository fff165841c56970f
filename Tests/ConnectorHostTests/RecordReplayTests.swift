import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `run --record FILE` writes the whole exchange; `replay FILE` applies it again without the
/// connector and gives the same warehouse.
@Suite("run --record and replay")
struct RecordReplayTests {
    private func connector(_ backend: Backend = .sqlite) throws -> ConnectorFixture {
        try ConnectorFixture(
            files: [
                "connector.py": """
                from fivetran_connector_sdk import Connector, Logging as log, Operations as op
                def schema(configuration):
                    return [{"table": "items", "primary_key": ["id"], "columns": {"id": "LONG"}}]
                def update(configuration, state):
                    start = state.get("c", 0)
                    log.info("fetching with key %s" % configuration["api_key"])
                    for i in range(start + 1, start + 6):
                        op.upsert("items", {"id": i, "price": "%d.50" % i, "createdAt": "2024-01-0%dT00:00:00Z" % i})
                    op.checkpoint({"c": start + 5})
                    op.delete("items", {"id": start + 1})
                    op.checkpoint({"c": start + 5, "done": True})
                connector = Connector(update=update, schema=schema)
                """,
                "configuration.json": #"{"api_key": "s3cr3t-value-123"}"#,
            ], backend: backend)
    }

    @Test("a recording replays into a new warehouse that matches the recorded one, with the secrets masked in it")
    func replaysToTheSameWarehouse() throws {
        let fixture = try connector()
        let recording = fixture.path + "/rec.jsonl"
        let run = try runCLI(["run", fixture.path, "--record", recording])
        #expect(run.status == 0, "\(run.stderr)")
        let text = try String(contentsOfFile: recording, encoding: .utf8)
        #expect(!text.contains("s3cr3t"))
        #expect(text.contains("********"))
        let lines = text.split(separator: "\n")
        let header = try JSONParser.parse(String(lines[0]))
        #expect(header["recording"] == 1)
        #expect(header["connector"] == .string(URL(fileURLWithPath: fixture.path).lastPathComponent))
        #expect(header["options"]?["naming"] == "fivetran")
        #expect(try JSONParser.parse(String(lines[1]))["message"]?["method"] == "initialize")
        #expect(lines.contains { $0.contains(#""dir":"connector->host","message":{"jsonrpc":"2.0","method":"records""#) })

        let replay = try runCLI(["replay", recording])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(!replay.stderr.contains("note:"), "\(replay.stderr)")
        let replayed = fixture.path + "/rec.warehouse.db"
        #expect(FileManager.default.fileExists(atPath: replayed))
        let query = #"SELECT "id", "price", "created_at", "_fivetran_deleted" FROM "items" ORDER BY "id""#
        let original = try fixture.rows(query)
        #expect(original.count == 5)
        #expect(try SQLiteDatabase(readOnlyPath: replayed).query(query).map { $0.map(render) } == original)
        #expect(try String(contentsOfFile: fixture.path + "/rec.state.json", encoding: .utf8).contains(#"{"c":5,"done":true}"#))
        #expect(replay.stdout.contains("\noutcome: succeeded\n"))

        // Replayed again into the same warehouse, the host starts from {"c":5,"done":true}, not the
        // recorded {}: it says so, and applies the recorded operations all the same.
        let again = try runCLI(["replay", recording, "--warehouse", replayed, "--state", fixture.path + "/rec.state.json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(
            again.stderr.contains(
                #"the host's update state {"c":5,"done":true} differs from the recorded {}: the recording started from another state; its operations are applied all the same"#
            ), "\(again.stderr)")
    }

    @Test(
        "a recording of a run into either destination replays into PostgreSQL with the same rows and state",
        .enabled(if: TestPostgres.shouldRun), arguments: Backend.all)
    func replaysIntoPostgres(_ backend: Backend) throws {
        let fixture = try connector(backend)
        let recording = fixture.path + "/rec.jsonl"
        let run = try runCLI(["run", fixture.path, "--record", recording] + fixture.destinationArguments)
        #expect(run.status == 0, "\(run.stderr)")
        let target = try TestSchema("replay")
        let replay = try runCLI(["replay", recording, "--destination", target.uri, "--schema", target.name])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(!replay.stderr.contains("note:"), "\(replay.stderr)")
        #expect(replay.stdout.contains("\noutcome: succeeded\n"))
        // Into PostgreSQL, no state file unless asked for.
        #expect(!FileManager.default.fileExists(atPath: fixture.path + "/rec.state.json"))
        #expect(!FileManager.default.fileExists(atPath: fixture.path + "/rec.warehouse.db"))
        let query = #"SELECT "id", "price", "created_at", "_fivetran_deleted" FROM "items" ORDER BY "id""#
        let original = try fixture.rows(query)
        #expect(original.count == 5)
        #expect(try target.values(query).map { $0.map(render) } == original)
        #expect(try target.rows(#"SELECT "state" FROM "_connector_state""#) == [[#"{"c":5,"done":true}"#]])
        let both = try runCLI(["replay", recording, "--destination", target.uri, "--warehouse", "x.db"])
        #expect(both.status == 2)
        #expect(both.stderr == "error: `replay` takes --warehouse (an SQLite file) or --destination (PostgreSQL), not both\n")
    }

    @Test("a file that is not a recording is refused with one message and exit 2")
    func notARecording() throws {
        let fixture = try ConnectorFixture(files: ["x.jsonl": "{\"hello\": 1}\n"])
        let replay = try runCLI(["replay", fixture.path + "/x.jsonl"])
        #expect(replay.status == 2)
        #expect(
            replay.stderr
                == "error: \(fixture.path)/x.jsonl is not a connector-host recording (its first line has no \"recording\": 1); make one with `connector-host run --record FILE`\n"
        )
        let missing = try runCLI(["replay", fixture.path + "/none.jsonl"])
        #expect(missing.status == 2)
        #expect(
            missing.stderr
                == "error: the recording \(fixture.path)/none.jsonl does not exist; make one with `connector-host run --record FILE`\n")
    }
}
