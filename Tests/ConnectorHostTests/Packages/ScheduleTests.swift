import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("connector-host schedule")
struct ScheduleTests {
    /// The grid points of a connection that the schedule should have run before `until`: every
    /// `created + k × interval` before `until`, except those that passed while an earlier sync ran
    /// (a sync that ends after a due time skips it: the next sync is the next grid point after its end).
    static func expectedSlots(created: Int64, interval: Int64, until: Int64, syncs: [(scheduledFor: Int64, finished: Int64)]) -> [Int64] {
        var slots: [Int64] = []
        var point = created
        while point < until {
            let skipped = syncs.contains { $0.scheduledFor < point && point <= $0.finished }
            if !skipped { slots.append(point) }
            point += interval * 1000
        }
        return slots
    }

    @Test("two connections with different intervals run on their own grids for a bounded time; the history shows each due sync once")
    func boundedRun() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let every2 = try fixture.createConnection("every2", package: id, every: "2s")
        let every3 = try fixture.createConnection("every3", package: id, every: "3s")
        let result = try fixture.cli(["schedule", "--for", "7s", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let events = scheduleEvents(result.stdout)
        let until = try time(events.first?["until"])
        #expect(events.last?["event"]?.stringValue == "stopped" && events.last?["reason"]?.stringValue == "deadline")
        for (connection, interval) in [(every2, Int64(2)), (every3, Int64(3))] {
            let name = try #require(connection["name"]?.stringValue)
            let created = try time(connection["created_at"])
            let syncs = try fixture.syncs(of: name)
            #expect(syncs.allSatisfy { $0.status == "succeeded" && $0.attempt == 1 }, "\(syncs)")
            let ran = syncs.compactMap(\.scheduledFor)
            let expected = Self.expectedSlots(
                created: created, interval: interval, until: until, syncs: syncs.map { ($0.scheduledFor ?? 0, $0.finished ?? 0) })
            #expect(ran == expected, "\(name): ran \(ran), expected \(expected)")
            #expect(ran.count >= 2, "\(name) ran \(ran.count) times in 7 s")
            // One sync at a time: each starts after the one before ended.
            for (earlier, later) in zip(syncs, syncs.dropFirst()) { #expect(later.started >= earlier.finished ?? .max) }
            let finishedEvents = events.filter { $0["event"]?.stringValue == "sync_finished" && $0["connection"]?.stringValue == name }
            #expect(finishedEvents.count == ran.count)
            let shown = try fixture.connection(name)
            #expect(shown["status"]?["sync_state"]?.stringValue == "scheduled")
            #expect(shown["last_sync"]?["status"]?.stringValue == "succeeded")
            let next = try time(shown["next_sync_at"])
            #expect((next - created) % (interval * 1000) == 0 && next > (syncs.last?.finished ?? 0))
        }
    }

    @Test("a failed sync is retried with doubling delays, each attempt recorded, then its due time is given up")
    func retries() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let connection = try fixture.createConnection("flaky", package: id, configuration: ["fail": "yes"], every: "1h")
        let result = try fixture.cli(["schedule", "--for", "12s", "--retries", "2", "--retry-delay", "1s", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let syncs = try fixture.syncs(of: "flaky")
        let created = try time(connection["created_at"])
        #expect(syncs.map(\.status) == ["failed", "failed", "failed"])
        #expect(syncs.map(\.attempt) == [1, 2, 3])
        #expect(syncs.allSatisfy { $0.scheduledFor == created }, "every attempt is for the same due time")
        // The delays double: at least 1 s, then at least 2 s, between one attempt's end and the next start.
        #expect(syncs[1].started - (syncs[0].finished ?? 0) >= 1000)
        #expect(syncs[2].started - (syncs[1].finished ?? 0) >= 2000)
        let events = scheduleEvents(result.stdout).filter { $0["event"]?.stringValue == "sync_finished" }
        #expect(events.map { $0["retry"] } == [.bool(true), .bool(true), .bool(false)])
        #expect(events.first?["error"]?.stringValue?.contains("failing on purpose") == true)
        let shown = try fixture.connection("flaky")
        #expect(shown["failures"] == .number(JSONNumber(0)))
        #expect(shown["next_sync_at"]?.stringValue == RegistryTime.text(created + 3_600_000))
        #expect(shown["failed_at"] != .null)
        // The failed attempts rolled back after their last checkpoint: the rows of each checkpoint stay.
        #expect(try fixture.warehouseRows(shown, #"SELECT count(*) FROM "runs""#) == [["3"]])
    }

    @Test("--once runs each due connection once and exits; paused connections wait until resumed")
    func onceAndPause() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        try fixture.createConnection("active", package: id, every: "1h")
        try fixture.createConnection("held", package: id, every: "1h")
        try fixture.createConnection("manual", package: id)
        #expect(try fixture.cli(["connection", "pause", "held"]).stdout == "paused held\n")
        #expect(try fixture.connection("held")["status"]?["sync_state"]?.stringValue == "paused")
        let once = try fixture.cli(["schedule", "--once"])
        #expect(once.status == 0, "\(once.stderr)")
        #expect(once.stdout.contains("active: sync started"))
        #expect(once.stdout.contains("schedule stopped (once)"))
        #expect(try fixture.syncs(of: "active").map(\.status) == ["succeeded"])
        #expect(try fixture.syncs(of: "held").isEmpty)
        #expect(try fixture.syncs(of: "manual").isEmpty)
        #expect(try fixture.connection("manual")["status"]?["sync_state"]?.stringValue == "manual")
        // Nothing is due any more: a second pass runs nothing.
        let again = try fixture.cli(["schedule", "--once", "--json"])
        #expect(scheduleEvents(again.stdout).map { $0["event"]?.stringValue } == ["started", "stopped"])
        #expect(try fixture.cli(["connection", "resume", "held"]).stdout == "resumed held\n")
        #expect(try fixture.cli(["schedule", "--once"]).status == 0)
        #expect(try fixture.syncs(of: "held").map(\.status) == ["succeeded"])
    }

    @Test("SIGTERM cancels the running sync, which rolls back to its last checkpoint, and the next schedule runs it again")
    func sigterm() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let connection = try fixture.createConnection("slow", package: id, configuration: ["steps": "20", "sleep": "0.5"], every: "1h")
        let scheduler = try fixture.start(["schedule", "--json"])
        #expect(try fixture.waitUntil { try fixture.warehouseRowsIfAny(connection, #"SELECT count(*) FROM "runs""#) >= 1 })
        kill(scheduler.pid, SIGTERM)
        let stopped = scheduler.finish()
        #expect(stopped.status == 128 + SIGTERM, "\(stopped.stdout)\n\(stopped.stderr)")
        let events = scheduleEvents(stopped.stdout)
        #expect(events.last?["event"]?.stringValue == "stopped" && events.last?["reason"]?.stringValue == "stopped")
        #expect(try fixture.syncs(of: "slow").map(\.status) == ["cancelled"])
        #expect(try fixture.connection("slow")["status"]?["sync_state"]?.stringValue == "scheduled")
        // Data and state agree: the rows of the committed checkpoints, nothing after.
        let rows = try fixture.warehouseRows(connection, #"SELECT count(*) FROM "runs""#)
        let state = try String(contentsOfFile: try #require(connection["state"]?.stringValue), encoding: .utf8)
        #expect(state == "{\"n\":\(rows[0][0])}\n")
        #expect(try fixture.warehouseRows(connection, #"SELECT "status" FROM "_connector_syncs""#) == [["cancelled"]])
        // The due time stands: the sync runs again.
        try fixture.configurationUpdate(connection, ["steps": "1"])
        #expect(try fixture.cli(["schedule", "--once"]).status == 0)
        #expect(try fixture.syncs(of: "slow").map(\.status) == ["cancelled", "succeeded"])
        let all = try fixture.syncs(of: "slow")
        #expect(all[0].scheduledFor == all[1].scheduledFor)
    }

    @Test("a scheduler killed with SIGKILL and started again loses no sync and never runs a connection twice at once")
    func killAndRestart() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let slow = try fixture.createConnection("slow", package: id, configuration: ["steps": "6", "sleep": "0.5"], every: "2s")
        let quick = try fixture.createConnection("quick", package: id, every: "2s")
        let first = try fixture.start(["schedule", "--json"])
        #expect(try fixture.waitUntil { try fixture.warehouseRowsIfAny(slow, #"SELECT count(*) FROM "runs""#) >= 2 })
        kill(first.pid, SIGKILL)
        let killed = first.finish()
        #expect(killed.signaled)
        // Its `run --connection` children see their stdin close, cancel and roll back; meanwhile a new
        // scheduler starts at once: it must not start a second sync of a connection still stopping.
        let second = try fixture.cli(["schedule", "--for", "6s", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        for connection in [slow, quick] {
            let name = try #require(connection["name"]?.stringValue)
            let syncs = try fixture.syncs(of: name)
            #expect(!syncs.isEmpty)
            #expect(syncs.allSatisfy { $0.status != "running" && $0.status != "failed" }, "\(name): \(syncs)")
            for (earlier, later) in zip(syncs, syncs.dropFirst()) {
                #expect(later.started >= earlier.finished ?? .max, "\(name): two syncs at once: \(earlier) and \(later)")
            }
            // No due time lost: every sync that was cancelled or interrupted ran again for the same due time.
            for sync in syncs where sync.status == "cancelled" || sync.status == "interrupted" {
                #expect(
                    syncs.contains { $0.status == "succeeded" && $0.scheduledFor == sync.scheduledFor }, "\(name): \(sync) never ran again")
            }
            // The succeeded syncs are each for a different grid point, in order.
            let succeeded = syncs.filter { $0.status == "succeeded" }.compactMap(\.scheduledFor)
            #expect(succeeded == succeeded.sorted() && Set(succeeded).count == succeeded.count)
        }
        #expect(try fixture.syncs(of: "slow").contains { $0.status == "cancelled" || $0.status == "interrupted" })
        // Data and state agree after all that.
        let rows = try fixture.warehouseRows(slow, #"SELECT count(*) FROM "runs""#)
        let state = try String(contentsOfFile: try #require(slow["state"]?.stringValue), encoding: .utf8)
        #expect(state == "{\"n\":\(rows[0][0])}\n")
    }

    @Test("a second scheduler on the same registry is refused")
    func oneScheduler() throws {
        let fixture = try RegistryFixture()
        let first = try fixture.start(["schedule"])
        #expect(fixture.waitUntil { FileManager.default.fileExists(atPath: fixture.home + "/scheduler.lock") })
        usleep(300_000)
        let second = try fixture.cli(["schedule", "--once"])
        kill(first.pid, SIGINT)
        let stopped = first.finish()
        #expect(stopped.status == 130, "\(stopped.stderr)")
        #expect(second.status == 75)
        #expect(
            second.stderr
                == "error: another connector-host schedule (pid \(first.pid)) is running on \(fixture.home); one scheduler per registry. Stop it first, or use another CONNECTOR_HOST_HOME\n"
        )
    }
}

extension RegistryFixture {
    /// A count from a connection's warehouse, or 0 while the warehouse or table does not exist yet.
    func warehouseRowsIfAny(_ connection: JSONValue, _ sql: String) throws -> Int {
        guard let path = connection["warehouse"]?.stringValue, FileManager.default.fileExists(atPath: path) else { return 0 }
        guard let rows = try? warehouseRows(connection, sql), let first = rows.first?.first else { return 0 }
        return Int(first) ?? 0
    }

    /// Rewrites a connection's stored configuration (as an operator editing it would).
    func configurationUpdate(_ connection: JSONValue, _ values: [String: String]) throws {
        let folder = home + "/connections/" + (connection["id"]?.stringValue ?? "")
        let object = JSONObject(values.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.string($0.value)) })
        try JSONWriter.string(.object(object)).write(toFile: folder + "/configuration.json", atomically: true, encoding: .utf8)
    }
}

/// The time of a JSON member holding an RFC 3339 string, in milliseconds since 1970.
func time(_ value: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int64 {
    try #require(value?.stringValue.flatMap(milliseconds), "not a time: \(String(describing: value))", sourceLocation: sourceLocation)
}
