import ConnectorProtocol
import Foundation

/// Renders a sync's outcome for people (a table) and machines (one JSON object).
public enum SyncReportFormatter {
    /// The end-of-run table: operation counts, rows/s and the outcome.
    public static func table(_ report: SyncReport) -> String {
        let counts = report.counts
        var rows: [(String, String)] = [
            ("upserts", group(counts.upserts)),
            ("updates", group(counts.updates) + (counts.noopUpdates > 0 ? " (\(group(counts.noopUpdates)) matched no row)" : "")),
            ("deletes", group(counts.deletes) + (counts.noopDeletes > 0 ? " (\(group(counts.noopDeletes)) matched no row)" : "")),
            ("truncates", group(counts.truncates)),
            ("schema changes", group(counts.schemaChanges)),
            ("checkpoints", group(counts.checkpoints)),
        ]
        rows.append(("duration", String(format: "%.2f s", report.duration)))
        rows.append(("throughput", "\(group(wholeNumber(report.rowsPerSecond))) rows/s"))
        let width = rows.map(\.0.count).max() ?? 0
        var lines = ["", "connector-host: \(HumanText.escapingControls(report.connector))"]
        lines.append(String(repeating: "-", count: width + 20))
        for (label, value) in rows {
            lines.append(label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value)
            if label == "schema changes" { lines += report.schemaChanges.map { "  " + $0 } }
        }
        lines.append(String(repeating: "-", count: width + 20))
        if let failure = report.failure {
            lines.append("outcome: FAILED (\(failure.kind.rawValue)); the warehouse is at the last checkpoint")
            // The counts above are what arrived; say what stays, so they are not read as committed.
            let kept = report.committedCounts
            lines.append(
                "committed: \(group(kept.upserts)) upserts, \(group(kept.updates)) updates, \(group(kept.deletes)) deletes, \(group(kept.truncates)) truncates by \(group(kept.checkpoints)) checkpoint\(kept.checkpoints == 1 ? "" : "s"); the rest was rolled back"
            )
        } else {
            lines.append("outcome: succeeded")
        }
        lines.append("warehouse: \(report.files.warehouse)")
        lines.append(
            "state:     \(report.files.state)"
                + (report.state.map({ HumanText.escapingControls(Redaction.maskedJSON($0)) }).map {
                    " = \($0.count > 120 ? String($0.prefix(120)) + "…" : $0)"
                }
                    ?? " (none yet)"))
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON object.
    public static func json(_ report: SyncReport) -> String {
        let counts = report.counts
        var object: JSONObject = [
            "connector": .string(report.connector),
            "status": .string(report.failure == nil ? "succeeded" : "failed"),
            "counts": countsJSON(counts),
            "committedCounts": countsJSON(report.committedCounts),
            "durationSeconds": .number(JSONNumber((report.duration * 1000).rounded() / 1000)),
            "rowsPerSecond": .number(JSONNumber(report.rowsPerSecond.rounded())),
            "protocolBytes": .number(JSONNumber(report.bytesRead)),
            "warehouse": .string(report.files.warehouse),
            "stateFile": .string(report.files.state),
        ]
        object["schemaChangeLog"] = .array(report.schemaChanges.map(JSONValue.string))
        // Values under secret-looking keys (a refresh token, say) are masked; state.json keeps them.
        if let state = report.state, let value = try? JSONParser.parse(Redaction.maskedJSON(state)) { object["state"] = value }
        if let failure = report.failure {
            object["error"] = [
                "kind": .string(failure.kind.rawValue), "message": .string(failure.message),
                "details": .object(JSONObject(failure.details.sorted { $0.key < $1.key }.map { (key: $0.key, value: .string($0.value)) })),
            ]
        }
        return JSONWriter.string(.object(object))
    }

    /// The operation counts as a JSON object (the same members in `run --json` and `inspect --json`).
    public static func countsJSON(_ counts: OperationCounts) -> JSONValue {
        [
            "upserts": .number(JSONNumber(counts.upserts)), "updates": .number(JSONNumber(counts.updates)),
            "deletes": .number(JSONNumber(counts.deletes)), "truncates": .number(JSONNumber(counts.truncates)),
            "schemaChanges": .number(JSONNumber(counts.schemaChanges)), "checkpoints": .number(JSONNumber(counts.checkpoints)),
            "noopUpdates": .number(JSONNumber(counts.noopUpdates)), "noopDeletes": .number(JSONNumber(counts.noopDeletes)),
        ]
    }

    /// `value` rounded to an integer, clamped instead of trapping when it is not finite or too large.
    public static func wholeNumber(_ value: Double) -> Int {
        guard value.isFinite else { return value.isNaN ? 0 : (value > 0 ? Int.max : Int.min) }
        return Int(exactly: value.rounded()) ?? (value > 0 ? Int.max : Int.min)
    }

    /// `1234567` as `1,234,567`.
    public static func group(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }
}
