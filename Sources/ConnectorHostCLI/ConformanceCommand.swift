import ConnectorHost
import Foundation

extension CommandLineInterface {
    static var conformanceSubcommand: Subcommand {
        let width = ConformanceCheck.allCases.map(\.rawValue.count).max() ?? 0
        let checks = ConformanceCheck.allCases.map {
            "  " + $0.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.requirement
        }
        return Subcommand(
            name: "conformance", synopsis: "conformance DIR [options]",
            summary: "Check a connector (any language) against the protocol; one PASS/FAIL line per check.",
            details: """
                Starts the connector in DIR several times (six short sessions) and checks what PROTOCOL.md
                requires, including cases a normal run never shows: a request before initialize, an unknown
                protocol version, method and notification, a refused checkpoint, and EOF on stdin while idle
                and while a checkpoint waits for its answer. Operations go to a temporary warehouse that is
                deleted afterwards: DIR's own warehouse and state are never touched. The update runs twice (the
                second from the first's last checkpointed state), with DIR/configuration.json or --configuration.
                Exit status 0 only if every check passes. The checks (PROTOCOL.md section 16):
                \(checks.joined(separator: "\n"))
                """,
            options: [
                OptionSpec(
                    name: "configuration", valueName: "FILE", help: "configuration JSON object (default: DIR/configuration.json if present)"
                ),
                OptionSpec(name: "no-build", valueName: nil, help: "skip the manifest's build step and run the existing executable"),
                OptionSpec(name: "timeout", valueName: "SECONDS", help: "longest wait for any one answer or message (default 30)"),
                OptionSpec(name: "grace", valueName: "SECONDS", help: "how soon the connector must exit after stdin EOF (default 5)"),
                OptionSpec(name: "json", valueName: nil, help: "print the report as one JSON object"),
                OptionSpec(name: "verbose", valueName: nil, help: "show build output and the connector's stderr"),
                OptionSpec(name: "transcripts", valueName: "DIR", help: "write each session's messages to DIR/<session>.transcript.jsonl"),
            ],
            run: conformanceCommand)
    }

    static func conformanceCommand(_ arguments: ParsedArguments) throws -> Int32 {
        var options = ConformanceOptions(
            directory: try directoryArgument(arguments, command: "conformance"), configurationPath: arguments.values["configuration"])
        options.build = !arguments.flags.contains("no-build")
        if let value = try arguments.double("timeout") { options.timeout = value }
        if let value = try arguments.double("grace") { options.grace = value }
        options.transcriptDirectory = arguments.values["transcripts"].map { FilePaths.absolute($0) }
        let verbose = arguments.flags.contains("verbose")
        let report = ConformanceSuite.run(options) { line in if verbose { writeError(line) } }
        print(arguments.flags.contains("json") ? ConformanceReportFormatter.json(report) : ConformanceReportFormatter.text(report))
        return report.passed ? 0 : 1
    }
}
