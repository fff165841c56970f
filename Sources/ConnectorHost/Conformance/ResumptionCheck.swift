import ConnectorProtocol
import Foundation

/// The resumption check (`conformance --resumption`): the connector synced once without a stop,
/// then again from empty, stopped right after each checkpoint and resumed from the stored state
/// until it finishes; the two warehouses must hold the same rows. It proves that the state a
/// connector checkpoints covers exactly the data sent before it, which is what breaks most often.
///
/// Both runs are real syncs (`SyncRunner`) into temporary warehouses, deleted afterwards.
enum ResumptionCheck {
    /// How many resumed syncs the check allows before it says the connector never finishes.
    static let maximumRuns = 200

    static func run(_ options: ConformanceOptions, log: @escaping @Sendable (String) -> Void) -> ConformanceResult {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-resumption-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let console = ResumptionConsole(log: log)
        func sync(_ name: String, stopAfterCheckpoint: Bool) -> SyncReport {
            var sync = SyncOptions(
                directory: options.directory, configurationPath: options.configurationPath,
                files: WorkspaceFiles(
                    directory: options.directory, warehouse: scratch.path + "/\(name).db", state: scratch.path + "/\(name).state.json"))
            sync.build = false
            sync.idleTimeout = options.timeout
            sync.handshakeTimeout = options.timeout
            sync.gracePeriod = options.grace
            sync.stopsAfterCheckpoint = stopAfterCheckpoint
            return SyncRunner.run(sync, console: console)
        }
        let whole = sync("whole", stopAfterCheckpoint: false)
        if let failure = whole.failure {
            return ConformanceResult(.resumption, .skipped, "the uninterrupted sync failed: \(firstLine(failure.message))")
        }
        var runs = 0
        var checkpoints = 0
        while true {
            runs += 1
            let part = sync("resumed", stopAfterCheckpoint: true)
            if let failure = part.failure {
                return ConformanceResult(
                    .resumption, .failed,
                    "resumed sync \(runs) (after \(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s")) failed: \(firstLine(failure.message))"
                )
            }
            checkpoints += part.counts.checkpoints
            if part.limitedAt == nil { break }  // it ran to its end: the connector is done
            if runs >= maximumRuns {
                return ConformanceResult(
                    .resumption, .failed,
                    "the connector was still checkpointing after \(runs) resumed syncs; resumed from its own state, a sync must finish (is the state advancing?)"
                )
            }
        }
        let expected: JSONValue
        let actual: JSONValue
        do {
            expected = try snapshot(scratch.path + "/whole.db")
            actual = try snapshot(scratch.path + "/resumed.db")
        } catch let error as InspectionError {
            return ConformanceResult(.resumption, .failed, "the warehouses could not be compared: \(error.message)")
        } catch {
            return ConformanceResult(.resumption, .failed, "the warehouses could not be compared: \(error)")
        }
        let differences = WarehouseSnapshot.differences(expected: expected, actual: actual)
        let rows = (expected["tables"]?.arrayValue ?? []).reduce(0) { $0 + ($1["rows"]?.arrayValue?.count ?? 0) }
        guard differences.isEmpty else {
            return ConformanceResult(
                .resumption, .failed,
                "stopped after each of its \(checkpoints) checkpoints and resumed, the connector left another warehouse than one uninterrupted sync: "
                    + differences.prefix(3).joined(separator: "; ") + (differences.count > 3 ? " (and \(differences.count - 3) more)" : "")
                    + "; a checkpoint's state must cover exactly the operations sent before it")
        }
        return ConformanceResult(
            .resumption, .passed,
            "stopped after each of its \(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s") and resumed \(runs) time\(runs == 1 ? "" : "s"), it left the same \(rows) row\(rows == 1 ? "" : "s") as one uninterrupted sync"
        )
    }

    /// The warehouse's rows as `inspect --rows --json` shows them.
    private static func snapshot(_ path: String) throws -> JSONValue {
        try JSONParser.parse(Inspector.json(try Inspector.inspect(warehouse: path, syncLimit: 0, includeRows: true)))
    }

    private static func firstLine(_ text: String) -> String { text.split(separator: "\n").first.map(String.init) ?? text }
}

/// Passes the connector's log lines and the host's notes to the conformance log (`--verbose`).
private struct ResumptionConsole: SyncConsole {
    let log: @Sendable (String) -> Void
    func connectorLog(_ connector: String, level: LogLevel?, _ message: String) { log("[\(connector)] \(message)") }
    func note(_ message: String) { log(message) }
    func progress(_ counts: OperationCounts, elapsed: Double) {}
}
