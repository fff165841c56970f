import ConnectorHost
import Foundation

/// `connector-host conformance DIR`: check a connector against the protocol.
struct ConformanceCommandOptions: ParsableArguments {
    var directory = "."
    var connector = ConnectorOptions()
    var timeout: Double?
    var grace: Double?
    var json = false
    var verbose = false
    var transcripts: String?
    var resumption = false

    static var arguments: [Argument<Self>] {
        [.directory(\.directory)] + .group(\.connector) + [
            .option("timeout", "SECONDS", \.timeout, .seconds, help: "longest wait for any one answer or message (default 30)"),
            .option("grace", "SECONDS", \.grace, .seconds, help: "how soon the connector must exit after stdin EOF (default 5)"),
            .flag("json", \.json, help: "print the report as one JSON object"),
            .flag("verbose", \.verbose, help: "show build output and the connector's stderr"),
            .option(
                "transcripts", "DIR", \.transcripts, .text, help: "write each session's messages to DIR/<session>.transcript.jsonl"),
            .flag(
                "resumption", \.resumption,
                help:
                    "also sync once uninterrupted and once stopped after each checkpoint and resumed, into temporary warehouses, and compare their rows"
            ),
        ]
    }

    /// The library's options for this command line.
    var conformanceOptions: ConformanceOptions {
        var options = ConformanceOptions(directory: directory, configurationPath: connector.configuration)
        options.build = !connector.noBuild
        if let timeout { options.timeout = timeout }
        if let grace { options.grace = grace }
        options.transcriptDirectory = transcripts.map { FilePaths.absolute($0) }
        options.resumption = resumption
        return options
    }
}

extension CommandLineInterface {
    static var conformanceCommand: Command<ConformanceCommandOptions> {
        let width = ConformanceCheck.allCases.map(\.rawValue.count).max() ?? 0
        let checks = ConformanceCheck.allCases.map {
            "  " + $0.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.requirement
        }
        return Command(
            name: "conformance", summary: "Check a connector (any language) against the protocol; one PASS/FAIL line per check.",
            details: """
                Starts the connector in DIR several times (six short sessions) and checks what PROTOCOL.md
                requires, including cases a normal run never shows: a request before initialize, an unknown
                protocol version, method and notification, a refused checkpoint, and EOF on stdin while idle
                and while a checkpoint waits for its answer. Operations go to a temporary warehouse that is
                deleted afterwards: DIR's own warehouse and state are never touched. The update runs twice (the
                second from the first's last checkpointed state), with DIR/configuration.json or --configuration.
                With --resumption it also syncs the connector twice into temporary warehouses: once
                uninterrupted, once from empty stopped right after each checkpoint and resumed from the stored
                state until it finishes; the two must hold the same rows.
                Exit status 0 only if every check passes. The checks (PROTOCOL.md section 16):
                \(checks.joined(separator: "\n"))
                """
        ) { options in
            let verbose = options.verbose
            let report = ConformanceSuite.run(options.conformanceOptions) { line in if verbose { writeError(line) } }
            if let failure = report.launchFailure, report.launchFailureIsUsageError {
                throw UsageError(failure)
            }
            print(options.json ? ConformanceReportFormatter.json(report) : ConformanceReportFormatter.text(report))
            return report.passed ? 0 : 1
        }
    }
}
