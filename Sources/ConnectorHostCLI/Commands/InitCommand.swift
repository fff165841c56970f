import ConnectorHost
import Foundation

/// `connector-host init NAME --language LANGUAGE`: create a connector folder.
struct InitOptions: ParsableArguments {
    var name = ""
    var language: ScaffoldLanguage?
    var directory: String?
    var sdkPath: String?

    static var languages: String { ScaffoldLanguage.allCases.map(\.rawValue).joined(separator: ", ") }

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "NAME", \.name, noun: "the connector's name", example: "my-source --language python",
                help: "the connector's name (also the folder's, unless --directory)"),
            .option(
                "language", "LANGUAGE", \.language, .choice(languages) { ScaffoldLanguage(rawValue: $0.lowercased()) },
                help: "swift, python or node"),
            .option("directory", "PATH", \.directory, .text, help: "the folder to create (default: ./NAME)"),
            .option(
                "sdk-path", "PATH", \.sdkPath, .text,
                help: "a connector-host checkout to take the SDK from (default: searched for, else the installed SDKs)"),
        ]
    }

    func validate(command: String) throws(UsageError) {
        guard language != nil else {
            throw UsageError("`\(command)` needs --language (\(Self.languages)): connector-host \(command) \(name) --language python")
        }
    }
}

extension CommandLineInterface {
    static var initCommand: Command<InitOptions> {
        Command(
            name: "init", summary: "Create a new connector folder that runs at once.",
            details: """
                Writes a connector in the chosen language with a configuration example, a README and, where the
                language needs one, a connector.json manifest, into PATH (default ./NAME), which must not exist
                or be empty. Each scaffold syncs three rows per run into the table "greeting" and checkpoints a
                cursor: `connector-host run PATH` works right away, and `connector-host conformance PATH` passes.
                  python  connector.py in the Fivetran SDK style (run with connector-host's Python SDK), requirements.txt
                  node    connector.json, connector.js and protocol.js (a copy of the Node helper; no npm packages)
                  swift   connector.json and a SwiftPM package depending on connector-host's ConnectorSDK by path;
                          the first run builds it
                The Swift and Node scaffolds take their SDK from a connector-host checkout found upwards from PATH,
                from this executable or from the current folder, or given with --sdk-path (or $CONNECTOR_HOST_SOURCE);
                else from the SDKs installed beside this executable (PREFIX/share/connector-host/sdks, by
                scripts/install.sh).
                """,
            synopsis: "NAME --language swift|python|node [--directory PATH] [--sdk-path PATH]"
        ) { options in
            let scaffold: ConnectorScaffold
            let written: [String]
            do throws(ScaffoldError) {
                scaffold = try ConnectorScaffold(
                    name: options.name, language: options.language ?? .python, directory: options.directory, sdkPath: options.sdkPath)
                written = try scaffold.create()
            } catch {
                if error.isUsageError { throw UsageError(error.message) }
                writeError("error: \(error.message)")
                return 1
            }
            print("created \(scaffold.directory):")
            for path in written.sorted() { print("  " + path) }
            let shown = displayPath(scaffold.directory)
            print("next: connector-host run \(shown)   (then: connector-host conformance \(shown))")
            return 0
        }
    }

    /// The path relative to the current folder when it is inside it, else absolute.
    static func displayPath(_ path: String) -> String {
        let current = FileManager.default.currentDirectoryPath
        return path.hasPrefix(current + "/") ? String(path.dropFirst(current.count + 1)) : path
    }
}
