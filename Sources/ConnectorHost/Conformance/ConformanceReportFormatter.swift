import ConnectorProtocol

/// Renders a conformance report for people (one line per check) and machines (one JSON object).
public enum ConformanceReportFormatter {
    /// One `PASS`/`FAIL`/`SKIP` line per check with its reason, then a summary line.
    public static func text(_ report: ConformanceReport) -> String {
        var lines = ["conformance: \(report.connector) (\(report.directory)), protocol \(ProtocolVersion.current)"]
        if let failure = report.launchFailure {
            lines.append("error: the connector could not be checked: \(failure)")
            return lines.joined(separator: "\n")
        }
        let width = report.results.map(\.check.rawValue.count).max() ?? 0
        for result in report.results {
            let label =
                switch result.status {
                case .passed: "PASS"
                case .failed: "FAIL"
                case .skipped: "SKIP"
                }
            lines.append(
                "  \(label)  " + result.check.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + result.reason)
        }
        lines.append(summary(report))
        return lines.joined(separator: "\n")
    }

    /// `14 passed, 0 failed, 0 skipped: conforms to protocol 1`.
    static func summary(_ report: ConformanceReport) -> String {
        let count = { (status: ConformanceResult.Status) in report.results.filter { $0.status == status }.count }
        return "\(count(.passed)) passed, \(count(.failed)) failed, \(count(.skipped)) skipped: "
            + (report.passed ? "conforms to protocol \(ProtocolVersion.current)" : "does not conform")
    }

    /// The report as one JSON object: `{"connector", "directory", "passed", "checks": [{"check", "status", "reason"}], "error"?}`.
    public static func json(_ report: ConformanceReport) -> String {
        var object: JSONObject = [
            "connector": .string(report.connector), "directory": .string(report.directory),
            "protocolVersion": .number(JSONNumber(ProtocolVersion.current)),
            "passed": .bool(report.passed),
        ]
        object["checks"] = .array(
            report.results.map {
                ["check": .string($0.check.rawValue), "status": .string($0.status.rawValue), "reason": .string($0.reason)]
            })
        if let failure = report.launchFailure { object["error"] = .string(failure) }
        return JSONWriter.string(.object(object))
    }
}
