import ConnectorProtocol
import Foundation

/// What `connector-host test` and `connector-host configuration` need to start a connector for one
/// request.
public struct ControlOptions: Sendable {
    /// The connector directory.
    public var directory: String
    /// The configuration file; default `DIR/configuration.json` when it exists.
    public var configurationPath: String?
    /// Whether to run the connector's build step first.
    public var build = true
    /// Seconds allowed for each answer (a setup test may call the source).
    public var timeout: Double = 60
    /// Seconds between closing stdin, SIGTERM and SIGKILL when stopping the connector.
    public var gracePeriod: Double = 5
    /// Host environment variables to pass to the connector although they look secret (`--pass-env`).
    public var passEnvironment: [String] = []

    public init(directory: String, configurationPath: String? = nil) {
        self.directory = FilePaths.absolute(directory)
        self.configurationPath = configurationPath
    }
}

/// The outcome of `connector-host test`.
public struct SetupTestReport: Sendable {
    public var connector: String
    /// Whether the connector announces setup tests (`capabilities.test`).
    public var hasTests = false
    /// The connector's answer (masked), when it gave one.
    public var result: TestResult?
    /// Why the tests could not run, or `nil`.
    public var failure: SyncFailure?

    /// Whether the command succeeds: the tests ran and passed, or the connector has none.
    public var passed: Bool { failure == nil && (!hasTests || result?.ok == true) }
}

/// Runs a connector's setup tests: `initialize`, `test` (when `capabilities.test` is true), `shutdown`.
public enum SetupTestRunner {
    /// Runs the tests and reports; never throws: every failure is in the report.
    public static func run(_ options: ControlOptions, console: any SyncConsole, cancellation: CancellationSignal = CancellationSignal())
        -> SetupTestReport
    {
        var report = SetupTestReport(connector: URL(fileURLWithPath: options.directory).lastPathComponent)
        // Masks the configuration's secrets once it is read, and the connector's secretKeys once it
        // has answered initialize.
        let secretMask = SecretMask()
        do throws(SyncFailure) {
            let start = try ControlStart.prepare(options, secretMask: secretMask, console: console, cancellation: cancellation)
            report.connector = start.plan.name
            let session = try ControlSession(
                plan: start.plan, console: start.console, secretMask: secretMask, timeout: options.timeout, grace: options.gracePeriod,
                cancellation: cancellation)
            defer { session.finish() }
            let initialized = try session.initialize(configuration: start.configuration)
            guard initialized.capabilities["test"]?.boolValue == true else { return report }
            report.hasTests = true
            report.result = masked(try session.call(TestRequest(configuration: start.configuration)), by: secretMask.redactor)
        } catch {
            report.failure = error.shown(by: secretMask.redactor)
        }
        return report
    }

    /// The result with every text the connector wrote masked, cut and escaped for the terminal.
    static func masked(_ result: TestResult, by redactor: Redactor) -> TestResult {
        TestResult(
            ok: result.ok, message: redactor.show(result.message, limit: 2000),
            tests: result.tests.map {
                TestResult.SetupTest(label: redactor.show($0.label, limit: 200), ok: $0.ok, message: redactor.show($0.message, limit: 2000))
            })
    }
}

extension ConfigurationFormResult {
    /// Asks the connector in `options.directory` for its form: `initialize`, `configurationForm`
    /// (when `capabilities.configurationForm` is true), `shutdown`.
    /// - Returns: the form, or `nil` when the connector has none.
    /// - Throws: ``SyncFailure`` when the connector cannot be started or answers wrongly.
    public static func fetch(_ options: ControlOptions, console: any SyncConsole, cancellation: CancellationSignal = CancellationSignal())
        throws(SyncFailure) -> ConfigurationFormResult?
    {
        let secretMask = SecretMask()
        let start = try ControlStart.prepare(options, secretMask: secretMask, console: console, cancellation: cancellation)
        do throws(SyncFailure) {
            let session = try ControlSession(
                plan: start.plan, console: start.console, secretMask: secretMask, timeout: options.timeout,
                grace: options.gracePeriod, cancellation: cancellation)
            defer { session.finish() }
            let initialized = try session.initialize(configuration: start.configuration)
            guard initialized.declares(Capability.configurationForm) else { return nil }
            return try session.call(ConfigurationFormRequest())
        } catch {
            throw error.shown(by: secretMask.redactor)
        }
    }
}

/// The steps before a control session: the launch plan, the configuration, the build step.
enum ControlStart {
    struct Prepared {
        var plan: LaunchPlan
        var configuration: JSONObject
        /// The caller's console behind a ``MaskingConsole`` of the secret mask.
        var console: any SyncConsole
    }

    /// - Parameter secretMask: set to mask the configuration's secrets once it is read.
    static func prepare(_ options: ControlOptions, secretMask: SecretMask, console: any SyncConsole, cancellation: CancellationSignal)
        throws(SyncFailure) -> Prepared
    {
        var plan: LaunchPlan
        do { plan = try ConnectorLauncher.plan(directory: options.directory) } catch {
            throw SyncFailure(.launch, error.message, isUsageError: error.isUsageError)
        }
        plan.passEnvironment += options.passEnvironment
        let configuration = try SyncRunner.loadConfiguration(
            SyncOptions(directory: options.directory, configurationPath: options.configurationPath))
        secretMask.use(configuration: configuration)
        let console = MaskingConsole(base: console, secretMask: secretMask)
        if options.build, let command = plan.buildCommand {
            console.note("building \(plan.name): \(plan.buildSummary ?? command.joined(separator: " "))")
            do { try ConnectorLauncher.build(plan, cancellation: cancellation, log: { console.note("  " + $0) }) } catch {
                if let reason = cancellation.reason {
                    throw SyncFailure(
                        .cancelled, "cancelled (\(reason.label)) during the build step; the connector did not run", cancellation: reason)
                }
                throw SyncFailure(.launch, error.message)
            }
        }
        return Prepared(plan: plan, configuration: configuration, console: console)
    }
}
