import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// Airbyte sources through `"adapter": "airbyte"`, with a small source of our own (Tests/Fixtures/adapters/airbyte_source.py).
@Suite("Airbyte sources run through the adapter")
struct AirbyteAdapterTests {
    @Test("discovered streams become tables with their source-defined primary keys and types from their JSON Schemas")
    func typesAndKeys() throws {
        let fixture = try ConnectorFixture(adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 2])
        let (report, console) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            try fixture.rows(#"SELECT "name", "primary_key" FROM "_connector_tables" ORDER BY 1"#) == [
                ["accounts", #"["id"]"#], ["events", #"["id"]"#],
            ])
        #expect(
            try fixture.rows(
                #"SELECT "column_name", "type" FROM "_connector_columns" WHERE "table_name" = 'accounts' ORDER BY "position""#) == [
                    ["id", "LONG"], ["name", "STRING"], ["balance", "DOUBLE"], ["visits", "LONG"], ["active", "BOOLEAN"],
                    ["updated", "UTC_DATETIME"], ["local_time", "NAIVE_DATETIME"], ["birthday", "NAIVE_DATE"], ["address", "JSON"],
                    ["phones", "JSON"], ["score", "STRING"],
                ])
        #expect(
            try fixture.rows(
                #"SELECT "id", "name", "balance", "visits", "updated", "local_time", "birthday", "address", "phones", "score" FROM "accounts" ORDER BY 1"#
            )
                == [
                    [
                        "1", "account 1", "1.25", "10", "2024-05-01T10:00:01Z", "2024-05-01T10:00:00", "NULL", #"{"city":"Oslo"}"#,
                        #"["+47 1"]"#, "1",
                    ],
                    [
                        "2", "account 2", "2.25", "20", "2024-05-01T10:00:02Z", "2024-05-01T10:00:00", "NULL", #"{"city":"Oslo"}"#,
                        #"["+47 1"]"#, "high",
                    ],
                ])
        #expect(report.counts.checkpoints == 2)
        #expect(
            fixture.stateFile()
                == #"{"airbyte":[{"type":"STREAM","stream":{"stream_descriptor":{"name":"accounts"},"stream_state":{"cursor":2}}}]}"#)
        #expect(console.all.contains("[airbyte-fixture info] Starting syncing"), "\(console.all)")
        #expect(console.all.contains("[airbyte-fixture warning] accounts done"), "\(console.all)")
    }

    @Test("each kind of STATE (stream, global, legacy) is merged into one checkpoint and given back in the form the source reads")
    func stateKinds() throws {
        let expected: [String: String] = [
            "stream": #"{"airbyte":[{"type":"STREAM","stream":{"stream_descriptor":{"name":"accounts"},"stream_state":{"cursor":4}}}]}"#,
            "global":
                #"{"airbyte":[{"type":"GLOBAL","global":{"shared_state":{"lsn":"shared"},"stream_states":[{"stream_descriptor":{"name":"accounts"},"stream_state":{"cursor":4}}]}}]}"#,
            "legacy": #"{"airbyte":[{"type":"LEGACY","data":{"accounts":{"cursor":4}}}]}"#,
        ]
        for kind in ["stream", "global", "legacy"] {
            let fixture = try ConnectorFixture(
                adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 2, "state_kind": .string(kind)])
            #expect(fixture.adapterSync().0.failure == nil)
            let (second, _) = fixture.adapterSync()
            #expect(second.failure == nil, "\(kind): \(second.failure?.message ?? "")")
            #expect(try fixture.rows(#"SELECT "id" FROM "accounts" ORDER BY 1"#) == [["1"], ["2"], ["3"], ["4"]], "\(kind)")
            #expect(fixture.stateFile() == expected[kind], "\(kind)")
        }
    }

    @Test("a configuration that fails check is a clear error before any data")
    func checkFails() throws {
        let fixture = try ConnectorFixture(adapter: "airbyte", script: "airbyte_source.py", configuration: ["api_key": "wrong"])
        let failure = try #require(fixture.adapterSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                "the connector failed in schema: the source's check failed: 401 Unauthorized: the API key is not valid. Fix the configuration (configuration.json) and run again; nothing was synced [error -32012 (configuration error)]"
            ), "\(failure.message)")
        #expect(try fixture.rows(#"SELECT "name" FROM "_connector_tables""#) == [])
    }

    @Test("a TRACE error fails the sync with the source's own message; the warehouse keeps the last STATE")
    func traceError() throws {
        let fixture = try ConnectorFixture(adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 5, "fail_after": 2])
        let failure = try #require(fixture.adapterSync().0.failure)
        #expect(
            failure.message.hasPrefix("the connector failed in update: the API returned 500 for page 3 [error -32013 (source error)]"),
            "\(failure.message)")
        #expect(try fixture.rows(#"SELECT "id" FROM "accounts" ORDER BY 1"#) == [["1"], ["2"]])
        try fixture.configure(["rows": 5, "fail_after": 0, "fail_type": "config_error"])
        let configurationFailure = try #require(fixture.adapterSync().0.failure)
        #expect(
            configurationFailure.message.hasPrefix(
                "the connector failed in update: the API returned 500 for page 1 [error -32012 (configuration error)]"),
            "\(configurationFailure.message)")
    }

    @Test("a source that exits non-zero without a TRACE error fails the sync and rolls back")
    func crash() throws {
        let fixture = try ConnectorFixture(adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 3, "crash": true])
        let failure = try #require(fixture.adapterSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                "the connector failed in update: the source (airbyte_source.py) exited with status 3 without a TRACE error message; its stderr says why [error -32013 (source error)]"
            ), "\(failure.message)")
        // Nothing was checkpointed, so not even the tables of the schema were kept.
        #expect(try fixture.rows(#"SELECT "name" FROM "sqlite_master" WHERE "name" = 'accounts'"#) == [])
    }

    @Test("a full-refresh stream is read whole each sync: rows it no longer sends are soft-deleted")
    func fullRefresh() throws {
        let fixture = try ConnectorFixture(
            adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 1, "events": [1, 2, 3]])
        #expect(fixture.adapterSync().0.failure == nil)
        try fixture.configure(["rows": 1, "events": [2, 4]])
        let (second, _) = fixture.adapterSync()
        #expect(second.failure == nil, "\(second.failure?.message ?? "")")
        #expect(
            try fixture.rows(#"SELECT "id", "_connector_deleted" FROM "events" ORDER BY 1"#) == [
                ["1", "1"], ["2", "0"], ["3", "1"], ["4", "0"],
            ])
    }

    @Test("run --tables reads only those streams (the configured catalog has them alone); the other streams' state is kept")
    func runTables() throws {
        let fixture = try ConnectorFixture(adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 2])
        #expect(fixture.adapterSync().0.failure == nil)
        let state = #"{"airbyte":[{"type":"STREAM","stream":{"stream_descriptor":{"name":"accounts"},"stream_state":{"cursor":2}}}]}"#
        #expect(fixture.stateFile() == state)
        try fixture.configure(["rows": 2, "events": [3]])
        let (report, _) = fixture.sync { options in
            options.handshakeTimeout = 120
            options.tables = ["events"]
        }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(report.skippedOperations == [:])
        #expect(!report.stateHeld)
        #expect(fixture.stateFile() == state)
        #expect(try fixture.rows(#"SELECT count(*) FROM "accounts""#) == [["2"]])
        #expect(
            try fixture.rows(#"SELECT "id", "_connector_deleted" FROM "events" ORDER BY 1"#) == [["1", "1"], ["2", "1"], ["3", "0"]])
    }

    @Test("stdout lines that are not JSON are logged, as the Airbyte platform does")
    func noise() throws {
        let fixture = try ConnectorFixture(adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 1, "noise": true])
        let (report, console) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(console.all.contains("[airbyte-fixture info] source stdout: DeprecationWarning: something old"), "\(console.all)")
    }

    @Test("the host's __secrets list stays with the host: a source with a strict spec does not see it")
    func secretsListNotPassed() throws {
        let fixture = try ConnectorFixture(
            adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 1, "api_key": "k-12345", "__secrets": ["api_key"]])
        let (report, _) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
    }

    @Test("values marked airbyte_secret in the spec are masked in the source's stderr, its logs and the report")
    func airbyteSecretsMasked() throws {
        let fixture = try ConnectorFixture(
            adapter: "airbyte", script: "airbyte_source.py", configuration: ["rows": 1, "account_pin": "pin-8841-7723"])
        let (report, console) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(console.all.contains("[airbyte-fixture] logging in with pin ********"), "\(console.all)")
        #expect(console.all.contains("[airbyte-fixture info] pin ******** accepted"), "\(console.all)")
        #expect(!console.all.joined().contains("8841"), "\(console.all)")
        try fixture.configure(["rows": 2, "fail_after": 1, "account_pin": "pin-8841-7723"])
        let failure = try #require(fixture.adapterSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                "the connector failed in update: the API returned 500 for page 2 (pin ********) [error -32013 (source error)]"),
            "\(failure.message)")
    }
}
