import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The adapter process: `connector-host adapter singer|airbyte [--tables T1,T2] -- COMMAND [ARGUMENT...]`.
///
/// A connector of protocol v1 on its stdin and stdout that runs a Singer tap or an Airbyte source
/// (`COMMAND`) as its child and translates. The launcher starts it for a connector.json with
/// `"adapter"`; users do not type it. Why a process of its own rather than the host speaking the
/// other protocols itself: the host keeps one protocol, and everything it guarantees (validation,
/// atomic checkpoints, timeouts, cancel, secrets, conformance) applies to adapted connectors
/// unchanged, since they are connectors like any other.
public enum AdapterCommand {
    /// The hidden subcommand's name: `connector-host adapter ...`.
    public static let name = "adapter"
    /// The usage line, for errors.
    public static let usage = "connector-host adapter singer|airbyte [--tables NAME,NAME] -- COMMAND [ARGUMENT...]"

    /// Runs the adapter until the host closes stdin; returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        let driver: any SourceDriver
        switch parse(arguments) {
        case .failure(let problem):
            writeStandardError("error: \(problem.message)\nusage: \(usage)")
            return 2
        case .success(let parsed):
            driver =
                parsed.kind == "singer"
                ? SingerDriver(command: parsed.command, selectedStreams: parsed.tables)
                : AirbyteDriver(command: parsed.command, selectedStreams: parsed.tables)
        }
        signal(SIGPIPE, SIG_IGN)
        let termination = stopOnTermination()
        // The protocol keeps the original stdout; descriptor 1 becomes stderr, so that nothing else
        // in this process can ever write to the protocol stream.
        let protocolOutput = fcntl(1, F_DUPFD_CLOEXEC, 3)
        dup2(2, 1)
        let connection = HostConnection(input: 0, output: protocolOutput)
        AdapterServer(connection: connection, driver: driver).run()
        withExtendedLifetime(termination) {}
        return 0
    }

    private struct Arguments {
        var kind: String
        var tables: [String]?
        var command: [String]
    }

    private struct UsageProblem: Error {
        var message: String
    }

    private static func parse(_ arguments: [String]) -> Result<Arguments, UsageProblem> {
        guard let kind = arguments.first, ["singer", "airbyte"].contains(kind) else {
            return .failure(UsageProblem(message: "the adapter needs the kind of connector first: singer or airbyte"))
        }
        var tables: [String]?
        var index = 1
        while index < arguments.count, arguments[index] != "--" {
            guard arguments[index] == "--tables", index + 1 < arguments.count else {
                return .failure(UsageProblem(message: "unknown adapter option \(arguments[index])"))
            }
            tables = arguments[index + 1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            index += 2
        }
        guard index < arguments.count - 1 else {
            return .failure(UsageProblem(message: "the adapter needs `--` and the tap's or source's command"))
        }
        return .success(Arguments(kind: kind, tables: tables, command: Array(arguments[(index + 1)...])))
    }

    /// On SIGTERM (the host stopping a connector that did not exit after stdin closed): stop the
    /// source, remove the private files that hold its configuration, exit.
    private static func stopOnTermination() -> any DispatchSourceSignal {
        signal(SIGTERM, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        source.setEventHandler {
            SourceProcess.terminateAllOnTermination()
            PrivateFiles.removeAllOnTermination()
            _exit(143)
        }
        source.resume()
        return source
    }
}
