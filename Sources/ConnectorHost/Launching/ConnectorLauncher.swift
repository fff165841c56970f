import ConnectorProtocol
import Foundation

/// Why a connector could not be prepared or started.
public struct LaunchError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How to start one connector: the result of reading its directory.
public struct LaunchPlan: Sendable, Equatable {
    /// The connector's name (the manifest's, else the directory's).
    public var name: String
    /// The connector directory, absolute.
    public var directory: String
    /// The command, with the executable resolved.
    public var arguments: [String]
    /// A build command to run first (in `directory`), if any.
    public var buildCommand: [String]?
    /// Extra environment variables for the connector.
    public var environment: [String: String]
    /// Variables of the host's environment to pass even though they look secret (the manifest's
    /// `"passEnvironment"`); see ``HostEnvironment``.
    public var passEnvironment: [String] = []
    /// Which kind of connector this is, for messages.
    public var kind: Kind
    /// A short description of the build step for the console, when the command itself is not one.
    public var buildSummary: String? = nil

    public enum Kind: String, Sendable {
        case manifest, python
    }
}

/// Reads a connector directory: a `connector.json` manifest, or a `connector.py` run with the Python SDK.
///
/// The manifest:
/// ```json
/// {"name": "hello", "command": ["../../.build/debug/hello-connector"],
///  "build": ["swift", "build", "--product", "hello-connector", "--package-path", "../.."]}
/// ```
/// `command[0]` is resolved against the directory when it contains a slash, else looked up on
/// PATH. `"swiftProduct": "NAME"` is shorthand for a product of the package around the directory:
/// built with `swift build --product NAME`, started from the package's bin directory (or from
/// `$CONNECTOR_HOST_SWIFT_BIN_PATH` when set, which also skips the build).
public enum ConnectorLauncher {
    /// The manifest's file name.
    public static let manifestName = "connector.json"

    /// Reads `directory` into a launch plan.
    /// - Throws: ``LaunchError`` naming the missing or malformed file and what to put there.
    public static func plan(directory: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(LaunchError)
        -> LaunchPlan
    {
        let directory = absolutePath(directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LaunchError("\(directory) is not a directory; pass the folder that holds the connector")
        }
        let manifestPath = directory + "/" + manifestName
        let directoryName = URL(fileURLWithPath: directory).lastPathComponent
        if FileManager.default.fileExists(atPath: manifestPath) {
            var plan = try manifestPlan(
                manifestPath: manifestPath, directory: directory, defaultName: directoryName, environment: environment)
            plan.passEnvironment = try passedEnvironment(manifestPath: manifestPath)
            return plan
        }
        if FileManager.default.fileExists(atPath: directory + "/connector.py") {
            return try pythonPlan(directory: directory, name: directoryName, environment: environment)
        }
        throw LaunchError(
            "\(directory) has neither \(manifestName) nor connector.py; add a manifest like {\"command\": [\"./my-connector\"]} (see README.md)"
        )
    }

    private static func manifestPlan(manifestPath: String, directory: String, defaultName: String, environment: [String: String])
        throws(LaunchError) -> LaunchPlan
    {
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw LaunchError("cannot read \(manifestPath)")
        }
        let manifest: JSONValue
        do { manifest = try JSONParser.parse(Array(data)) } catch {
            throw LaunchError("\(manifestPath) is not valid JSON: \(error)")
        }
        guard manifest.objectValue != nil else { throw LaunchError("\(manifestPath) must hold a JSON object") }
        let name = manifest["name"]?.stringValue ?? defaultName
        var extraEnvironment: [String: String] = [:]
        for (key, value) in manifest["environment"]?.objectValue ?? [:] {
            guard let text = value.stringValue else { throw LaunchError("\(manifestPath): environment.\(key) must be a string") }
            extraEnvironment[key] = text
        }
        if let product = manifest["swiftProduct"]?.stringValue {
            let packagePath = absolutePath(manifest["package"]?.stringValue ?? "../..", relativeTo: directory)
            if let binPath = environment["CONNECTOR_HOST_SWIFT_BIN_PATH"], !binPath.isEmpty {
                return LaunchPlan(
                    name: name, directory: directory, arguments: [binPath + "/" + product], buildCommand: nil,
                    environment: extraEnvironment, kind: .manifest)
            }
            let configuration = manifest["swiftConfiguration"]?.stringValue ?? "debug"
            return LaunchPlan(
                name: name, directory: directory,
                arguments: [packagePath + "/.build/\(configuration)/" + product],
                buildCommand: ["swift", "build", "--package-path", packagePath, "--product", product, "-c", configuration],
                environment: extraEnvironment, kind: .manifest)
        }
        guard let command = manifest["command"]?.arrayValue?.compactMap(\.stringValue), !command.isEmpty,
            command.count == manifest["command"]?.arrayValue?.count
        else {
            throw LaunchError("\(manifestPath) needs \"command\": an array of strings, e.g. [\"./my-connector\", \"--flag\"]")
        }
        var arguments = command
        if arguments[0].contains("/") { arguments[0] = absolutePath(arguments[0], relativeTo: directory) }
        var build: [String]?
        if let buildValue = manifest["build"] {
            guard let buildCommand = buildValue.arrayValue?.compactMap(\.stringValue), !buildCommand.isEmpty else {
                throw LaunchError("\(manifestPath): \"build\" must be an array of strings")
            }
            build = buildCommand
        }
        return LaunchPlan(
            name: name, directory: directory, arguments: arguments, buildCommand: build, environment: extraEnvironment, kind: .manifest)
    }

    /// The manifest's `"passEnvironment"`: names of host variables the connector needs although they look secret.
    private static func passedEnvironment(manifestPath: String) throws(LaunchError) -> [String] {
        guard let data = FileManager.default.contents(atPath: manifestPath), let manifest = try? JSONParser.parse(Array(data)),
            let value = manifest["passEnvironment"]
        else { return [] }
        guard let names = value.arrayValue?.compactMap(\.stringValue), names.count == value.arrayValue?.count else {
            throw LaunchError("\(manifestPath): \"passEnvironment\" must be an array of variable names, e.g. [\"GITHUB_TOKEN\"]")
        }
        return names
    }

    private static func pythonPlan(directory: String, name: String, environment: [String: String]) throws(LaunchError) -> LaunchPlan {
        guard let sdkPath = pythonSDKPath(startingAt: directory, environment: environment) else {
            throw LaunchError(
                "\(directory)/connector.py needs the Python SDK, which was not found; set CONNECTOR_HOST_PYTHON_SDK to the sdks/python folder of connector-host"
            )
        }
        var extraEnvironment = ["PYTHONPATH": sdkPath, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"]
        if let existing = environment["PYTHONPATH"], !existing.isEmpty { extraEnvironment["PYTHONPATH"] = sdkPath + ":" + existing }
        let python = PythonEnvironment.interpreter(for: directory, environment: environment)
        return LaunchPlan(
            name: name, directory: directory,
            arguments: [python, "-m", "connector_host_sdk.run", directory + "/connector.py"],
            buildCommand: PythonEnvironment.setupCommand(for: directory, environment: environment),
            environment: extraEnvironment, kind: .python,
            buildSummary: "pip install -r requirements.txt into files/venv (only when requirements.txt changed)")
    }

    /// Finds `sdks/python` via `$CONNECTOR_HOST_PYTHON_SDK`, then upwards from the connector and from the host executable.
    static func pythonSDKPath(startingAt directory: String, environment: [String: String]) -> String? {
        if let explicit = environment["CONNECTOR_HOST_PYTHON_SDK"], !explicit.isEmpty { return absolutePath(explicit) }
        return SourceCheckout.folder(containing: "sdks/python/connector_host_sdk", startingAt: SourceCheckout.starts(from: directory))
            .map { $0 + "/sdks/python" }
    }

    /// Runs the plan's build step, with its output sent to `log` (never to the protocol stream).
    /// - Parameter cancellation: stops the build (SIGTERM to its process group) when cancelled; the
    ///   build runs in a process group of its own, so the terminal's Ctrl-C does not reach it.
    /// - Throws: ``LaunchError`` with the build's last lines when it fails or is cancelled.
    public static func build(_ plan: LaunchPlan, cancellation: CancellationSignal? = nil, log: @escaping @Sendable (String) -> Void)
        throws(LaunchError)
    {
        guard let command = plan.buildCommand else { return }
        let process: ChildProcess
        do {
            process = try ChildProcess(
                arguments: command, directory: plan.directory,
                environment: HostEnvironment.forChild(extra: [:], passing: Set(plan.passEnvironment)))
        } catch { throw LaunchError("cannot run the build step \(command.joined(separator: " ")): \(error)") }
        process.closeInput()
        let errors = StderrCollector(fileDescriptor: process.errorOutput, tailLimit: 30, sink: log)
        let output = StderrCollector(fileDescriptor: process.output, tailLimit: 30, sink: log)
        while !(errors.isFinished && output.isFinished) {
            if cancellation?.isCancelled == true {
                process.terminate(grace: 1)
                throw LaunchError("the build step `\(command.joined(separator: " "))` was cancelled")
            }
            usleep(20_000)
        }
        let status = process.wait()
        guard status == .exited(0) else {
            let tail = (output.lastLines + errors.lastLines).suffix(15).map { "    " + $0 }.joined(separator: "\n")
            throw LaunchError(
                "the build step `\(command.joined(separator: " "))` \(status); its last lines:\n\(tail)\nFix the build, or pass --no-build to run the existing executable"
            )
        }
    }

    static func absolutePath(_ path: String, relativeTo base: String? = nil) -> String {
        let start = path.hasPrefix("/") ? path : (base ?? FileManager.default.currentDirectoryPath) + "/" + path
        return URL(fileURLWithPath: start).standardizedFileURL.path
    }
}

/// The environment a connector (and its build step) gets.
///
/// Connectors are programs the user chose to run, like a build tool: they get the user's
/// environment (PATH, HOME, locale, proxies, SDK paths) — except variables that look like secrets,
/// which a connector has no business reading: names that look secret by the rules of
/// ``Redaction/looksSecret(_:)`` (`GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `PGPASSWORD`,
/// `SSH_AUTH_SOCK`, ...) and values that carry a password in a URL (`postgres://user:pass@host`).
/// A connector that needs one names it in its manifest's `"passEnvironment"` (or the user passes
/// `--pass-env NAME`). The configuration, secrets included, reaches a connector through the
/// protocol only.
public enum HostEnvironment {
    /// The host's environment without withheld variables (unless named in `passing`), plus `extra`,
    /// as sorted `NAME=value` strings.
    public static func forChild(
        extra: [String: String], passing: Set<String> = [], from host: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        var environment = host.filter { passing.contains($0.key) || !isWithheld(name: $0.key, value: $0.value) }
        for (key, value) in extra { environment[key] = value }
        return environment.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Whether a host variable is kept from connectors by default.
    public static func isWithheld(name: String, value: String) -> Bool {
        Redaction.looksSecret(name) || hasCredentialsInURL(value)
    }

    /// Whether `value` holds a URL with a password: `scheme://user:password@host...`.
    static func hasCredentialsInURL(_ value: String) -> Bool {
        guard let scheme = value.range(of: "://") else { return false }
        let authority = value[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return false }
        return authority[..<at].contains(":")
    }
}

/// Per-connector Python virtual environments for connectors with a `requirements.txt`.
enum PythonEnvironment {
    /// The interpreter: the connector's virtual environment when it has requirements, else `python3`.
    static func interpreter(for directory: String, environment: [String: String]) -> String {
        if needsVirtualEnvironment(directory) { return directory + "/files/venv/bin/python" }
        return environment["CONNECTOR_HOST_PYTHON"] ?? "python3"
    }

    /// A command that creates the virtual environment and installs the requirements, when needed
    /// (again only when requirements.txt changes). `fivetran_connector_sdk` lines are dropped: this
    /// SDK provides that package, and the real one would pull in gRPC for nothing.
    static func setupCommand(for directory: String, environment: [String: String]) -> [String]? {
        guard needsVirtualEnvironment(directory) else { return nil }
        let python = environment["CONNECTOR_HOST_PYTHON"] ?? "python3"
        let script = """
            set -e
            if [ ! -x files/venv/bin/python ]; then mkdir -p files && \(python) -m venv files/venv; fi
            if [ ! -f files/venv/.requirements.installed ] || ! cmp -s requirements.txt files/venv/.requirements.installed; then
              grep -v -i -E '^[[:space:]]*fivetran[-_]connector[-_]sdk' requirements.txt > files/venv/.requirements.filtered || true
              files/venv/bin/python -m pip install --disable-pip-version-check -q -r files/venv/.requirements.filtered
              cp requirements.txt files/venv/.requirements.installed
            fi
            """
        return ["/bin/sh", "-c", script]
    }

    private static func needsVirtualEnvironment(_ directory: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: directory + "/requirements.txt") else { return false }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").contains {
            let line = $0.trimmingCharacters(in: .whitespaces)
            return !line.isEmpty && !line.hasPrefix("#") && !line.hasPrefix("fivetran_connector_sdk")
                && !line.hasPrefix("fivetran-connector-sdk")
        }
    }
}
