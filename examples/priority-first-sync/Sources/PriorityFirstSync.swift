import ConnectorProtocol
import ConnectorSDK
import Foundation

/// Syncs the newest data first, then works back through history a few days per sync.
///
/// A first sync of a large history can take hours; users usually need the recent data first. Two
/// cursors split the timeline: everything after `forward_cursor` is synced at the start of every
/// sync, and `backward_cursor` walks back towards `history_start` one day per checkpoint, at most
/// `history_days_per_sync` days per sync. Once it reaches the start, syncs are purely incremental.
@main
struct PriorityFirstSync: Connector {
    var name: String { "priority-first-sync" }
    var version: String { "1.0.0" }

    static let day: TimeInterval = 86_400

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "event", primaryKey: ["id"],
                columns: [("id", ColumnType(.long)), ("occurred_at", ColumnType(.utcDateTime)), ("value", ColumnType(.long))])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let historyDaysPerSync = try configuration.int("history_days_per_sync", default: 3)
        let api = EmulatedEventsAPI(day: Int(state["source_day"]?.int64Value ?? 0))
        let now = api.now
        let historyStart = try date(state["history_start"]) ?? api.historyStart
        var forward = try date(state["forward_cursor"]) ?? now - Self.day  // A first sync starts with the last day.
        var backward = try date(state["backward_cursor"]) ?? forward
        func checkpoint() throws {
            try operations.checkpoint([
                "forward_cursor": .string(iso(forward)), "backward_cursor": .string(iso(backward)),
                "history_start": .string(iso(historyStart)), "source_day": .integer(api.day + 1),
            ])
        }

        // 1. Priority: everything new since the last sync.
        try upsert(api.events(after: forward, upTo: now), operations)
        forward = now
        try checkpoint()

        // 2. History, newest day first, one checkpoint per day.
        var days = 0
        while backward > historyStart && days < historyDaysPerSync {
            let from = max(backward - Self.day, historyStart)
            try upsert(api.events(after: from, upTo: backward), operations)
            backward = from
            days += 1
            try checkpoint()
        }
        Log.info(backward > historyStart ? "history synced back to \(iso(backward))" : "history complete")
    }

    private func upsert(_ events: [EmulatedEventsAPI.Event], _ operations: Operations) throws {
        for event in events {
            try operations.upsert(
                "event", ["id": .integer(event.id), "occurred_at": .string(iso(event.occurredAt)), "value": .integer(event.value)])
        }
    }

    private func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    private func date(_ value: JSONValue?) throws -> Date? {
        guard let text = value?.stringValue else { return nil }
        return try Date(text, strategy: .iso8601)
    }
}

/// The emulated source: one event every six hours since `historyStart`. Its clock starts at
/// 2024-03-10 and advances one day per sync; having no server to remember that, it keeps its day in
/// the state as `source_day`.
struct EmulatedEventsAPI {
    struct Event {
        var id: Int
        var occurredAt: Date
        var value: Int
    }

    let day: Int
    let historyStart = Date(timeIntervalSince1970: 1_709_251_200)  // 2024-03-01T00:00:00Z
    let interval: TimeInterval = 6 * 3600

    var now: Date { Date(timeIntervalSince1970: 1_710_028_800 + Double(day) * PriorityFirstSync.day) }  // 2024-03-10 + day

    /// The events in `(start, end]`, oldest first.
    func events(after start: Date, upTo end: Date) -> [Event] {
        let first = Int(start.timeIntervalSince(historyStart) / interval) + 1
        let last = Int(min(end, now).timeIntervalSince(historyStart) / interval)
        guard first <= last else { return [] }
        return (first...last).map { Event(id: $0, occurredAt: historyStart + Double($0) * interval, value: $0 * 7 % 100) }
    }
}
