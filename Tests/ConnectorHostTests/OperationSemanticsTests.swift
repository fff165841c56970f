import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The four operations with the warehouse semantics of DESIGN.md section 3, through a real connector process.
@Suite("Operation semantics")
struct OperationSemanticsTests {
    let users = table("users", primaryKey: ["id"], columns: ["id": "LONG", "name": "STRING", "age": "INT"])

    func run(_ steps: [JSONValue], schema: [JSONValue], backend: Backend) throws -> (ConnectorFixture, SyncReport, RecordingConsole) {
        let fixture = try ConnectorFixture(
            product: "operations-test-connector", configuration: ["schema": .array(schema), "steps": .array(steps)], backend: backend)
        let (report, console) = fixture.sync()
        return (fixture, report, console)
    }

    @Test("upsert inserts, then replaces the whole row: columns left out become NULL", arguments: Backend.all)
    func upsertReplaces(_ backend: Backend) throws {
        let (fixture, report, _) = try run(
            [
                ["upsert": ["table": "users", "data": ["id": 1, "name": "Ada", "age": 36]]],
                ["upsert": ["table": "users", "data": ["id": 1, "name": "Ada L."]]],
                ["checkpoint": ["done": true]],
            ], schema: [users], backend: backend)
        #expect(report.failure == nil)
        #expect(try fixture.rows(#"SELECT "id", "name", "age", "_connector_deleted" FROM "users""#) == [["1", "Ada L.", "NULL", "0"]])
        #expect(report.counts.upserts == 2)
    }

    @Test("update changes only the named columns; a missing row is a counted no-op", arguments: Backend.all)
    func partialUpdate(_ backend: Backend) throws {
        let (fixture, report, _) = try run(
            [
                ["upsert": ["table": "users", "data": ["id": 1, "name": "Ada", "age": 36]]],
                ["update": ["table": "users", "data": ["id": 1, "age": 37]]],
                ["update": ["table": "users", "data": ["id": 99, "age": 1]]],
                ["checkpoint": [:]],
            ], schema: [users], backend: backend)
        #expect(report.failure == nil)
        #expect(try fixture.rows(#"SELECT "id", "name", "age" FROM "users""#) == [["1", "Ada", "37"]])
        #expect(report.counts.updates == 2)
        #expect(report.counts.noopUpdates == 1)
    }

    @Test("delete is soft: the row stays with the deleted flag; a missing row is a counted no-op; upsert revives", arguments: Backend.all)
    func softDelete(_ backend: Backend) throws {
        let (fixture, report, _) = try run(
            [
                ["upsert": ["table": "users", "data": ["id": 1, "name": "Ada"]]],
                ["upsert": ["table": "users", "data": ["id": 2, "name": "Bob"]]],
                ["delete": ["table": "users", "keys": ["id": 1]]],
                ["delete": ["table": "users", "keys": ["id": 3]]],
                ["delete": ["table": "users", "keys": ["id": 2]]],
                ["upsert": ["table": "users", "data": ["id": 2, "name": "Bob again"]]],
                ["checkpoint": [:]],
            ], schema: [users], backend: backend)
        #expect(report.failure == nil)
        #expect(
            try fixture.rows(#"SELECT "id", "name", "_connector_deleted" FROM "users" ORDER BY "id""#) == [
                ["1", "Ada", "1"], ["2", "Bob again", "0"],
            ])
        #expect(report.counts.deletes == 3)
        #expect(report.counts.noopDeletes == 1)
    }

    @Test("truncate soft-deletes the rows written before it; rows written after it survive", arguments: Backend.all)
    func truncate(_ backend: Backend) throws {
        let (fixture, report, _) = try run(
            [
                ["upsert": ["table": "users", "data": ["id": 1, "name": "old"]]],
                ["upsert": ["table": "users", "data": ["id": 2, "name": "old"]]],
                ["truncate": "users"],
                ["upsert": ["table": "users", "data": ["id": 2, "name": "new"]]],
                ["upsert": ["table": "users", "data": ["id": 3, "name": "new"]]],
                ["checkpoint": [:]],
            ], schema: [users], backend: backend)
        #expect(report.failure == nil)
        #expect(
            try fixture.rows(#"SELECT "id", "name", "_connector_deleted" FROM "users" ORDER BY "id""#) == [
                ["1", "old", "1"], ["2", "new", "0"], ["3", "new", "0"],
            ])
        #expect(report.counts.truncates == 1)
    }

    @Test("a table without primary key keys rows by a hash of their values: identical rows collapse", arguments: Backend.all)
    func tableWithoutPrimaryKey(_ backend: Backend) throws {
        let events = table("events", columns: ["kind": "STRING", "amount": "LONG"])
        let (fixture, report, _) = try run(
            [
                ["upsert": ["table": "events", "data": ["kind": "a", "amount": 1]]],
                ["upsert": ["table": "events", "data": ["amount": 1, "kind": "a"]]],
                ["upsert": ["table": "events", "data": ["kind": "b", "amount": 2]]],
                ["delete": ["table": "events", "keys": ["kind": "b", "amount": 2]]],
                ["checkpoint": [:]],
            ], schema: [events], backend: backend)
        #expect(report.failure == nil)
        let rows = try fixture.rows(
            #"SELECT "kind", "amount", "_connector_deleted", length("_connector_id") FROM "events" ORDER BY "kind""#)
        #expect(rows == [["a", "1", "0", "32"], ["b", "2", "1", "32"]])
    }

    @Test("update on a table without primary key is refused with the table, op index and fix", arguments: Backend.all)
    func updateWithoutPrimaryKey(_ backend: Backend) throws {
        let events = table("events", columns: ["kind": "STRING"])
        let (fixture, report, _) = try run(
            [
                ["upsert": ["table": "events", "data": ["kind": "a"]]],
                ["update": ["table": "events", "data": ["kind": "b"]]],
                ["checkpoint": [:]],
            ], schema: [events], backend: backend)
        let failure = try #require(report.failure)
        #expect(failure.kind == .invalidOperation)
        #expect(
            failure.message.hasPrefix(
                #"invalid operation: operation #2 (stdout line 3), table "events": table "events" has no primary key, so rows cannot be updated by key; use upsert (or declare a primary key)"#
            ))
        #expect(failure.message.contains(#"the operation: {"op":"update","table":"events","data":{"kind":"b"}}"#))
        // The first sync failed before any checkpoint, so even the table's creation was rolled back.
        #expect(try !fixture.tableExists("events"))
    }

    @Test("system columns: every write stamps _connector_synced in UTC", arguments: Backend.all)
    func syncedColumn(_ backend: Backend) throws {
        let (fixture, report, _) = try run(
            [["upsert": ["table": "users", "data": ["id": 1]]], ["checkpoint": [:]]], schema: [users], backend: backend)
        #expect(report.failure == nil)
        let synced = try #require(try fixture.rows(#"SELECT "_connector_synced" FROM "users""#).first?.first)
        // SQLite keeps the text (milliseconds, 24 characters); PostgreSQL drops trailing zeros of the fraction.
        #expect(synced.count >= 20 && synced.count <= 24 && synced.hasSuffix("Z") && synced.hasPrefix("20") && synced.contains("T"))
    }

    @Test(
        "ops after the last checkpoint are committed at a successful end, but the state stays the checkpointed one", arguments: Backend.all)
    func tailAfterCheckpoint(_ backend: Backend) throws {
        let (fixture, report, _) = try run(
            [
                ["upsert": ["table": "users", "data": ["id": 1]]],
                ["checkpoint": ["cursor": 1]],
                ["upsert": ["table": "users", "data": ["id": 2]]],
            ], schema: [users], backend: backend)
        #expect(report.failure == nil)
        #expect(try fixture.rows(#"SELECT "id" FROM "users" ORDER BY "id""#) == [["1"], ["2"]])
        #expect(fixture.state() == #"{"cursor":1}"#)
    }
}

@Suite("Failures leave the warehouse at the last checkpoint")
struct RollbackTests {
    @Test("a connector that exits non-zero after some ops and no checkpoint leaves the warehouse as before the run", arguments: Backend.all)
    func exitWithoutCheckpoint(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            product: "operations-test-connector",
            configuration: [
                "schema": [table("items", primaryKey: ["id"], columns: ["id": "LONG", "value": "STRING"])],
                "steps": [["rows": ["table": "items", "count": 5, "checkpointEvery": 5]]],
            ], backend: backend)
        #expect(fixture.sync().0.failure == nil)
        let before = try fixture.rows(#"SELECT "id", "value", "_connector_synced" FROM "items" ORDER BY "id""#)
        #expect(before.count == 5)

        try fixture.write(
            "configuration.json",
            JSONWriter.string([
                "schema": [table("items", primaryKey: ["id"], columns: ["id": "LONG", "value": "STRING"])],
                "steps": [
                    ["upsert": ["table": "items", "data": ["id": 1, "value": "changed"]]],
                    ["rows": ["table": "items", "count": 3]],
                    ["truncate": "items"],
                    ["stderr": "about to fail"],
                    ["exit": 3],
                ],
            ]))
        let (report, _) = fixture.sync()
        let failure = try #require(report.failure)
        #expect(failure.kind == .connectorExited)
        #expect(
            failure.message.hasPrefix(
                "the connector exited with status 3 before answering update; the warehouse is back at the last checkpoint."))
        #expect(failure.message.contains("last lines of the connector's stderr:\n    about to fail"))
        #expect(try fixture.rows(#"SELECT "id", "value", "_connector_synced" FROM "items" ORDER BY "id""#) == before)
        #expect(fixture.state() == #"{"cursor":5}"#)
        let history = try fixture.rows(#"SELECT "status" FROM "_connector_syncs" ORDER BY "id""#)
        #expect(history == [["succeeded"], ["failed"]])
    }

    @Test("the CLI exits non-zero with one precise message when the connector crashes", arguments: Backend.all)
    func crashThroughCLI(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            product: "operations-test-connector",
            configuration: [
                "schema": [table("items", primaryKey: ["id"])],
                "steps": [
                    ["rows": ["table": "items", "count": 2, "checkpointEvery": 1]], ["rows": ["table": "items", "count": 2, "start": 10]],
                    ["abort": true],
                ],
            ], backend: backend)
        let result = try runCLI(["run", fixture.path] + fixture.destinationArguments)
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "error: the connector was killed by signal 6 (SIGABRT, an abort or failed assertion) before answering update"))
        #expect(result.stdout.contains("outcome: FAILED (connectorExited); the warehouse is at the last checkpoint"))
        #expect(try fixture.rows(#"SELECT "id" FROM "items" ORDER BY "id""#) == [["1"], ["2"]])
        #expect(fixture.state() == #"{"cursor":2}"#)
    }

    @Test("an error answered to update rolls back and reports the connector's message", arguments: Backend.all)
    func connectorError(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            product: "operations-test-connector",
            configuration: [
                "schema": [table("items", primaryKey: ["id"])],
                "steps": [["rows": ["table": "items", "count": 3]], ["fail": "the API answered 503"]],
            ], backend: backend)
        let (report, _) = fixture.sync()
        #expect(
            report.failure?.message
                == "the connector failed in update: the API answered 503 [error -32013 (source error)]\n  last lines of the connector's stderr:\n    connector: update failed: the API answered 503"
        )
        #expect(try !fixture.tableExists("items"))
    }
}
