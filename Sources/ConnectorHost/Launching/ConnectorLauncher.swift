import ConnectorProtocol
import Foundation

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
        let directory = FilePaths.absolute(directory)
        try checkIsDirectory(directory)
        let manifestPath = directory + "/" + manifestName
        let directoryName = URL(fileURLWithPath: directory).lastPathComponent
        if FileManager.default.fileExists(atPath: manifestPath) {
            var plan = try manifestPlan(
                manifestPath: manifestPath, directory: directory, defaultName: directoryName, environment: environment)
            plan.passEnvironment = try passedEnvironment(manifestPath: manifestPath)
            (plan.destination, plan.destinationSchema) = try manifestDestination(manifestPath: manifestPath)
            return plan
        }
        if FileManager.default.fileExists(atPath: directory + "/connector.py") {
            return try pythonPlan(directory: directory, name: directoryName, environment: environment)
        }
        throw LaunchError(
            "\(directory) has neither \(manifestName) nor connector.py, so it is not a connector's folder: name the folder that holds the connector (DIR defaults to the current folder), or add a manifest like {\"command\": [\"./my-connector\"]} (see README.md)",
            isUsageError: true)
    }

    /// Checks that the connector folder exists and is a folder: a usage error otherwise.
    static func checkIsDirectory(_ directory: String) throws(LaunchError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw LaunchError("the folder \(directory) does not exist; pass the folder that holds the connector", isUsageError: true)
        }
        guard isDirectory.boolValue else {
            throw LaunchError("\(directory) is not a directory; pass the folder that holds the connector", isUsageError: true)
        }
    }

    private static func manifestPlan(manifestPath: String, directory: String, defaultName: String, environment: [String: String])
        throws(LaunchError) -> LaunchPlan
    {
        let manifest = try readManifest(manifestPath)
        let name = try manifestName(manifest, manifestPath: manifestPath) ?? defaultName
        var extraEnvironment: [String: String] = [:]
        for (key, value) in manifest["environment"]?.objectValue ?? [:] {
            guard let text = value.stringValue else {
                throw LaunchError("\(manifestPath): environment.\(HumanText.quoted(key)) must be a string")
            }
            guard !key.isEmpty, !key.contains("="), !key.utf8.contains(0), !text.utf8.contains(0) else {
                throw LaunchError(
                    "\(manifestPath): environment.\(HumanText.quoted(key)) is not a valid variable: names are non-empty, without \"=\" or NUL, and values have no NUL"
                )
            }
            extraEnvironment[key] = text
        }
        if let product = manifest["swiftProduct"]?.stringValue {
            let packagePath = FilePaths.absolute(manifest["package"]?.stringValue ?? "../..", relativeTo: directory)
            if let binPath = environment["CONNECTOR_HOST_SWIFT_BIN_PATH"], !binPath.isEmpty {
                return LaunchPlan(
                    name: name, directory: directory, arguments: [binPath + "/" + product], buildCommand: nil,
                    environment: extraEnvironment, kind: .manifest)
            }
            let configuration = manifest["swiftConfiguration"]?.stringValue ?? "debug"
            let executable = packagePath + "/.build/\(configuration)/" + product
            return LaunchPlan(
                name: name, directory: directory, arguments: [executable],
                buildCommand: ["swift", "build", "--package-path", packagePath, "--product", product, "-c", configuration],
                environment: extraEnvironment, kind: .manifest, buildArtifact: executable)
        }
        guard let command = manifest["command"]?.arrayValue?.compactMap(\.stringValue), !command.isEmpty,
            command.count == manifest["command"]?.arrayValue?.count
        else {
            throw LaunchError("\(manifestPath) needs \"command\": an array of strings, e.g. [\"./my-connector\", \"--flag\"]")
        }
        guard !command.contains(where: { $0.utf8.contains(0) }) else {
            throw LaunchError("\(manifestPath): \"command\" has an argument with a NUL character, which no program can receive")
        }
        var arguments = command
        if arguments[0].contains("/") { arguments[0] = FilePaths.absolute(arguments[0], relativeTo: directory) }
        var build: [String]?
        if let buildValue = manifest["build"] {
            guard let buildCommand = buildValue.arrayValue?.compactMap(\.stringValue), !buildCommand.isEmpty,
                buildCommand.count == buildValue.arrayValue?.count, !buildCommand.contains(where: { $0.utf8.contains(0) })
            else {
                throw LaunchError("\(manifestPath): \"build\" must be an array of strings")
            }
            build = buildCommand
        }
        if let adapter = manifest["adapter"] {
            return try adapterPlan(
                adapter, manifest: manifest, manifestPath: manifestPath, command: arguments, build: build,
                plan: LaunchPlan(
                    name: name, directory: directory, arguments: [], buildCommand: nil, environment: extraEnvironment, kind: .adapter),
                environment: environment)
        }
        return LaunchPlan(
            name: name, directory: directory, arguments: arguments, buildCommand: build, environment: extraEnvironment, kind: .manifest,
            buildArtifact: arguments[0].hasPrefix("/") ? arguments[0] : nil)
    }

    /// The manifest's JSON object, read without following it into a pipe or device and at most 1 MiB.
    private static func readManifest(_ manifestPath: String) throws(LaunchError) -> JSONValue {
        let bytes: [UInt8]?
        do { bytes = try SafeFile.read(manifestPath, limit: 1 << 20) } catch {
            throw LaunchError("\(manifestPath) \(error.description); a manifest is a small JSON file")
        }
        guard let bytes else { throw LaunchError("cannot read \(manifestPath)") }
        let manifest: JSONValue
        do { manifest = try JSONParser.parse(bytes) } catch {
            throw LaunchError("\(manifestPath) is not valid JSON: \(error)")
        }
        guard manifest.objectValue != nil else { throw LaunchError("\(manifestPath) must hold a JSON object") }
        return manifest
    }

    /// The manifest's `"name"`, if any: it is shown in front of every log line and stored in the history,
    /// so it must be a short line of text.
    /// The manifest's `"destination"` (a `postgresql://` URI) and `"schema"`, when it has them.
    private static func manifestDestination(manifestPath: String) throws(LaunchError) -> (String?, String?) {
        let manifest = try readManifest(manifestPath)
        var result: (String?, String?) = (nil, nil)
        if let value = manifest["destination"] {
            guard let uri = value.stringValue, PostgresAddress.isPostgresURI(uri) else {
                throw LaunchError(
                    "\(manifestPath): \"destination\" must be a string starting with postgresql:// (the SQLite warehouse needs no destination)"
                )
            }
            result.0 = uri
        }
        if let value = manifest["schema"] {
            guard let schema = value.stringValue, !schema.isEmpty else {
                throw LaunchError("\(manifestPath): \"schema\" must be a non-empty string, the PostgreSQL schema to sync into")
            }
            result.1 = schema
        }
        return result
    }

    private static func manifestName(_ manifest: JSONValue, manifestPath: String) throws(LaunchError) -> String? {
        guard let value = manifest["name"] else { return nil }
        guard let name = value.stringValue, !name.isEmpty, name.count <= 200, !name.unicodeScalars.contains(where: HumanText.isControl)
        else {
            throw LaunchError(
                "\(manifestPath): \"name\" must be a string of 1 to 200 characters without control characters, not \(HumanText.quoted(JSONWriter.string(value)))"
            )
        }
        return name
    }

    /// A Singer tap or an Airbyte source (`"adapter": "singer"|"airbyte"`), run through this host's
    /// own executable as `connector-host adapter KIND [--tables ...] -- COMMAND...`: a protocol-v1
    /// connector that drives the tap. With a requirements.txt (e.g. `airbyte-source-faker`) the
    /// build step installs it into `files/venv`, where a bare command name is then found.
    private static func adapterPlan(
        _ adapter: JSONValue, manifest: JSONValue, manifestPath: String, command: [String], build: [String]?, plan: LaunchPlan,
        environment: [String: String]
    ) throws(LaunchError) -> LaunchPlan {
        guard let kind = adapter.stringValue, ["singer", "airbyte"].contains(kind) else {
            throw LaunchError("\(manifestPath): \"adapter\" must be \"singer\" or \"airbyte\", not \(JSONWriter.string(adapter))")
        }
        var tables: [String] = []
        if let value = manifest["tables"] {
            guard let names = value.arrayValue?.compactMap(\.stringValue), names.count == value.arrayValue?.count, !names.isEmpty else {
                throw LaunchError("\(manifestPath): \"tables\" must be an array of stream names, e.g. [\"users\", \"purchases\"]")
            }
            tables = names
        }
        var plan = plan
        var command = command
        if PythonEnvironment.hasRequirements(plan.directory) {
            if !command[0].contains("/") { command[0] = plan.directory + "/files/venv/bin/" + command[0] }
            if build == nil {
                plan.buildCommand = PythonEnvironment.setupCommand(python: environment["CONNECTOR_HOST_PYTHON"] ?? "python3")
                plan.buildSummary = "pip install -r requirements.txt into files/venv (only when requirements.txt changed)"
            }
        }
        if let build { plan.buildCommand = build }
        plan.arguments =
            [try HostExecutable.path(environment: environment), "adapter", kind]
            + (tables.isEmpty ? [] : ["--tables", tables.joined(separator: ",")]) + ["--"] + command
        return plan
    }

    /// The manifest's `"passEnvironment"`: names of host variables the connector needs although they look secret.
    private static func passedEnvironment(manifestPath: String) throws(LaunchError) -> [String] {
        guard let value = try readManifest(manifestPath)["passEnvironment"] else { return [] }
        guard let names = value.arrayValue?.compactMap(\.stringValue), names.count == value.arrayValue?.count else {
            throw LaunchError("\(manifestPath): \"passEnvironment\" must be an array of variable names, e.g. [\"GITHUB_TOKEN\"]")
        }
        return names
    }

    private static func pythonPlan(directory: String, name: String, environment: [String: String]) throws(LaunchError) -> LaunchPlan {
        let python = PythonEnvironment.plan(for: directory, environment: environment)
        let resources = HostResources.current.with(environment: environment)
        if let missing = PythonSDK.missing(python: python.interpreter, directory: directory, resources: resources) { throw missing }
        let launch = PythonSDK.launch(
            python: python.interpreter, connectorFile: directory + "/connector.py", directory: directory, environment: environment,
            resources: resources)
        return LaunchPlan(
            name: name, directory: directory, arguments: launch.arguments, buildCommand: python.setup,
            environment: launch.environment, kind: .python,
            buildSummary: "pip install into files/venv: requirements.txt and what Fivetran's runtime provides (only when they changed)",
            buildArtifact: directory + "/files/venv/.requirements.installed")
    }

    /// The plan for `run --attach`: the connector is already running (the process that started the host,
    /// `connector.debug()`), so there is nothing to build, install or start; `directory` only names it
    /// and holds its files.
    /// - Throws: ``LaunchError`` when `directory` is not a directory.
    public static func attachedPlan(directory: String) throws(LaunchError) -> LaunchPlan {
        let directory = FilePaths.absolute(directory)
        try checkIsDirectory(directory)
        return LaunchPlan(
            name: URL(fileURLWithPath: directory).lastPathComponent, directory: directory, arguments: [], buildCommand: nil,
            environment: [:], kind: .attached)
    }

    /// Runs the plan's build step, with its output sent to `log` (never to the protocol stream).
    /// - Parameter cancellation: stops the build (SIGTERM to its process group) when cancelled; the
    ///   build runs in a process group of its own, so the terminal's Ctrl-C does not reach it.
    /// - Throws: ``LaunchError`` with the build's last lines when it fails or is cancelled.
    /// - Parameter waiting: called about every 20 ms while the build runs (on the calling thread).
    public static func build(
        _ plan: LaunchPlan, cancellation: CancellationSignal? = nil, waiting: () -> Void = {}, log: @escaping @Sendable (String) -> Void
    )
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
            waiting()
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
}
