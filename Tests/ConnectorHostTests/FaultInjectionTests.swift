import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Kills the connector, kills or stops the host (SIGKILL, SIGTERM, SIGHUP), or attempts a `reset`,
/// at random points of random streams and checks, after every one, that (a) the warehouse holds
/// exactly the operations up to a checkpoint (the last acknowledged one; after SIGTERM or SIGHUP,
/// possibly a later one the connector went on to send), (b) the state file holds that checkpoint's
/// state, and (c) resuming to the end gives the same warehouse as an uninterrupted run. Both destinations: on PostgreSQL the state is the
/// destination's (no state file), and a killed host's transaction is rolled back by the server.
///
/// `swift test` runs a quick version. `scripts/fault-soak.sh` runs a long one through the
/// environment: `FAULT_INJECTION_KILLS` (connector kills, default 50), `FAULT_INJECTION_HOST_KILLS`
/// (default 10), `FAULT_INJECTION_RESETS` (default 4; SQLite, whose reset deletes files a running
/// sync holds) and `FAULT_INJECTION_SEED` (default: a new one, printed, so a failure can be replayed).
@Suite("Fault injection")
struct FaultInjectionTests {
    /// A directory whose connector is the fault-injection connector running `stream`.
    static func fixture(_ stream: FaultStream, _ backend: Backend) throws -> ConnectorFixture {
        try ConnectorFixture(product: "fault-injection-connector", configuration: stream.configuration(kill: nil), backend: backend)
    }

    static func setting(_ name: String, default value: UInt64) -> UInt64 {
        ProcessInfo.processInfo.environment[name].flatMap { UInt64($0) } ?? value
    }

    @Test("the connector killed at random messages: always exactly the last checkpoint, and resuming converges", arguments: Backend.all)
    func connectorKills(_ backend: Backend) throws {
        let seed = Self.setting("FAULT_INJECTION_SEED", default: UInt64.random(in: 1...UInt64(UInt32.max)))
        let target = Int(Self.setting("FAULT_INJECTION_KILLS", default: 50))
        var random = SplitMix64(seed: seed)
        var tally = Tally()
        while tally.kills < target {
            let stream = FaultStream(random: &random)
            let fixture = try Self.fixture(stream, backend)
            var cursor = 0
            var completed = false
            while !completed {
                let plan = stream.messages(after: cursor)
                guard tally.kills < target, random.next(below: 5) > 0 else {
                    try fixture.write("configuration.json", JSONWriter.string(stream.configuration(kill: nil)))
                    let (report, _) = fixture.sync()
                    try #require(report.failure == nil, "seed \(seed): the completing run failed: \(report.failure?.message ?? "")")
                    cursor = stream.rows
                    completed = true
                    tally.runs += 1
                    break
                }
                let at = random.next(below: plan.count + 1)
                let how = ["before", "midline", "after"][random.next(below: 3)]
                let kill: JSONValue = ["at": .number(JSONNumber(at)), "how": .string(how), "target": "self"]
                try fixture.write("configuration.json", JSONWriter.string(stream.configuration(kill: kill)))
                let (report, _) = fixture.sync { $0.gracePeriod = 0.5 }
                tally.runs += 1
                tally.kills += 1
                tally.count(how: how, atCheckpoint: at < plan.count && plan[at].checkpoint != nil)
                let expected = stream.cursorAfterKill(plan, at: at, how: how, start: cursor)
                let context = "seed \(seed), stream \(stream), from cursor \(cursor), kill \(how) message \(at) of \(plan.count)"
                if at == plan.count && how == "after" {
                    #expect(report.failure == nil, "\(context): \(report.failure?.message ?? "")")
                } else {
                    #expect(report.failure?.kind == .connectorExited, "\(context): \(report.failure?.message ?? "succeeded")")
                }
                tally.violations += try check(fixture, stream, cursor: expected, context: context, tally: &tally)
                #expect(fixture.state() == (expected == 0 ? nil : #"{"cursor":\#(expected)}"#), "\(context)")
                cursor = expected
                completed = cursor == stream.rows && report.failure == nil
            }
            tally.violations += try check(
                fixture, stream, cursor: stream.rows, context: "seed \(seed), \(stream), at the end", tally: &tally)
            tally.violations += try compareWithUninterruptedRun(fixture, stream, seed: seed, tally: &tally)
        }
        print(
            "fault injection (\(backend.testDescription), seed \(seed)): \(tally.kills) connector kills \(tally.modes), \(tally.runs) runs, \(tally.warehouses) warehouses and \(tally.rows) rows checked, \(tally.violations) violations"
        )
        #expect(tally.violations == 0)
    }

    @Test(
        "the host killed (SIGKILL) or stopped (SIGTERM, SIGHUP) at random messages: the next run finds the last checkpoint and converges",
        arguments: Backend.all)
    func hostKills(_ backend: Backend) throws {
        let seed = Self.setting("FAULT_INJECTION_SEED", default: UInt64.random(in: 1...UInt64(UInt32.max))) &+ 1
        let target = Int(Self.setting("FAULT_INJECTION_HOST_KILLS", default: 10))
        var random = SplitMix64(seed: seed)
        var tally = Tally()
        var mirrorsBehind = 0
        var signals: [Int32: Int] = [:]
        while tally.kills < target {
            let stream = FaultStream(random: &random)
            let fixture = try Self.fixture(stream, backend)
            var cursor = 0
            while tally.kills < target, random.next(below: 4) > 0, cursor < stream.rows {
                let plan = stream.messages(after: cursor)
                let at = random.next(below: plan.count)
                let how = ["before", "midline", "after"][random.next(below: 3)]
                let signal = [SIGKILL, SIGTERM, SIGHUP][random.next(below: 3)]
                let then = random.next(below: 2) == 0 ? "stop" : "continue"
                let kill: JSONValue = [
                    "at": .number(JSONNumber(at)), "how": .string(how), "target": "host",
                    "signal": .string(signal == SIGKILL ? "KILL" : signal == SIGTERM ? "TERM" : "HUP"), "then": .string(then),
                ]
                try fixture.write("configuration.json", JSONWriter.string(stream.configuration(kill: kill)))
                let result = try RunningCLI(["run", fixture.path, "--quiet", "--grace", "0.5"] + fixture.destinationArguments).finish()
                tally.runs += 1
                tally.kills += 1
                tally.count(how: how, atCheckpoint: plan[at].checkpoint != nil)
                signals[signal, default: 0] += 1
                let context =
                    "seed \(seed), stream \(stream), from cursor \(cursor), signal \(signal) to the host \(how) message \(at) of \(plan.count)\(signal == SIGKILL ? "" : ", then \(then)")"
                // What the connector knew was acknowledged, and what it had sent in full.
                let acknowledged = stream.cursorAfterKill(plan, at: at, how: "before", start: cursor)
                let sent = stream.cursorAfterKill(plan, at: at, how: how, start: cursor)
                let committed = try storedCursor(fixture)
                let mirror = backend == .postgres ? fixture.state() : fixture.stateFile()
                let expectedMirror = committed == 0 ? nil : #"{"cursor":\#(committed)}"#
                let status = try fixture.history().last?[0]
                if signal == SIGKILL {
                    #expect(result.signaled && result.status == SIGKILL, "\(context): \(result.stderr)")
                    #expect(committed == acknowledged || committed == sent, "\(context): the warehouse is at \(committed)")
                    if mirror != expectedMirror {
                        // Killed between the commit and the state file's rename: the next run repairs it.
                        mirrorsBehind += 1
                        #expect(
                            mirror == (acknowledged == 0 ? nil : #"{"cursor":\#(acknowledged)}"#),
                            "\(context): state file \(mirror ?? "none")")
                    }
                    #expect(status == "running", "\(context)")
                } else {
                    // The host stops the sync itself: rolled back to a checkpoint, recorded, said, exit 128 +
                    // signal. A connector that goes on may get further checkpoints committed before the
                    // host acts on the signal, or even finish (then the sync succeeded, exit 0).
                    let checkpoints = [cursor] + plan.compactMap(\.checkpoint)
                    let possible = then == "stop" ? [acknowledged, sent] : checkpoints.filter { $0 >= acknowledged }
                    #expect(possible.contains(committed), "\(context): the warehouse is at \(committed)")
                    #expect(mirror == expectedMirror, "\(context): state file \(mirror ?? "none") at \(committed)")
                    #expect(!result.signaled, "\(context): \(result.stderr)")
                    if result.status == 0 {
                        #expect(status == "succeeded" && committed == stream.rows, "\(context): \(status ?? "no history") at \(committed)")
                    } else {
                        #expect(result.status == 128 + signal, "\(context): exit \(result.status): \(result.stderr)")
                        #expect(status == "cancelled", "\(context): \(status ?? "no history")")
                        let reason = signal == SIGTERM ? "SIGTERM: the host was asked to stop" : "SIGHUP: the host's terminal went away"
                        #expect(result.stderr.contains("error: cancelled (\(reason)):"), "\(context): \(result.stderr)")
                    }
                    let pid = readPID(fixture.path + "/connector.pid")
                    #expect(pid.map(processExists) == false, "\(context): the connector (pid \(pid ?? 0)) outlived the host")
                }
                tally.violations += try check(fixture, stream, cursor: committed, context: context, tally: &tally)
                cursor = committed
            }
            try fixture.write("configuration.json", JSONWriter.string(stream.configuration(kill: nil)))
            let (report, _) = fixture.sync()
            tally.runs += 1
            #expect(report.failure == nil, "seed \(seed): the completing run failed: \(report.failure?.message ?? "")")
            let received = try String(contentsOfFile: fixture.path + "/received.jsonl", encoding: .utf8).split(separator: "\n").last
            #expect(
                received.map(String.init) == (cursor == 0 ? "{}" : #"{"cursor":\#(cursor)}"#),
                "seed \(seed): resumed from \(received ?? "nothing")")
            #expect(try fixture.history().dropLast().allSatisfy { ["interrupted", "cancelled", "succeeded"].contains($0[0]) })
            tally.violations += try check(
                fixture, stream, cursor: stream.rows, context: "seed \(seed), \(stream), at the end", tally: &tally)
            tally.violations += try compareWithUninterruptedRun(fixture, stream, seed: seed, tally: &tally)
        }
        print(
            "fault injection (\(backend.testDescription), seed \(seed)): \(tally.kills) host kills (SIGKILL \(signals[SIGKILL, default: 0]), SIGTERM \(signals[SIGTERM, default: 0]), SIGHUP \(signals[SIGHUP, default: 0])) \(tally.modes), \(tally.runs) runs, \(tally.warehouses) warehouses and \(tally.rows) rows checked, \(mirrorsBehind) state files repaired by the next run, \(tally.violations) violations"
        )
        #expect(tally.violations == 0)
    }

    @Test("a reset attempted at a random moment: refused while a sync runs (which then finishes whole), else everything deleted")
    func resetsDuringSyncs() throws {
        let seed = Self.setting("FAULT_INJECTION_SEED", default: UInt64.random(in: 1...UInt64(UInt32.max))) &+ 2
        let target = Int(Self.setting("FAULT_INJECTION_RESETS", default: 4))
        var random = SplitMix64(seed: seed)
        var tally = Tally()
        var refused = 0
        var deletedBefore = 0
        var deletedAfter = 0
        var runsLockedOut = 0
        for _ in 0..<target {
            let stream = FaultStream(random: &random)
            let fixture = try Self.fixture(stream, .sqlite)
            var start = 0
            if random.next(below: 2) == 0 {
                // Something to delete: a first run killed at a random message leaves a checkpoint or none.
                let plan = stream.messages(after: 0)
                let at = random.next(below: plan.count)
                let kill: JSONValue = ["at": .number(JSONNumber(at)), "how": "after", "target": "self"]
                try fixture.write("configuration.json", JSONWriter.string(stream.configuration(kill: kill)))
                _ = fixture.sync { $0.gracePeriod = 0.5 }
                start = stream.cursorAfterKill(plan, at: at, how: "after", start: 0)
                tally.runs += 1
            }
            let delay = 200 + random.next(below: 1800)
            try fixture.write("configuration.json", JSONWriter.string(stream.configuration(kill: nil, delay: delay)))
            let received = fixture.path + "/received.jsonl"
            let updatesBefore = (try? String(contentsOfFile: received, encoding: .utf8))?.split(separator: "\n").count ?? 0
            let run = try RunningCLI(["run", fixture.path, "--quiet", "--grace", "0.5"])
            if random.next(below: 4) > 0 {
                // Inside the sync: once its update began (bounded wait), at a random moment of the stream.
                let deadline = monotonicSeconds() + 60
                while monotonicSeconds() < deadline,
                    ((try? String(contentsOfFile: received, encoding: .utf8))?.split(separator: "\n").count ?? 0) == updatesBefore
                {
                    usleep(2_000)
                }
                usleep(useconds_t(random.next(below: max(1, stream.messages(after: start).count * delay))))
            } else {
                // Around the start: before or while the host takes the lock, opens the warehouse, reads the state.
                usleep(useconds_t(random.next(below: 50_000)))
            }
            let reset = try runCLI(["reset", fixture.path, "--yes"])
            let result = run.finish()
            tally.runs += 1
            tally.kills += 1
            let context = "seed \(seed), stream \(stream), delay \(delay) µs, from cursor \(start)"
            let warehouseExists = FileManager.default.fileExists(atPath: fixture.warehousePath)
            // A run that starts while the reset holds the lock is refused (the reset's pid named), and does nothing.
            let lockedOut =
                result.status == 1 && reset.status == 0 && result.stderr.hasPrefix("error: another connector-host (pid ")
                && !result.stderr.contains("(pid \(run.pid))")
                && result.stderr.hasSuffix(
                    ") is syncing into this warehouse; it holds the lock \(fixture.warehousePath).lock. Wait for it to finish or stop it\n")
            if lockedOut {
                runsLockedOut += 1
                #expect(!warehouseExists && fixture.stateFile() == nil, "\(context): the refused run left files")
            } else {
                #expect(result.status == 0, "\(context): the sync failed: \(result.stderr)")
            }
            if reset.status == 1 {
                refused += 1
                let refusal =
                    "error: cannot reset: another connector-host (pid \(run.pid)) is syncing into this warehouse; it holds the lock \(fixture.warehousePath).lock. Wait for it to finish or stop it\n"
                #expect(reset.stderr == refusal, "\(context): \(reset.stderr)")
                #expect(warehouseExists, "\(context)")
            } else {
                #expect(reset.status == 0, "\(context): reset exited \(reset.status): \(reset.stderr)")
                #expect(reset.stdout.hasPrefix("deleted ") || reset.stdout.hasPrefix("nothing to reset"), "\(context): \(reset.stdout)")
                if warehouseExists { deletedBefore += 1 } else { deletedAfter += 1 }
            }
            if warehouseExists {
                // The sync ran whole (refused reset), or from the beginning (a reset before it took the lock).
                tally.violations += try check(fixture, stream, cursor: stream.rows, context: context, tally: &tally)
                #expect(fixture.stateFile() == #"{"cursor":\#(stream.rows)}"#, "\(context)")
                let last = (try? String(contentsOfFile: received, encoding: .utf8))?.split(separator: "\n").last.map(String.init)
                let expectedStart = reset.status == 1 && start > 0 ? #"{"cursor":\#(start)}"# : "{}"
                #expect(last == expectedStart, "\(context): the sync started from \(last ?? "nothing")")
            } else {
                // Reset after the sync ended: nothing of the workspace is left, no state without its warehouse.
                #expect(fixture.stateFile() == nil, "\(context): a state file without its warehouse")
                #expect((try? FileManager.default.contentsOfDirectory(atPath: fixture.path + "/files"))?.isEmpty ?? true, "\(context)")
            }
            // And a last run converges to the uninterrupted warehouse.
            try fixture.write("configuration.json", JSONWriter.string(stream.configuration(kill: nil)))
            let (report, _) = fixture.sync()
            tally.runs += 1
            #expect(report.failure == nil, "\(context): the completing run failed: \(report.failure?.message ?? "")")
            tally.violations += try check(fixture, stream, cursor: stream.rows, context: "\(context), at the end", tally: &tally)
            tally.violations += try compareWithUninterruptedRun(fixture, stream, seed: seed, tally: &tally)
        }
        print(
            "fault injection (SQLite, seed \(seed)): \(tally.kills) resets (\(refused) refused during a sync, \(deletedBefore) before a sync took the lock, \(deletedAfter) after it ended or while it started, \(runsLockedOut) runs refused while the reset held the lock), \(tally.runs) runs, \(tally.warehouses) warehouses and \(tally.rows) rows checked, \(tally.violations) violations"
        )
        #expect(tally.violations == 0)
    }

    /// The cursor stored in the warehouse, 0 before the first checkpoint.
    private func storedCursor(_ fixture: ConnectorFixture) throws -> Int {
        guard
            fixture.schema != nil
                ? try fixture.tableExists("_connector_state") : FileManager.default.fileExists(atPath: fixture.warehousePath)
        else { return 0 }
        let state = try fixture.rows(#"SELECT "state" FROM "_connector_state""#).first?.first
        return state.flatMap { try? JSONParser.parse($0) }?["cursor"]?.int64Value.map(Int.init) ?? 0
    }

    /// Compares the warehouse with the model at `cursor`; returns 1 on a violation.
    private func check(_ fixture: ConnectorFixture, _ stream: FaultStream, cursor: Int, context: String, tally: inout Tally) throws -> Int {
        let actual = try dump(fixture)
        let expected = stream.expectedDump(cursor: cursor)
        tally.warehouses += 1
        tally.rows += expected.count
        #expect(actual == expected, "\(context): the warehouse is not at cursor \(cursor)")
        #expect(try storedCursor(fixture) == cursor, "\(context)")
        return actual == expected ? 0 : 1
    }

    /// (c): the same stream run once without kills in a fresh directory gives the same rows.
    private func compareWithUninterruptedRun(_ fixture: ConnectorFixture, _ stream: FaultStream, seed: UInt64, tally: inout Tally) throws
        -> Int
    {
        let clean = try Self.fixture(stream, fixture.backend)
        let (report, _) = clean.sync()
        tally.runs += 1
        #expect(report.failure == nil)
        let same = try dump(clean) == dump(fixture) && clean.state() == fixture.state()
        #expect(same, "seed \(seed), \(stream): the resumed warehouse differs from an uninterrupted run")
        return same ? 0 : 1
    }

    /// The user tables' rows (without sync times) and the stored state, as lines.
    private func dump(_ fixture: ConnectorFixture) throws -> [String] {
        if fixture.schema == nil, !FileManager.default.fileExists(atPath: fixture.warehousePath) { return [] }
        var lines: [String] = []
        if try fixture.tableExists("items") {
            lines += try fixture.rows(#"SELECT "id", "value", "amount", "_connector_deleted" FROM "items" ORDER BY "id""#).map {
                "items " + $0.joined(separator: "|")
            }
        }
        if try fixture.tableExists("events") {
            lines += try fixture.rows(#"SELECT "kind", "n", "_connector_deleted" FROM "events" ORDER BY "n""#).map {
                "events " + $0.joined(separator: "|")
            }
        }
        return lines
    }
}

/// Counts for the report line.
struct Tally {
    var kills = 0
    var runs = 0
    var warehouses = 0
    var rows = 0
    var violations = 0
    private var byMode: [String: Int] = [:]
    private var atCheckpoint = 0

    mutating func count(how: String, atCheckpoint checkpoint: Bool) {
        byMode[how, default: 0] += 1
        if checkpoint { atCheckpoint += 1 }
    }

    var modes: String {
        "(before a message \(byMode["before", default: 0]), mid-line \(byMode["midline", default: 0]), after a message \(byMode["after", default: 0]); \(atCheckpoint) at a checkpoint)"
    }
}

/// The operation stream of the fault-injection connector (keep in step with it): N operations, a checkpoint
/// every K, records batches of at most B.
struct FaultStream: CustomStringConvertible {
    let rows: Int
    let every: Int
    let batch: Int

    init(random: inout SplitMix64) {
        rows = 20 + random.next(below: 181)
        every = 1 + random.next(below: 25)
        batch = 1 + random.next(below: 20)
    }

    var description: String { "N=\(rows) K=\(every) B=\(batch)" }

    /// - Parameter delay: microseconds the connector waits before each message.
    func configuration(kill: JSONValue?, delay: Int = 0) -> JSONValue {
        var object: JSONObject = [
            "rows": .number(JSONNumber(rows)), "every": .number(JSONNumber(every)), "batch": .number(JSONNumber(batch)),
        ]
        if let kill { object["kill"] = kill }
        if delay > 0 { object["delay"] = .number(JSONNumber(delay)) }
        return .object(object)
    }

    /// One message of a run: a records batch (`checkpoint` nil) or a checkpoint at an operation.
    struct Message {
        var checkpoint: Int?
    }

    /// The messages of a run resuming after `start` (the answer to `update` is message `count`).
    func messages(after start: Int) -> [Message] {
        var result: [Message] = []
        var pending = 0
        guard start < rows else { return [] }
        for position in (start + 1)...rows {
            pending += 1
            if pending == batch {
                result.append(Message())
                pending = 0
            }
            if position % every == 0 || position == rows {
                if pending > 0 { result.append(Message()) }
                pending = 0
                result.append(Message(checkpoint: position))
            }
        }
        return result
    }

    /// The cursor the warehouse must hold after a kill at message `at`: the last checkpoint written
    /// in full (before it, or it too when killed after writing it).
    func cursorAfterKill(_ plan: [Message], at: Int, how: String, start: Int) -> Int {
        let written = how == "after" ? min(at + 1, plan.count) : min(at, plan.count)
        return plan[..<written].compactMap(\.checkpoint).last ?? start
    }

    /// The rows the warehouse must hold once operations 1...cursor are committed, as `dump` renders them.
    func expectedDump(cursor: Int) -> [String] {
        guard cursor > 0 else { return [] }
        var items: [Int: (value: String, amount: Double, deleted: Bool)] = [:]
        var events: [Int: (kind: String, deleted: Bool)] = [:]
        for position in 1...cursor {
            if position % 7 == 0 && position > 3 {
                items[position - 3]?.deleted = true
            } else if position % 5 == 0 && position > 2 {
                items[position - 2]?.value = "update \(position)"
            } else if position % 29 == 0 {
                for key in events.keys { events[key]?.deleted = true }
            } else if position % 11 == 0 {
                events[position] = ("k\(position % 3)", false)
            } else {
                items[position] = ("row \(position)", Double(position) * 0.25, false)
            }
        }
        return items.keys.sorted().map { id in
            let row = items[id]!
            return "items \(id)|\(row.value)|\(row.amount)|\(row.deleted ? 1 : 0)"
        }
            + events.keys.sorted().map { n in "events \(events[n]!.kind)|\(n)|\(events[n]!.deleted ? 1 : 0)" }
    }
}

/// A small seeded random number generator (SplitMix64), so a failing seed can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<bound.
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
