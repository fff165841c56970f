import ConnectorProtocol
import Foundation

/// Renders a sync's outcome for people (a table) and machines (one JSON object).
public enum SyncReportFormatter {
    /// The end-of-run table: operation counts, rows/s and the outcome. After a failure or a cancel
    /// it has two columns, what was received and what was committed (the rest was rolled back), so
    /// that "upserts 20,251" is never read as what the warehouse kept.
    public static func table(_ report: SyncReport) -> String {
        let counts = report.counts
        let kept = report.committedCounts
        let split = report.failure != nil
        func noops(_ count: Int) -> String { count > 0 ? " (\(group(count)) matched no row)" : "" }
        var rows: [(label: String, received: Int, committed: Int, note: String)] = [
            ("upserts", counts.upserts, kept.upserts, ""),
            ("updates", counts.updates, kept.updates, noops(counts.noopUpdates)),
            ("deletes", counts.deletes, kept.deletes, noops(counts.noopDeletes)),
            ("truncates", counts.truncates, kept.truncates, ""),
            ("schema changes", counts.schemaChanges, kept.schemaChanges, ""),
            ("checkpoints", counts.checkpoints, kept.checkpoints, ""),
            ("file uploads", counts.fileUploads, kept.fileUploads, ""),
            ("warnings", counts.warnings, kept.warnings, ""),
        ]
        // File uploads and warnings only when there were some (most connectors have neither).
        rows.removeAll { ($0.label == "file uploads" || $0.label == "warnings") && $0.received == 0 }
        let width = (rows.map(\.label.count) + ["throughput".count]).max() ?? 0
        let receivedWidth = max("received".count, rows.map { group($0.received).count }.max() ?? 0)
        let committedWidth = max("committed".count, rows.map { group($0.committed).count }.max() ?? 0)
        func label(_ text: String) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        let rule = String(repeating: "-", count: width + (split ? receivedWidth + committedWidth + 24 : 20))
        var lines = ["", "connector-host: \(HumanText.escapingControls(report.connector))", rule]
        if split { lines.append(label("") + "  " + right("received", receivedWidth) + "  " + right("committed", committedWidth)) }
        for row in rows {
            if split {
                lines.append(
                    label(row.label) + "  " + right(group(row.received), receivedWidth) + "  " + right(group(row.committed), committedWidth)
                        + row.note)
            } else {
                lines.append(label(row.label) + "  " + group(row.received) + row.note)
            }
            if row.label == "schema changes" { lines += report.schemaChanges.map { "  " + $0 } }
        }
        if let selected = report.selectedTables {
            lines.append(label("tables") + "  " + selected.joined(separator: ", ") + " (--tables)")
            let skipped = report.skippedOperations.values.reduce(0, +)
            let perTable = report.skippedOperations.sorted { $0.key < $1.key }.map {
                "\(HumanText.escapingControls($0.key)) \(group($0.value))"
            }
            lines.append(
                label("skipped") + "  " + group(skipped) + " operations"
                    + (skipped > 0 ? " on tables not selected: " + perTable.joined(separator: ", ") : ""))
        }
        lines.append(label("duration") + "  " + String(format: "%.2f s", report.duration))
        lines.append(label("throughput") + "  " + "\(group(wholeNumber(report.rowsPerSecond))) rows/s")
        lines.append(rule)
        if let failure = report.failure {
            let received = counts.rowOperations + counts.truncates
            let committed = kept.rowOperations + kept.truncates
            var outcome =
                "outcome: \(failure.kind == .cancelled ? "CANCELLED" : "FAILED (\(failure.kind.rawValue))"); the warehouse is at the last checkpoint"
            if received > 0 {
                outcome +=
                    ": \(group(committed)) of \(group(received)) operations received were committed"
                    + (received > committed ? ", \(group(received - committed)) rolled back" : "")
            }
            lines.append(outcome)
        } else if let limit = report.limitedAt {
            lines.append(
                "outcome: LIMITED; the host stopped the connector after \(group(limit)) operations (--limit \(limit)) and committed them; the state is the last checkpoint's, so the next run fetches what came after it again"
            )
        } else {
            lines.append("outcome: succeeded")
        }
        let state =
            report.state.map({ HumanText.escapingControls(Redaction.maskedJSON($0)) }).map {
                " = \($0.count > 120 ? String($0.prefix(120)) + "…" : $0)"
            } ?? " (none yet)"
        if let destination = report.destination {
            lines.append("destination: \(destination)")
            lines.append("state:       in the destination" + (report.mirroredState ? ", mirrored to \(report.files.state)" : "") + state)
        } else {
            lines.append("warehouse: \(report.files.warehouse)")
            lines.append("state:     \(report.files.state)" + state)
        }
        if report.stateHeld {
            lines.append(
                "           not advanced by this run: tables were selected and the connector cannot select them (no selectTables capability), so its state would claim the skipped tables' rows"
            )
        }
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON object.
    public static func json(_ report: SyncReport) -> String {
        let counts = report.counts
        var object: JSONObject = [
            "connector": .string(report.connector),
            "status": .string(report.failure != nil ? "failed" : report.limitedAt != nil ? "limited" : "succeeded"),
            "counts": countsJSON(counts),
            "committedCounts": countsJSON(report.committedCounts),
            "durationSeconds": .number(JSONNumber((report.duration * 1000).rounded() / 1000)),
            "rowsPerSecond": .number(JSONNumber(report.rowsPerSecond.rounded())),
            "protocolBytes": .number(JSONNumber(report.bytesRead)),
        ]
        if let destination = report.destination {
            object["destination"] = .string(destination)
            if report.mirroredState { object["stateFile"] = .string(report.files.state) }
        } else {
            object["warehouse"] = .string(report.files.warehouse)
            object["stateFile"] = .string(report.files.state)
        }
        object["schemaChangeLog"] = .array(report.schemaChanges.map(JSONValue.string))
        if let selected = report.selectedTables {
            object["selectedTables"] = .array(selected.map(JSONValue.string))
            object["skippedOperations"] = .object(
                JSONObject(report.skippedOperations.sorted { $0.key < $1.key }.map { (key: $0.key, value: .number(JSONNumber($0.value))) }))
            object["stateHeld"] = .bool(report.stateHeld)
        }
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
            "fileUploads": .number(JSONNumber(counts.fileUploads)), "warnings": .number(JSONNumber(counts.warnings)),
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
