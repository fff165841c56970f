import ConnectorAdapters
import ConnectorHost
import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `connector-host` command line: the list of commands, dispatch, help, exit codes.
///
/// A command is a file in Commands/: an options struct (``ParsableArguments``) and a
/// ``Command`` built from it; adding one to ``commands`` makes it dispatchable and listed in help.
public enum CommandLineInterface {
    /// Every command, in the order the overview lists them.
    static var commands: [any AnyCommand] {
        [
            runCommand, testCommand, configurationCommand, resetCommand, inspectCommand, conformanceCommand, initCommand, packageCommand,
            connectionCommand, scheduleCommand, replayCommand, diffCommand,
        ]
    }

    /// Runs the command line (the words after the executable's name) and returns the exit code:
    /// 0 success, 1 the command failed, 2 a usage error, 128 + the signal when cancelled (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
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
            var path = "connector-host"
            var command: (any AnyCommand)? = nil
            var available = commands
            for word in arguments.dropFirst() {
                guard let next = available.first(where: { $0.name == word }) else {
                    throw UsageError(
                        "no command \"\(path == "connector-host" ? word : path.dropFirst(15) + " " + word)\"; commands: \(available.map(\.name).joined(separator: ", "))"
                    )
                }
                path += " " + next.name
                command = next
                available = (next as? CommandGroup)?.commands ?? []
            }
            print(command?.help(path: path) ?? overview, terminator: command == nil ? "\n" : "")
            return 0
        case AdapterCommand.name:
            // Hidden: the process the launcher starts for a connector.json with "adapter"; it speaks
            // the protocol on stdout, so it takes no part in help and has no options of the CLI.
            return AdapterCommand.main(Array(arguments.dropFirst()))
        case "--version":
            print(versionText(.current))
            return 0
        default:
            guard let command = commands.first(where: { $0.name == first }) else {
                throw UsageError("unknown command \"\(first)\"; try `connector-host run connectors/hello` or `connector-host --help`")
            }
            return try command.main(Array(arguments.dropFirst()), path: "connector-host " + command.name)
        }
    }

    static var overview: String {
        """
        connector-host: runs data connectors (any language) into a local SQLite warehouse.

        USAGE: connector-host <command> [options]

        COMMANDS:
        \(CommandGroup.list(commands))
        Run `connector-host help <command>` (or `connector-host <command> --help`) for a command's options.
        Exit codes: 0 success, 1 the command failed, 2 a usage error, 130 cancelled with Ctrl-C (143 with SIGTERM, 129 with SIGHUP).
        """
    }

    /// `--version`: the version, the executable, and where each SDK is (or how to install it).
    static func versionText(_ resources: HostResources) -> String {
        var lines = [
            "connector-host \(SyncRunner.host.version) (protocol \(ProtocolVersion.current))",
            "executable:   \(resources.executable ?? resources.invokedPath ?? "unknown")",
        ]
        for sdk in HostSDK.allCases {
            let found: String
            if let location = resources.locate(sdk, near: nil) {
                let origin =
                    switch location.origin {
                    case .given: PythonSDK.variable
                    case .checkout(let root): "checkout " + root
                    case .installed: "installed"
                    }
                found = "\(location.path) (\(origin))"
            } else {
                found = "not found (no checkout above the executable or the current folder, no \(resources.expectedInstalledFolder(sdk)))"
            }
            lines.append((sdk.title + ":").padding(toLength: 14, withPad: " ", startingAt: 0) + found)
        }
        if resources.locate(.python, near: nil).map({ $0.origin != .given }) ?? true {
            lines.append("A connector_host_sdk installed for a connector's Python interpreter comes before the python SDK above.")
        }
        return lines.joined(separator: "\n")
    }

    /// Writes a line to stderr.
    static func writeError(_ text: String) {
        try? LineWriter(fileDescriptor: 2).write(Array((text + "\n").utf8))
    }
}
