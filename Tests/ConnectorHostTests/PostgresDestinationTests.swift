import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What is particular to the PostgreSQL destination: the bulk runs, what PostgreSQL cannot hold,
/// the lock of a connection across hosts, secrets, `inspect` and `reset`. The semantics both
/// destinations share run in the suites parameterised by ``Backend``.
@Suite("PostgreSQL destination", .enabled(if: TestPostgres.shouldRun))
struct PostgresDestinationTests {
    let users = table("users", primaryKey: ["id"], columns: ["id": "LONG", "name": "STRING", "age": "INT"])

    @Test("operations keep their order across bulk runs: repeated keys, kinds and tables interleaved, no-ops counted")
    func runsKeepOrder() throws {
        let events = table("events", columns: ["kind": "STRING", "n": "LONG"])
        let fixture = try ConnectorFixture(
            schema: [users, events],
            steps: [
                ["upsert": ["table": "users", "data": ["id": 1, "name": "a1", "age": 1]]],
                ["upsert": ["table": "users", "data": ["id": 1, "name": "a2"]]],
                ["update": ["table": "users", "data": ["id": 1, "age": 2]]],
                ["update": ["table": "users", "data": ["id": 1, "age": 3]]],
                ["update": ["table": "users", "data": ["id": 9, "age": 3]]],
                ["upsert": ["table": "events", "data": ["kind": "x", "n": 1]]],
                ["delete": ["table": "users", "keys": ["id": 1]]],
                ["delete": ["table": "users", "keys": ["id": 1]]],
                ["delete": ["table": "users", "keys": ["id": 8]]],
                ["upsert": ["table": "users", "data": ["id": 2, "name": "b"]]],
                ["truncate": "events"],
                ["upsert": ["table": "events", "data": ["kind": "y", "n": 2]]],
                ["checkpoint": ["cursor": 1]],
            ], backend: .postgres)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            try fixture.rows(#"SELECT "id", "name", "age", "_connector_deleted" FROM "users" ORDER BY "id""#) == [
                ["1", "a2", "3", "1"], ["2", "b", "NULL", "0"],
            ])
        #expect(
            try fixture.rows(#"SELECT "kind", "n", "_connector_deleted" FROM "events" ORDER BY "n""#) == [
                ["x", "1", "1"], ["y", "2", "0"],
            ])
        #expect(report.counts.upserts == 5 && report.counts.updates == 3 && report.counts.deletes == 3)
        #expect(report.counts.noopUpdates == 1 && report.counts.noopDeletes == 1)
    }

    @Test("a second sync of existing keys merges them, and runs longer than one batch arrive whole")
    func mergeAndLargeRuns() throws {
        let items = table("items", primaryKey: ["id"], columns: ["id": "LONG", "value": "STRING"])
        let fixture = try ConnectorFixture(
            schema: [items], steps: [["rows": ["table": "items", "count": 45_000, "checkpointEvery": 30_000]]], backend: .postgres)
        #expect(fixture.sync().0.failure == nil)
        #expect(try fixture.rows(#"SELECT count(*), min("id"), max("id") FROM "items""#) == [["45000", "1", "45000"]])
        // The same keys again, changed, then new ones: the first run meets existing keys and merges.
        try fixture.script(
            schema: [items],
            steps: [
                ["upsert": ["table": "items", "data": ["id": 7, "value": "seven"]]],
                ["rows": ["table": "items", "count": 30_000, "start": 40_001]], ["checkpoint": ["cursor": 70_000]],
            ])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(try fixture.rows(#"SELECT count(*), max("id") FROM "items""#) == [["70000", "70000"]])
        #expect(
            try fixture.rows(#"SELECT "value" FROM "items" WHERE "id" IN (7, 40001, 70000) ORDER BY "id""#) == [
                ["seven"], ["row 40001"], ["row 70000"],
            ])
        #expect(fixture.state() == #"{"cursor":70000}"#)
    }

    @Test(
        "values PostgreSQL cannot hold are invalid operations naming the op and the fix",
        arguments: [
            (
                #"{"id": 1, "v": "a\u0000b"}"#, "STRING",
                #"column "v": "a\u0000b" holds a NUL character (\u0000), which warehouse text cannot hold whole (SQLite's text functions and tools cut the text at it; PostgreSQL refuses it); remove it, or declare the column BINARY and send base64"#
            ),
            (
                #"{"id": 1, "v": {"k": "a\u0000b"}}"#, "JSON",
                #"column "v": the JSON value contains the escape \u0000, which PostgreSQL's jsonb cannot hold; remove it in the connector"#
            ),
            (
                #"{"id": 1, "v": ["\ud800x"]}"#, "JSON",
                #"column "v": the JSON value contains a \u surrogate escape that is not part of a pair, which PostgreSQL's jsonb cannot hold; send the character itself"#
            ),
            (
                #"{"id": 1, "\#(String(repeating: "c", count: 64))": 1}"#, "STRING",
                #"column "\#(String(repeating: "c", count: 64))": column name "\#(String(repeating: "c", count: 64))" is 64 bytes long; PostgreSQL names are at most 63 bytes (UTF-8), so shorten it"#
            ),
        ])
    func unstorableValues(_ data: String, _ type: String, _ reason: String) throws {
        let fixture = try ConnectorFixture(
            rawSchema: ["tables": [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": .string(type)])]],
            steps: [.string(#"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"upsert","table":"t","data":\#(data)}]}}"#)],
            backend: .postgres)
        let failure = try #require(fixture.sync().0.failure)
        #expect(failure.kind == .invalidOperation)
        #expect(
            failure.message.hasPrefix(#"invalid operation: operation #1 (stdout line 3), table "t", "# + reason + "\n"),
            "\(failure.message)")
        #expect(try !fixture.tableExists("t"))
    }

    @Test("the same connection twice is refused naming the holder; other connections sync at once; a killed host's lock goes")
    func oneRunPerConnection() throws {
        let slow = try ConnectorFixture(
            schema: [users], steps: [["upsert": ["table": "users", "data": ["id": 1]]], ["sleep": 3], ["checkpoint": ["cursor": 1]]],
            backend: .postgres)
        let first = try RunningCLI(["run", slow.path, "--quiet"] + slow.destinationArguments)
        try waitForLock(slow, heldBy: first.pid)
        // The same connection from "another machine": another host process, the same schema.
        let second = try runCLI(["run", slow.path, "--quiet"] + slow.destinationArguments)
        #expect(second.status == 1)
        #expect(
            second.stderr.contains(
                "error: another connector-host is syncing this connection into schema \"\(slow.schema!.name)\" of \(try PostgresAddress(slow.schema!.uri)): connector-host pid \(first.pid) on "
            ), "\(second.stderr)")
        #expect(
            second.stderr.contains("Wait for it to finish or stop it; a host that was killed releases the lock when its connection closes"))
        // Four other connections into the same database, at once, while the first still runs.
        let others = try (0..<4).map { index in
            try ConnectorFixture(
                schema: [users], steps: [["rows": ["table": "users", "count": 2_000, "checkpointEvery": 500]], ["sleep": 0.2]],
                backend: .postgres)
        }
        let runs = try others.map { try RunningCLI(["run", $0.path, "--quiet"] + $0.destinationArguments) }
        for (fixture, run) in zip(others, runs) {
            let result = run.finish()
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try fixture.rows(#"SELECT count(*) FROM "users""#) == [["2000"]])
        }
        #expect(first.finish().status == 0)
        // A host killed while it holds the lock: the next run gets it.
        try slow.script(schema: [users], steps: [["sleep": 5]])
        let doomed = try RunningCLI(["run", slow.path, "--quiet"] + slow.destinationArguments)
        try waitForLock(slow, heldBy: doomed.pid)
        // Past the handshake: the sync is recorded as running, in its transaction.
        for _ in 0..<400 where try slow.rows(#"SELECT count(*) FROM "_connector_syncs" WHERE "status" = 'running'"#) == [["0"]] {
            usleep(50_000)
        }
        kill(doomed.pid, SIGKILL)
        _ = doomed.finish()
        try slow.script(schema: [users], steps: [["upsert": ["table": "users", "data": ["id": 2]]], ["checkpoint": ["cursor": 2]]])
        let next = try runCLI(["run", slow.path, "--quiet"] + slow.destinationArguments)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(
            try slow.rows(#"SELECT "status" FROM "_connector_syncs" ORDER BY "id""#) == [["succeeded"], ["interrupted"], ["succeeded"]])
    }

    /// Waits until the host with process id `pid` holds an advisory lock (its session names it).
    private func waitForLock(_ fixture: ConnectorFixture, heldBy pid: pid_t) throws {
        for _ in 0..<400 {
            let held = try fixture.schema!.rows(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE $1",
                ["connector-host pid \(pid) on %"])
            if held != [["0"]] { return }
            usleep(50_000)
        }
        Issue.record("the host \(pid) took no lock within 20 s")
    }

    @Test("the destination's password never reaches the report, the errors or inspect")
    func passwordNeverShown() throws {
        guard let passwordURI = try TestPostgres.server.get().passwordURI else {
            print("skipped: the server from CONNECTOR_HOST_TEST_POSTGRES has no CONNECTOR_HOST_TEST_POSTGRES_PASSWORD_URI")
            return
        }
        let password = try #require(try PostgresAddress(passwordURI).secrets.first)
        let fixture = try ConnectorFixture(
            schema: [users], steps: [["upsert": ["table": "users", "data": ["id": 1]]], ["checkpoint": ["cursor": 1]]], backend: .postgres)
        let arguments = ["--destination", passwordURI, "--schema", fixture.schema!.name]
        let run = try runCLI(["run", fixture.path] + arguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("destination: schema \"\(fixture.schema!.name)\" of postgresql://postgres:***@127.0.0.1:"))
        let json = try runCLI(["run", fixture.path, "--json", "--quiet"] + arguments)
        let inspect = try runCLI(["inspect", fixture.path] + arguments)
        #expect(inspect.stdout.contains("postgresql://postgres:***@127.0.0.1:"))
        let wrong = passwordURI.replacingOccurrences(of: password, with: "not-" + password)
        let refused = try runCLI(["run", fixture.path, "--destination", wrong, "--schema", fixture.schema!.name])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains(#"error: cannot connect to the destination postgresql://postgres:***@127.0.0.1:"#))
        #expect(refused.stderr.contains(#"password authentication failed for user "postgres""#))
        for output in [run.stdout, run.stderr, json.stdout, json.stderr, inspect.stdout, inspect.stderr, refused.stdout, refused.stderr] {
            #expect(!output.contains(password), "\(output)")
        }
    }

    @Test("inspect reads the schema as for SQLite; reset drops the host's tables and keeps a view's table, refusing")
    func inspectAndReset() throws {
        let fixture = try ConnectorFixture(
            schema: [users],
            steps: [
                ["upsert": ["table": "users", "data": ["id": 1, "name": "Ada"]]], ["upsert": ["table": "users", "data": ["id": 2]]],
                ["delete": ["table": "users", "keys": ["id": 2]]], ["checkpoint": ["token": "s3cret", "cursor": 2]],
            ], backend: .postgres)
        #expect(fixture.sync().0.failure == nil)
        let inspect = try runCLI(["inspect", fixture.path, "--json"] + fixture.destinationArguments)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let json = try JSONParser.parse(inspect.stdout)
        let users = try #require(json["tables"]?.arrayValue?.first)
        #expect(users["name"] == "users")
        #expect(users["liveRows"] == 1 && users["deletedRows"] == 1)
        #expect(json["state"] == ["token": "********", "cursor": 2])
        #expect(json["syncs"]?.arrayValue?.first?["status"] == "succeeded")
        // A team's view on the table: reset refuses rather than drop it.
        try fixture.schema!.connection.execute(
            "CREATE VIEW \(fixture.schema!.qualified("adults")) AS SELECT * FROM \(fixture.schema!.qualified("users"))")
        let refused = try runCLI(["reset", fixture.path, "--yes"] + fixture.destinationArguments)
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains("cannot drop table \(fixture.schema!.name).users because other objects depend on it"),
            "\(refused.stderr)")
        #expect(try fixture.tableExists("users"))
        try fixture.schema!.connection.execute("DROP VIEW \(fixture.schema!.qualified("adults"))")
        let reset = try runCLI(["reset", fixture.path, "--yes"] + fixture.destinationArguments)
        #expect(reset.status == 0, "\(reset.stderr)")
        let name = fixture.schema!.name
        #expect(
            reset.stdout.hasPrefix(
                "dropped \(name).users, \(name)._connector_columns, \(name)._connector_file_moves, \(name)._connector_settings, \(name)._connector_state, \(name)._connector_syncs, \(name)._connector_tables, schema \(name) in "
            ))
        #expect(try fixture.schema!.rows("SELECT count(*) FROM pg_namespace WHERE nspname = $1", [name]) == [["0"]])
    }
}
