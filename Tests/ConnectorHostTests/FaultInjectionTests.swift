import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Kills the connector (or the host) at random points of random streams and checks, after every
/// kill, that (a) the warehouse holds exactly the operations up to the last acknowledged checkpoint,
/// (b) the state file holds that checkpoint's state, and (c) resuming to the end gives the same
/// warehouse as an uninterrupted run. Both destinations: on PostgreSQL the state is the
/// destination's (no state file), and a killed host's transaction is rolled back by the server.
///
/// `swift test` runs a quick version. `scripts/fault-soak.sh` runs a long one through the
/// environment: `FAULT_INJECTION_KILLS` (connector kills, default 50), `FAULT_INJECTION_HOST_KILLS`
/// (default 10) and `FAULT_INJECTION_SEED` (default: a new one, printed, so a failure can be replayed).
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

    @Test("the host killed with SIGKILL at random messages: the next run finds the last checkpoint and converges", arguments: Backend.all)
    func hostKills(_ backend: Backend) throws {
        let seed = Self.setting("FAULT_INJECTION_SEED", default: UInt64.random(in: 1...UInt64(UInt32.max))) &+ 1
        let target = Int(Self.setting("FAULT_INJECTION_HOST_KILLS", default: 10))
        var random = SplitMix64(seed: seed)
        var tally = Tally()
        var mirrorsBehind = 0
        while tally.kills < target {
            let stream = FaultStream(random: &random)
            let fixture = try Self.fixture(stream, backend)
            var cursor = 0
            while tally.kills < target, random.next(below: 4) > 0, cursor < stream.rows {
                let plan = stream.messages(after: cursor)
                let at = random.next(below: plan.count)
                let how = ["before", "midline", "after"][random.next(below: 3)]
                let kill: JSONValue = ["at": .number(JSONNumber(at)), "how": .string(how), "target": "host"]
                try fixture.write("configuration.json", JSONWriter.string(stream.configuration(kill: kill)))
                let result = try RunningCLI(["run", fixture.path, "--quiet", "--grace", "0.5"] + fixture.destinationArguments).finish()
                tally.runs += 1
                tally.kills += 1
                tally.count(how: how, atCheckpoint: plan[at].checkpoint != nil)
                let context = "seed \(seed), stream \(stream), from cursor \(cursor), kill the host \(how) message \(at) of \(plan.count)"
                #expect(result.signaled && result.status == SIGKILL, "\(context): \(result.stderr)")
                // What the connector knew was acknowledged, and what it had sent in full.
                let acknowledged = stream.cursorAfterKill(plan, at: at, how: "before", start: cursor)
                let sent = stream.cursorAfterKill(plan, at: at, how: how, start: cursor)
                let committed = try storedCursor(fixture)
                #expect(committed == acknowledged || committed == sent, "\(context): the warehouse is at \(committed)")
                tally.violations += try check(fixture, stream, cursor: committed, context: context, tally: &tally)
                let mirror = backend == .postgres ? fixture.state() : fixture.stateFile()
                let expectedMirror = committed == 0 ? nil : #"{"cursor":\#(committed)}"#
                if mirror != expectedMirror {
                    // Killed between the commit and the state file's rename: the next run repairs it.
                    mirrorsBehind += 1
                    #expect(
                        mirror == (acknowledged == 0 ? nil : #"{"cursor":\#(acknowledged)}"#), "\(context): state file \(mirror ?? "none")")
                }
                #expect(try fixture.history().last?[0] == "running", "\(context)")
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
            #expect(try fixture.history().dropLast().allSatisfy { $0[0] == "interrupted" || $0[0] == "succeeded" })
            tally.violations += try check(
                fixture, stream, cursor: stream.rows, context: "seed \(seed), \(stream), at the end", tally: &tally)
            tally.violations += try compareWithUninterruptedRun(fixture, stream, seed: seed, tally: &tally)
        }
        print(
            "fault injection (\(backend.testDescription), seed \(seed)): \(tally.kills) host kills \(tally.modes), \(tally.runs) runs, \(tally.warehouses) warehouses and \(tally.rows) rows checked, \(mirrorsBehind) state files repaired by the next run, \(tally.violations) violations"
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

    func configuration(kill: JSONValue?) -> JSONValue {
        var object: JSONObject = [
            "rows": .number(JSONNumber(rows)), "every": .number(JSONNumber(every)), "batch": .number(JSONNumber(batch)),
        ]
        if let kill { object["kill"] = kill }
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
