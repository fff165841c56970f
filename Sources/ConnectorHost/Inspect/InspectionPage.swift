import ConnectorProtocol
import Foundation

/// `inspect --html FILE`: the inspection as one self-contained HTML page (no network, no script):
/// the tables with their columns, types and row counts, the state, and two SVG charts of the sync
/// history (rows and duration per sync, failures marked), for people who would rather look than read.
public enum InspectionPage {
    public static func html(_ inspection: Inspection) -> String {
        var body: [String] = []
        body.append("<h1>connector-host warehouse</h1>")
        body.append("<p class=\"path\">\(escape(inspection.warehouse))</p>")
        body.append("<h2>Tables</h2>")
        if inspection.tables.isEmpty { body.append("<p>none yet</p>") }
        for table in inspection.tables {
            let key =
                table.primaryKey.isEmpty
                ? "no primary key (rows keyed by a hash)" : "primary key (\(table.primaryKey.joined(separator: ", ")))"
            body.append(
                "<section class=\"table\" id=\"table-\(escape(table.name))\"><h3>\(escape(table.name))</h3><p><span class=\"live\">\(table.liveRows)</span> live rows, <span class=\"deleted\">\(table.deletedRows)</span> deleted; \(escape(key))</p>"
            )
            body.append("<table><thead><tr><th>column</th><th>type</th><th>origin</th></tr></thead><tbody>")
            for column in table.columns {
                let origin = (column.declared ? "declared" : "inferred") + (column.isPrimaryKey ? ", primary key" : "")
                body.append(
                    "<tr><td>\(escape(column.name))</td><td>\(escape(column.type.map { "\($0)" } ?? "(no type yet)"))</td><td>\(origin)</td></tr>"
                )
            }
            body.append("</tbody></table></section>")
        }
        body.append("<h2>State</h2>")
        if let state = inspection.state {
            body.append(
                "<pre id=\"state\">\(escape(state.stringValue ?? JSONWriter.string(state)))</pre>"
                    + (inspection.stateUpdatedAt.map { "<p>checkpointed \(escape($0))</p>" } ?? ""))
        } else {
            body.append("<p id=\"state\">none yet (no checkpoint)</p>")
        }
        body.append("<h2>Sync history</h2>")
        let syncs = Array(inspection.syncs.reversed())  // oldest first, left to right
        if syncs.isEmpty {
            body.append("<p>no syncs yet</p>")
        } else {
            body.append(chart(id: "chart-rows", title: "rows per sync", syncs: syncs) { Double($0.counts.rowOperations) })
            body.append(chart(id: "chart-duration", title: "seconds per sync", syncs: syncs) { $0.durationSeconds ?? 0 })
            body.append(
                "<table id=\"syncs\"><thead><tr><th>#</th><th>started</th><th>status</th><th>rows</th><th>seconds</th><th>error</th></tr></thead><tbody>"
            )
            for sync in syncs.reversed() {
                let error = sync.error.flatMap { $0.split(separator: "\n").first.map(String.init) } ?? ""
                body.append(
                    "<tr class=\"\(sync.status == "succeeded" || sync.status == "limited" ? "ok" : "failed")\"><td>\(sync.id)</td><td>\(escape(sync.startedAt))</td><td>\(escape(sync.status))</td><td>\(sync.counts.rowOperations)</td><td>\(sync.durationSeconds.map { String(format: "%.2f", $0) } ?? "-")</td><td>\(escape(error))</td></tr>"
                )
            }
            body.append("</tbody></table>")
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>connector-host: \(escape(inspection.warehouse))</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
            .path{color:#666}.failed td{background:#fde8e8}svg{border:1px solid #ddd;margin:.5em 1em .5em 0}
            .bar{fill:#3b7dd8}.bar.failed{fill:#d83b3b}pre{background:#f5f5f5;padding:.5em}
            </style></head><body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    /// A bar chart, one bar per sync (failed syncs red, with their status in the bar's title).
    private static func chart(id: String, title: String, syncs: [Inspection.Sync], value: (Inspection.Sync) -> Double) -> String {
        let width = 480.0
        let height = 160.0
        let values = syncs.map(value)
        let top = max(values.max() ?? 0, 1)
        let slot = width / Double(max(syncs.count, 1))
        var bars: [String] = []
        for (index, sync) in syncs.enumerated() {
            let barHeight = max(values[index] / top * (height - 20), values[index] > 0 ? 1 : 0)
            let failed = sync.status != "succeeded" && sync.status != "limited"
            let x = String(format: "%.1f", Double(index) * slot + 1)
            let y = String(format: "%.1f", height - barHeight)
            let w = String(format: "%.1f", max(slot - 2, 1))
            let h = String(format: "%.1f", barHeight)
            bars.append(
                "<rect class=\"bar\(failed ? " failed" : "")\" x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\"><title>sync \(sync.id), \(escape(sync.status)): \(formatted(values[index]))</title></rect>"
            )
        }
        return
            "<figure><figcaption>\(title) (max \(formatted(top)))</figcaption><svg id=\"\(id)\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(title)\">\(bars.joined())</svg></figure>"
    }

    private static func formatted(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    /// Text for HTML: `&`, `<`, `>`, quotes escaped, control characters shown as escapes.
    static func escape(_ text: String) -> String {
        var result = ""
        for character in HumanText.escapingControls(text) {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
