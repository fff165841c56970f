import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The real thing: airbyte-source-faker and tap-jsonl from PyPI, unmodified, through the adapter
/// (connectors/airbyte-faker and connectors/singer-jsonl). Skipped, saying so, without network.
@Suite("Real Singer and Airbyte packages from PyPI")
struct AdapterPackageTests {
    @Test("airbyte-source-faker syncs its streams with their keys and types, and resumes from its state")
    func faker() throws {
        let fixture = try ConnectorFixture(copying: "connectors/airbyte-faker", environment: try PyPIPackages.require())
        try fixture.configure(["count": 50, "seed": 7, "records_per_slice": 20, "always_updated": false, "parallelism": 1])
        let (report, _) = fixture.packageSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            try fixture.rows(#"SELECT "name", "primary_key" FROM "_connector_tables" ORDER BY 1"#) == [
                ["products", #"["id"]"#], ["purchases", #"["id"]"#], ["users", #"["id"]"#],
            ])
        #expect(
            try fixture.rows(
                #"SELECT "column_name", "type", "declared" FROM "_connector_columns" WHERE "table_name" = 'users' ORDER BY "position""#)
                == [
                    ["id", "LONG", "1"], ["created_at", "UTC_DATETIME", "1"], ["updated_at", "UTC_DATETIME", "1"], ["name", "STRING", "1"],
                    ["title", "STRING", "1"], ["age", "LONG", "1"], ["email", "STRING", "1"], ["telephone", "STRING", "1"],
                    ["gender", "STRING", "1"], ["language", "STRING", "1"], ["academic_degree", "STRING", "1"],
                    ["nationality", "STRING", "1"], ["occupation", "STRING", "1"], ["height", "STRING", "1"],
                    ["blood_type", "STRING", "1"], ["weight", "LONG", "1"], ["address", "JSON", "1"],
                ])
        #expect(try fixture.rows(#"SELECT count(*) FROM "users""#) == [["50"]])
        #expect(try fixture.rows(#"SELECT count(*) > 0 FROM "products""#) == [["1"]])
        #expect(try fixture.rows(#"SELECT count(*), count(DISTINCT "id") FROM "purchases""#).first?.first == "50")
        #expect(try fixture.rows(#"SELECT count(*) FROM "users" WHERE "created_at" NOT LIKE '____-__-__T__:__:__Z'"#) == [["0"]])
        let state = try #require(fixture.stateFile())
        let stored = try JSONParser.parse(state)
        let streams = stored["airbyte"]?.arrayValue?.compactMap { $0["stream"]?["stream_descriptor"]?["name"]?.stringValue }
        #expect(streams == ["products", "users", "purchases"], "\(state)")
        let usersState = stored["airbyte"]?.arrayValue?.first { $0["stream"]?["stream_descriptor"]?["name"] == "users" }
        #expect(usersState?["stream"]?["stream_state"]?["loop_offset"] == 50, "\(state)")

        // The next run gets that state back: with always_updated false the source has nothing new.
        let (second, console) = fixture.packageSync()
        #expect(second.failure == nil, "\(second.failure?.message ?? "")")
        #expect(second.counts.upserts < report.counts.upserts, "\(second.counts.upserts) after \(report.counts.upserts)")
        #expect(
            console.all.contains { $0.contains("Setting state of SourceFaker stream to") && $0.contains("'loop_offset': 50") },
            "\(console.all)")
        #expect(try fixture.rows(#"SELECT count(*) FROM "users""#) == [["50"]])
    }

    @Test("airbyte-source-faker with a bad configuration fails with its check's message before any data; `test` is its check")
    func fakerBadConfiguration() throws {
        let fixture = try ConnectorFixture(copying: "connectors/airbyte-faker", environment: try PyPIPackages.require())
        try fixture.configure(["count": "lots"])
        let failure = try #require(fixture.packageSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                "the connector failed in schema: the source's check failed: Config validation error: 'lots' is not of type 'integer'. Fix the configuration (configuration.json) and run again; nothing was synced [error -32012 (configuration error)]"
            ), "\(failure.message)")
        #expect(try fixture.rows(#"SELECT "name" FROM "_connector_tables""#) == [])
        var options = ControlOptions(directory: fixture.path)
        options.build = false
        options.timeout = 300
        let test = SetupTestRunner.run(options, console: RecordingConsole())
        #expect(test.failure == nil, "\(test.failure?.message ?? "")")
        #expect(test.hasTests && !test.passed)
        #expect(test.result?.ok == false)
        #expect(test.result?.message == "Config validation error: 'lots' is not of type 'integer'")
    }

    @Test("tap-jsonl syncs a local file with its key and types, gets its state back, and conforms")
    func jsonl() throws {
        let fixture = try ConnectorFixture(copying: "connectors/singer-jsonl", environment: try PyPIPackages.require())
        let (report, _) = fixture.packageSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(try fixture.rows(#"SELECT "name", "primary_key" FROM "_connector_tables""#) == [["people", #"["id"]"#]])
        #expect(
            try fixture.rows(#"SELECT "column_name", "type" FROM "_connector_columns" WHERE "table_name" = 'people' ORDER BY "position""#)
                == [
                    ["id", "LONG"], ["name", "STRING"], ["born", "NAIVE_DATE"], ["joined_at", "UTC_DATETIME"], ["score", "DOUBLE"],
                    ["tags", "JSON"], ["address", "JSON"], ["_sdc_last_modified", "UTC_DATETIME"], ["_sdc_filename", "STRING"],
                    ["_sdc_stream", "STRING"],
                ])
        #expect(
            try fixture.rows(#"SELECT "id", "name", "born", "joined_at", "score", "tags", "address" FROM "people" ORDER BY 1"#) == [
                ["1", "Ada", "1815-12-10", "2024-05-01T09:00:00Z", "9.5", #"["math"]"#, #"{"city":"London"}"#],
                ["2", "Grace", "1906-12-09", "2024-05-02T10:30:00Z", "8.0", #"["navy","cobol"]"#, #"{"city":"New York"}"#],
                ["3", "Edsger", "1930-05-11", "2024-05-03T11:45:00Z", "7.25", "[]", "NULL"],
            ])
        let state = try JSONParser.parse(try #require(fixture.stateFile()))
        let bookmark = try #require(state["bookmarks"]?["people"]?["replication_key_value"]?.stringValue)

        try fixture.write(
            "data/people.jsonl",
            try String(contentsOf: fixture.directory.appendingPathComponent("data/people.jsonl"), encoding: .utf8)
                + #"{"id": 4, "name": "Barbara", "born": "1939-11-03", "joined_at": "2024-05-04T08:00:00Z", "score": 9, "tags": [], "address": null}"#
                + "\n")
        let (second, console) = fixture.packageSync()
        #expect(second.failure == nil, "\(second.failure?.message ?? "")")
        #expect(console.all.contains { $0.contains("Starting incremental sync with bookmark value: \(bookmark)") }, "\(console.all)")
        #expect(try fixture.rows(#"SELECT "id" FROM "people" ORDER BY 1"#) == [["1"], ["2"], ["3"], ["4"]])

        var options = ConformanceOptions(directory: fixture.path)
        options.build = false
        options.timeout = 300
        let conformance = ConformanceSuite.run(options)
        #expect(conformance.launchFailure == nil, "\(conformance.launchFailure ?? "")")
        for result in conformance.results { #expect(result.status == .passed, "\(result.check): \(result.reason)") }
    }

    @Test("tap-jsonl without the file path it requires fails with the tap's own error")
    func jsonlBadConfiguration() throws {
        let fixture = try ConnectorFixture(copying: "connectors/singer-jsonl", environment: try PyPIPackages.require())
        try fixture.configure(["stream_name": "people"])
        let failure = try #require(fixture.packageSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                "the connector failed in update: the tap (tap-jsonl) exited with status 1; its stderr says why [error -32013 (source error)]"
            ),
            "\(failure.message)")
        #expect(failure.message.contains("'path' is a required property"), "\(failure.message)")
        // Nothing was checkpointed, so not even the table of the schema was kept.
        #expect(try fixture.rows(#"SELECT "name" FROM "sqlite_master" WHERE "name" = 'people'"#) == [])
    }
}
