import ConnectorHost
import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A usage mistake: what is wrong and what to type instead. Exit code 2.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The options a subcommand accepts: name, whether it takes a value, and its help line.
struct OptionSpec {
    let name: String
    let valueName: String?
    let help: String
}

/// A parsed command line: positional arguments and option values.
struct ParsedArguments {
    var positionals: [String] = []
    var values: [String: String] = [:]
    var flags: Set<String> = []

    func double(_ name: String) throws(UsageError) -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text), value > 0 else { throw UsageError("--\(name) takes a number of seconds > 0, not \"\(text)\"") }
        return value
    }
}

/// One subcommand: its synopsis, its options, and what it does.
struct Subcommand {
    let name: String
    let synopsis: String
    let summary: String
    let details: String
    let options: [OptionSpec]
    let run: (ParsedArguments) throws -> Int32

    /// Parses `arguments` against this subcommand's options.
    func parse(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                parsed.positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = options.first(where: { $0.name == name }) else {
                let known = options.map { "--\($0.name)" }.joined(separator: ", ")
                throw UsageError(
                    "unknown option --\(name) for `\(self.name)`; it takes \(known.isEmpty ? "no options" : known). See `connector-host help \(self.name)`"
                )
            }
            if spec.valueName != nil {
                if let inlineValue {
                    parsed.values[name] = inlineValue
                } else {
                    guard index < arguments.count else { throw UsageError("--\(name) needs a value: --\(name) \(spec.valueName!)") }
                    parsed.values[name] = arguments[index]
                    index += 1
                }
            } else {
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value") }
                parsed.flags.insert(name)
            }
        }
        return parsed
    }

    var help: String {
        var text = "USAGE: connector-host \(synopsis)\n\n\(summary)\n"
        if !details.isEmpty { text += "\n\(details)\n" }
        if !options.isEmpty {
            text += "\nOPTIONS:\n"
            let labels = options.map { "--\($0.name)" + ($0.valueName.map { " \($0)" } ?? "") }
            let width = labels.map(\.count).max() ?? 0
            for (label, option) in zip(labels, options) {
                text += "  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + option.help + "\n"
            }
        }
        return text
    }
}

/// The `connector-host` command line: subcommands, help, exit codes.
public enum CommandLineInterface {
    /// Runs the command line and returns the process exit code.
    public static func main(_ arguments: [String]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        // Past a file size limit (ulimit -f) writes fail with EFBIG and the sync reports it, instead of the host dying.
        signal(SIGXFSZ, SIG_IGN)
        do {
            return try dispatch(arguments)
        } catch let error as UsageError {
            writeError("error: \(error.message)")
            return 2
        } catch {
            writeError("error: \(error)")
            return 1
        }
    }

    static func dispatch(_ arguments: [String]) throws -> Int32 {
        guard let first = arguments.first else {
            print(overview)
            return 2
        }
        switch first {
        case "--help", "-h", "help":
            if first == "help", arguments.count > 1 {
                guard let command = subcommands.first(where: { $0.name == arguments[1] }) else {
                    throw UsageError("no command \"\(arguments[1])\"; commands: \(subcommands.map(\.name).joined(separator: ", "))")
                }
                print(command.help, terminator: "")
            } else {
                print(overview)
            }
            return 0
        case "--version":
            print("connector-host \(SyncRunner.hostInfo["version"]?.stringValue ?? "?") (protocol \(ProtocolVersion.current))")
            return 0
        default:
            guard let command = subcommands.first(where: { $0.name == first }) else {
                throw UsageError("unknown command \"\(first)\"; try `connector-host run connectors/hello` or `connector-host --help`")
            }
            if arguments.dropFirst().contains("--help") || arguments.dropFirst().contains("-h") {
                print(command.help, terminator: "")
                return 0
            }
            return try command.run(try command.parse(Array(arguments.dropFirst())))
        }
    }

    static var overview: String {
        let width = subcommands.map(\.name.count).max() ?? 0
        let lines = subcommands.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.summary }
        return """
            connector-host: runs data connectors (any language) into a local SQLite warehouse.

            USAGE: connector-host <command> [options]

            COMMANDS:
            \(lines.joined(separator: "\n"))

            Run `connector-host help <command>` for a command's options.
            Exit codes: 0 success, 1 the sync failed, 2 a usage error, 130 cancelled with Ctrl-C.
            """
    }

    static let fileOptions = [
        OptionSpec(name: "warehouse", valueName: "FILE", help: "the SQLite warehouse (default: DIR/files/warehouse.db)"),
        OptionSpec(name: "state", valueName: "FILE", help: "the state mirror (default: DIR/files/state.json)"),
    ]

    static var subcommands: [Subcommand] {
        [
            Subcommand(
                name: "run", synopsis: "run DIR [options]",
                summary: "Sync a connector into its local warehouse.",
                details: """
                    DIR holds a connector.json manifest (command to start, optional build step) or a connector.py
                    (run with the Python SDK). The host builds the connector if the manifest says how, starts it,
                    asks for its schema, runs update, and applies every operation to the warehouse. Each
                    checkpoint commits the data and the state together; on any failure the warehouse stays at the
                    last checkpoint. The state resumes from the warehouse (or from the state file, if the
                    warehouse has none yet).
                    """,
                options: [
                    OptionSpec(
                        name: "configuration", valueName: "FILE",
                        help: "configuration JSON object (default: DIR/configuration.json if present)")
                ] + fileOptions + [
                    OptionSpec(name: "no-build", valueName: nil, help: "skip the manifest's build step and run the existing executable"),
                    OptionSpec(
                        name: "idle-timeout", valueName: "SECONDS",
                        help: "stop a connector silent for this long during update (default 600)"),
                    OptionSpec(name: "handshake-timeout", valueName: "SECONDS", help: "limit for initialize and schema (default 60)"),
                    OptionSpec(
                        name: "grace", valueName: "SECONDS",
                        help: "wait between close of stdin, SIGTERM and SIGKILL when stopping (default 5)"),
                    OptionSpec(name: "max-line-bytes", valueName: "BYTES", help: "longest protocol line accepted (default 67108864)"),
                    OptionSpec(
                        name: "pass-env", valueName: "NAMES",
                        help: "comma-separated host variables to pass although they look secret (withheld by default)"),
                    OptionSpec(
                        name: "log-level", valueName: "LEVEL",
                        help: "least severe connector log shown: debug, info, warning, error (default info)"),
                    OptionSpec(name: "json", valueName: nil, help: "print the report as one JSON object instead of the table"),
                    OptionSpec(name: "quiet", valueName: nil, help: "show only errors while syncing"),
                ],
                run: runCommand),
            Subcommand(
                name: "reset", synopsis: "reset DIR [--yes]",
                summary: "Delete a connector's warehouse and state, to start over.",
                details: "Removes DIR/files/warehouse.db (with its -wal and -shm files) and DIR/files/state.json. Asks first unless --yes.",
                options: fileOptions + [OptionSpec(name: "yes", valueName: nil, help: "do not ask for confirmation")],
                run: resetCommand),
            Subcommand(
                name: "inspect", synopsis: "inspect DIR [options]",
                summary: "Show a connector's warehouse: tables, row counts, state and the last syncs.",
                details: """
                    Reads DIR/files/warehouse.db without changing it (also while a sync runs: it sees the last
                    checkpoint). For each table: its columns with their declared or inferred types, and its live
                    and soft-deleted rows. Then the stored state and the most recent syncs from the history (start,
                    duration, status, operation counts, the error of a failed sync). Values under secret-looking
                    keys in the state, and the configuration's secret values anywhere, are masked.
                    """,
                options: [
                    OptionSpec(name: "warehouse", valueName: "FILE", help: "the SQLite warehouse (default: DIR/files/warehouse.db)"),
                    OptionSpec(
                        name: "configuration", valueName: "FILE",
                        help: "configuration whose secret values are masked (default: DIR/configuration.json if present)"),
                    OptionSpec(name: "syncs", valueName: "N", help: "how many recent syncs to show (default 10)"),
                    OptionSpec(name: "json", valueName: nil, help: "print one JSON object instead of text"),
                ],
                run: inspectCommand),
            conformanceSubcommand,
            initSubcommand,
        ]
    }

    static func directoryArgument(_ arguments: ParsedArguments, command: String) throws(UsageError) -> String {
        guard arguments.positionals.count == 1 else {
            throw UsageError(
                arguments.positionals.isEmpty
                    ? "`\(command)` needs the connector directory: connector-host \(command) connectors/hello"
                    : "`\(command)` takes one directory, got \(arguments.positionals.count): \(arguments.positionals.joined(separator: " "))"
            )
        }
        return arguments.positionals[0]
    }

    static func runCommand(_ arguments: ParsedArguments) throws -> Int32 {
        let directory = try directoryArgument(arguments, command: "run")
        var options = SyncOptions(
            directory: directory, configurationPath: arguments.values["configuration"],
            files: WorkspaceFiles(
                directory: FilePaths.absolute(directory), warehouse: arguments.values["warehouse"],
                state: arguments.values["state"]))
        options.build = !arguments.flags.contains("no-build")
        if let value = try arguments.double("idle-timeout") { options.idleTimeout = value }
        if let value = try arguments.double("handshake-timeout") { options.handshakeTimeout = value }
        if let value = try arguments.double("grace") { options.gracePeriod = value }
        if let names = arguments.values["pass-env"] {
            options.passEnvironment = names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let text = arguments.values["max-line-bytes"] {
            guard let value = Int(text), value >= 1024 else {
                throw UsageError("--max-line-bytes takes a number of bytes >= 1024, not \"\(text)\"")
            }
            options.maximumLineLength = value
        }
        var level = LogLevel.info
        if let text = arguments.values["log-level"] {
            guard let parsed = LogLevel(wireName: text) else {
                throw UsageError("--log-level takes debug, info, warning or error, not \"\(text)\"")
            }
            level = parsed
        }
        let console = TerminalConsole(minimumLevel: level, quiet: arguments.flags.contains("quiet"))
        let cancellation = CancellationSignal()
        let interrupt = InterruptHandler { cancellation.cancel() }
        let report = withExtendedLifetime(interrupt) { SyncRunner.run(options, console: console, cancellation: cancellation) }
        if arguments.flags.contains("json") {
            print(SyncReportFormatter.json(report))
        } else {
            print(SyncReportFormatter.table(report))
        }
        if let failure = report.failure {
            console.write("error: \(failure.message)")
            return failure.exitCode
        }
        return 0
    }

    static func resetCommand(_ arguments: ParsedArguments) throws -> Int32 {
        let directory = FilePaths.absolute(try directoryArgument(arguments, command: "reset"))
        let files = WorkspaceFiles(directory: directory, warehouse: arguments.values["warehouse"], state: arguments.values["state"])
        let paths = [files.warehouse, files.warehouse + "-wal", files.warehouse + "-shm", files.state, files.lock]
        let existing = paths.filter { FileManager.default.fileExists(atPath: $0) }
        guard !existing.isEmpty else {
            print("nothing to reset: \(files.warehouse) and \(files.state) do not exist")
            return 0
        }
        if !arguments.flags.contains("yes") {
            guard isatty(0) == 1 else {
                throw UsageError("reset deletes \(existing.joined(separator: ", ")); pass --yes to confirm when not on a terminal")
            }
            print("Delete \(existing.joined(separator: ", "))? [y/N] ", terminator: "")
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                print("nothing deleted")
                return 1
            }
        }
        for path in existing {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                writeError("error: cannot delete \(path): \(error.localizedDescription)")
                return 1
            }
        }
        print("deleted \(existing.joined(separator: ", "))")
        return 0
    }

    static func inspectCommand(_ arguments: ParsedArguments) throws -> Int32 {
        let directory = FilePaths.absolute(try directoryArgument(arguments, command: "inspect"))
        var syncLimit = 10
        if let text = arguments.values["syncs"] {
            guard let value = Int(text), value >= 0 else { throw UsageError("--syncs takes a number >= 0, not \"\(text)\"") }
            syncLimit = value
        }
        // Secrets of the configuration are masked wherever they show up (state, error messages).
        var options = SyncOptions(directory: directory, configurationPath: arguments.values["configuration"])
        options.files = WorkspaceFiles(directory: directory, warehouse: arguments.values["warehouse"])
        let secrets = (try? SyncRunner.loadConfiguration(options)).map(Redaction.secretValues(in:)) ?? []
        do {
            let inspection = try Inspector.inspect(warehouse: options.files.warehouse, secrets: secrets, syncLimit: syncLimit)
            print(arguments.flags.contains("json") ? Inspector.json(inspection) : Inspector.text(inspection))
            return 0
        } catch {
            writeError("error: \(error.message)")
            return 1
        }
    }

    static func writeError(_ text: String) {
        try? LineWriter(fileDescriptor: 2).write(Array((text + "\n").utf8))
    }
}

/// Turns SIGINT (Ctrl-C) into a call, while it lives; the default handling returns after.
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    init(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
    }

    deinit {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
