import ConnectorHost
import ConnectorProtocol

/// `connector-host test [DIR]`: run a connector's setup tests.
struct TestOptions: ParsableArguments {
    var directory: String?
    var connector = ConnectorOptions()
    var timeout: Double?
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "DIR", \.directory, noun: "the connector directory", example: "connectors/hello",
                help: "the connector directory (default: the current one)"),
            .lifted(ConnectorOptions.configuration, into: \.connector),
            .lifted(ConnectorOptions.noBuild, into: \.connector),
            .option("timeout", "SECONDS", \.timeout, .seconds, help: "limit for each answer, the tests included (default 60)"),
            .flag("json", \.json, help: "print the results as one JSON object"),
        ]
    }

    var controlOptions: ControlOptions {
        var options = ControlOptions(directory: directory ?? ".", configurationPath: connector.configuration)
        options.build = !connector.noBuild
        if let timeout { options.timeout = timeout }
        return options
    }
}

extension CommandLineInterface {
    static var testCommand: Command<TestOptions> {
        Command(
            name: "test", summary: "Run a connector's setup tests (Fivetran's configuration --test).",
            details: """
                Starts the connector, sends initialize and, when it announces capabilities.test, the test
                request with the configuration (DIR/configuration.json or --configuration), and prints one
                PASS or FAIL line per setup test with its message. Exit status 0 when every test passes (or
                the connector has none), 1 when one fails or the tests could not run. Nothing is written.
                An Airbyte source behind the adapter runs its check; a Singer tap, its discovery.
                """,
            synopsis: "[DIR] [options]"
        ) { options in
            let console = TerminalConsole(minimumLevel: .info, quiet: options.json)
            let cancellation = CancellationSignal()
            let interrupt = InterruptHandler(cancelling: cancellation)
            let report = withExtendedLifetime(interrupt) {
                SetupTestRunner.run(options.controlOptions, console: console, cancellation: cancellation)
            }
            // A mistake of the command line (no such folder, no connector in it, an unreadable
            // configuration) is a usage error without a report, as for run and conformance.
            if let failure = report.failure, failure.isUsageError { throw UsageError(failure.message) }
            print(options.json ? SetupTestReportFormatter.json(report) : SetupTestReportFormatter.text(report))
            if let failure = report.failure {
                writeError("error: \(failure.message)")
                return failure.exitCode
            }
            return report.passed ? 0 : 1
        }
    }
}

/// How `connector-host test` prints its report.
enum SetupTestReportFormatter {
    static func text(_ report: SetupTestReport) -> String {
        if report.failure != nil { return "connector-host test: \(report.connector): the setup tests could not run" }
        guard report.hasTests, let result = report.result else {
            return "connector-host test: \(report.connector) has no setup tests (its initialize result does not announce capabilities.test)"
        }
        var lines = ["connector-host test: \(report.connector)"]
        let tests =
            result.tests.isEmpty ? [TestResult.SetupTest(label: "setup test", ok: result.ok, message: result.message)] : result.tests
        let width = tests.map(\.label.count).max() ?? 0
        for test in tests {
            let label = test.label.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(test.ok ? "PASS" : "FAIL")  \(label)  \(test.message)".trimmingTrailingSpaces)
        }
        let passed = tests.filter(\.ok).count
        lines.append("\(passed) passed, \(tests.count - passed) failed")
        if !result.tests.isEmpty, !result.message.isEmpty { lines.append(result.message) }
        return lines.joined(separator: "\n")
    }

    static func json(_ report: SetupTestReport) -> String {
        var object: JSONObject = [
            "connector": .string(report.connector), "hasTests": .bool(report.hasTests), "passed": .bool(report.passed),
        ]
        if let result = report.result { object["result"] = result.json }
        if let failure = report.failure { object["error"] = ["kind": .string(failure.kind.rawValue), "message": .string(failure.message)] }
        return JSONWriter.string(.object(object))
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
}
