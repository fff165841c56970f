import Testing

@testable import ConnectorHost

@Suite("Schedule rules")
struct ScheduleRulesTests {
    @Test("the next due time is the first grid point after the sync ended; the points passed meanwhile are counted as missed")
    func grid() {
        // Interval 60 s, slot at t = 1,000,000 ms.
        #expect(Scheduler.nextGridPoint(after: 1_000_000, interval: 60, now: 1_000_500) == (1_060_000, 0))
        #expect(Scheduler.nextGridPoint(after: 1_000_000, interval: 60, now: 1_059_999) == (1_060_000, 0))
        #expect(Scheduler.nextGridPoint(after: 1_000_000, interval: 60, now: 1_060_000) == (1_120_000, 1))
        #expect(Scheduler.nextGridPoint(after: 1_000_000, interval: 60, now: 1_250_000) == (1_300_000, 4))
        // A clock that went back still moves forward one interval.
        #expect(Scheduler.nextGridPoint(after: 1_000_000, interval: 60, now: 900_000) == (1_060_000, 0))
    }

    @Test("the scheduler's note to its run --connection children reads back, and anything else is ignored")
    func scheduledRun() {
        let run = ScheduledRun(scheduledFor: 1_764_612_000_123, attempt: 3)
        #expect(ScheduledRun(environment: [ScheduledRun.environmentVariable: run.encoded]) == run)
        #expect(ScheduledRun(environment: [:]) == nil)
        #expect(ScheduledRun(environment: [ScheduledRun.environmentVariable: "attempt=2"]) == nil)
    }

    @Test("intervals print as the durations they were given in")
    func durations() {
        #expect(RegistryFormatter.duration(30) == "30s")
        #expect(RegistryFormatter.duration(900) == "15m")
        #expect(RegistryFormatter.duration(5400) == "1h30m")
        #expect(RegistryFormatter.duration(86_400) == "1d")
    }
}
