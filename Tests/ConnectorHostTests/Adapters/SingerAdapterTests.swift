import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// Singer taps through `"adapter": "singer"`, with a small tap of our own (Tests/Fixtures/adapters/singer_tap.py).
@Suite("Singer taps run through the adapter")
struct SingerAdapterTests {
    @Test("a discovered stream becomes a table with key_properties as its primary key and types from its JSON Schema")
    func typesAndKeys() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["rows": 3])
        let (report, _) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            try fixture.rows(#"SELECT "name", "primary_key" FROM "_connector_tables" ORDER BY 1"#) == [
                ["items", #"["id"]"#], ["snapshot", #"["id"]"#],
            ])
        #expect(
            try fixture.rows(
                #"SELECT "column_name", "type", "declared" FROM "_connector_columns" WHERE "table_name" = 'items' ORDER BY "position""#)
                == [
                    ["id", "LONG", "1"], ["name", "STRING", "1"], ["price", "DOUBLE", "1"], ["in_stock", "BOOLEAN", "1"],
                    ["updated_at", "UTC_DATETIME", "1"], ["released", "NAIVE_DATE", "1"], ["dimensions", "JSON", "1"],
                    ["tags", "JSON", "1"], ["code", "STRING", "1"], ["ratio", "DOUBLE", "1"], ["anything", "JSON", "0"],
                ])
        #expect(
            try fixture.rows(
                #"SELECT "id", "name", "price", "in_stock", "updated_at", "released", "dimensions", "tags", "code", "ratio", "anything" FROM "items" ORDER BY "id""#
            )
                == [
                    [
                        "1", "item 1", "1.5", "0", "2024-05-01T12:00:01Z", "2024-05-02", #"{"w":1,"deep":{"x":[1,2]}}"#, #"["a","b"]"#, "1",
                        "0.25", "[1]",
                    ],
                    [
                        "2", "item 2", "3.0", "1", "2024-05-01T10:00:00Z", "2024-05-03", #"{"w":2,"deep":{"x":[1,2]}}"#, #"["a","b"]"#,
                        "C2", "0.5", "[2]",
                    ],
                    [
                        "3", "item 3", "4.5", "0", "2024-05-01T12:00:03Z", "2024-05-04", #"{"w":3,"deep":{"x":[1,2]}}"#, #"["a","b"]"#, "3",
                        "0.75", "[3]",
                    ],
                ])
        #expect(report.counts.checkpoints == 2)
        #expect(fixture.stateFile() == #"{"bookmarks":{"items":{"cursor":3}}}"#)
    }

    @Test("the next run resumes from the tap's last STATE")
    func resumes() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["rows": 2])
        #expect(fixture.adapterSync().0.failure == nil)
        let (second, _) = fixture.adapterSync()
        #expect(second.failure == nil, "\(second.failure?.message ?? "")")
        #expect(second.counts.upserts == 2)
        #expect(try fixture.rows(#"SELECT "id" FROM "items" ORDER BY "id""#) == [["1"], ["2"], ["3"], ["4"]])
        #expect(fixture.stateFile() == #"{"bookmarks":{"items":{"cursor":4}}}"#)
    }

    @Test("a STATE commits exactly the records before it: a tap that dies later leaves the warehouse at that STATE")
    func failureKeepsTheLastState() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["rows": 5, "fail_after": 3])
        let (report, _) = fixture.adapterSync()
        let failure = try #require(report.failure)
        #expect(
            failure.message.hasPrefix(
                "the connector failed in update: the tap (singer_tap.py) exited with status 1; its stderr says why [error -32013 (source error)]"
            ), "\(failure.message)")
        #expect(failure.message.contains("ConnectionError: the API hung up"), "\(failure.message)")
        #expect(try fixture.rows(#"SELECT "id" FROM "items" ORDER BY "id""#) == [["1"], ["2"]])
        #expect(fixture.stateFile() == #"{"bookmarks":{"items":{"cursor":2}}}"#)
    }

    @Test("a line on the tap's stdout that is not JSON fails the sync, naming the line")
    func notJSON() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["rows": 4, "garbage_at": 3])
        let failure = try #require(fixture.adapterSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                #"the connector failed in update: the tap's stdout line 5 is not a Singer message: not valid JSON (expected a JSON object, found 'f' at byte 1): "fetching page 3..."; a tap's stdout carries Singer messages only, its logs belong on stderr [error -32013 (source error)]"#
            ), "\(failure.message)")
        #expect(try fixture.rows(#"SELECT "id" FROM "items" ORDER BY "id""#) == [["1"], ["2"]])
    }

    @Test("ACTIVATE_VERSION: a new table version soft-deletes the rows the tap no longer sends; a resumed version does not")
    func tableVersions() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["rows": 0, "version": 1])
        #expect(fixture.adapterSync().0.failure == nil)
        #expect(
            try fixture.rows(#"SELECT "id", "label", "_connector_deleted" FROM "snapshot" ORDER BY 1"#) == [
                ["1", "v1", "0"], ["2", "v1", "0"], ["3", "v1", "0"],
            ])
        try fixture.configure(["rows": 0, "version": 2, "snapshot_rows": [1, 3]])
        let (second, _) = fixture.adapterSync()
        #expect(second.failure == nil, "\(second.failure?.message ?? "")")
        #expect(second.counts.truncates == 1)
        #expect(
            try fixture.rows(#"SELECT "id", "label", "_connector_deleted" FROM "snapshot" ORDER BY 1"#) == [
                ["1", "v2", "0"], ["2", "v1", "1"], ["3", "v2", "0"],
            ])
        try fixture.configure(["rows": 0, "version": 2, "snapshot_rows": [3]])
        let (third, _) = fixture.adapterSync()
        #expect(third.failure == nil, "\(third.failure?.message ?? "")")
        #expect(third.counts.truncates == 0)
        #expect(
            try fixture.rows(#"SELECT "id", "_connector_deleted" FROM "snapshot" ORDER BY 1"#) == [["1", "0"], ["2", "1"], ["3", "0"]])
    }

    @Test("--tables (the manifest's \"tables\") selects the streams to sync")
    func selectedTables() throws {
        let fixture = try ConnectorFixture(
            adapter: "singer", script: "singer_tap.py", configuration: ["rows": 1, "version": 1], manifest: ["tables": ["snapshot"]])
        let (report, _) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(try fixture.rows(#"SELECT "name" FROM "_connector_tables""#) == [["snapshot"]])
        try fixture.write(
            "connector.json",
            JSONWriter.string([
                "adapter": "singer", "tables": ["nope"],
                "command": .array([pythonExecutable, adapterFixtures.appendingPathComponent("singer_tap.py").path].map(JSONValue.string)),
            ]))
        let failure = try #require(fixture.adapterSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                #"the connector failed in schema: --tables names the stream "nope", which the tap does not have; its streams: items, snapshot [error -32012 (configuration error)]"#
            ), "\(failure.message)")
    }

    @Test("run --tables runs the tap with only those streams selected; the state advances and keeps the others' bookmarks")
    func runTables() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["rows": 2, "version": 1])
        #expect(fixture.adapterSync().0.failure == nil)
        #expect(fixture.stateFile() == #"{"bookmarks":{"items":{"cursor":2},"snapshot":{"version":1}}}"#)
        try fixture.configure(["rows": 2, "version": 2])
        let (report, _) = fixture.sync { options in
            options.handshakeTimeout = 120
            options.tables = ["items"]
        }
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        // The adapter declares selectTables: the tap ran items alone, so nothing was skipped and the
        // state it checkpointed is stored.
        #expect(report.skippedOperations == [:])
        #expect(!report.stateHeld)
        #expect(fixture.stateFile() == #"{"bookmarks":{"items":{"cursor":4},"snapshot":{"version":1}}}"#)
        #expect(try fixture.rows(#"SELECT count(*) FROM "items""#) == [["4"]])
        #expect(try fixture.rows(#"SELECT DISTINCT "label" FROM "snapshot""#) == [["v1"]])
    }

    @Test("a tap without --discover: its tables come from the records, undeclared, with a warning")
    func withoutDiscovery() throws {
        let fixture = try ConnectorFixture(
            adapter: "singer", script: "singer_tap.py", arguments: ["--no-discover"], configuration: ["rows": 2])
        let (report, console) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            console.all.contains(
                "[singer-fixture warning] singer_tap.py has no discovery mode (--discover): its streams are known only from the SCHEMA messages of a sync, so the host creates their tables from the records, without a primary key"
            ), "\(console.all)")
        #expect(try fixture.rows(#"SELECT "id", "name" FROM "items" ORDER BY "id""#) == [["1", "item 1"], ["2", "item 2"]])
    }

    @Test("run --tables with a tap without --discover fails before any data, saying why")
    func tablesWithoutDiscovery() throws {
        let fixture = try ConnectorFixture(
            adapter: "singer", script: "singer_tap.py", arguments: ["--no-discover"], configuration: ["rows": 2])
        let (report, _) = fixture.sync { options in
            options.handshakeTimeout = 120
            options.tables = ["items"]
        }
        let failure = try #require(report.failure)
        // The tap declares no streams without discovery, so the host refuses the names before `update`.
        #expect(failure.message == #"no table "items" in the connector's schema; it declares no tables"#, "\(failure.message)")
        #expect(try !fixture.tableExists("items"))
    }

    @Test("a failing --discover is a configuration error before any data, with the tap's stderr")
    func discoveryFails() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["discover_fails": "bad credentials"])
        let failure = try #require(fixture.adapterSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                "the connector failed in schema: singer_tap.py --discover exited with status 1; its stderr says why. Check the configuration (configuration.json) [error -32012 (configuration error)]"
            ), "\(failure.message)")
        #expect(failure.message.contains("CRITICAL could not list the streams: bad credentials"), "\(failure.message)")
        #expect(!FileManager.default.fileExists(atPath: fixture.statePath))
    }

    @Test("a STATE whose value is not an object fails the sync with a precise message")
    func stateNotAnObject() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["rows": 1, "bad_state": true])
        let failure = try #require(fixture.adapterSync().0.failure)
        #expect(
            failure.message.hasPrefix(
                "the connector failed in update: the tap's STATE message on stdout line 4 has a value that is not a JSON object; connector-host stores a tap's state as an object [error -32013 (source error)]"
            ), "\(failure.message)")
    }

    @Test("a stream discovery did not announce is created from its records, with a warning")
    func undeclaredStream() throws {
        let fixture = try ConnectorFixture(adapter: "singer", script: "singer_tap.py", configuration: ["rows": 1, "extra_stream": true])
        let (report, console) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            console.all.contains(
                #"[singer-fixture warning] stream "extras" of singer_tap.py was not in its discovered catalog; its table is created from the records, without a primary key"#
            ), "\(console.all)")
        #expect(try fixture.rows(#"SELECT "k" FROM "extras""#) == [["one"]])
    }

    @Test("settings a Meltano SDK tap marks secret in --about are masked in its stderr")
    func singerSecretsMasked() throws {
        let fixture = try ConnectorFixture(
            adapter: "singer", script: "singer_tap.py", configuration: ["rows": 1, "shared_code": "c0de-55-91"])
        let (report, console) = fixture.adapterSync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(console.all.contains("[singer-fixture] connecting with code ********"), "\(console.all)")
        #expect(!console.all.joined().contains("c0de-55-91"), "\(console.all)")
    }
}
