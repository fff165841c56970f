import ConnectorHost
import Foundation

extension CommandLineInterface {
    static var initSubcommand: Subcommand {
        Subcommand(
            name: "init", synopsis: "init NAME --language swift|python|node [--directory PATH] [--sdk-path PATH]",
            summary: "Create a new connector folder that runs at once.",
            details: """
                Writes a connector in the chosen language with a configuration example, a README and, where the
                language needs one, a connector.json manifest, into PATH (default ./NAME), which must not exist
                or be empty. Each scaffold syncs three rows per run into the table "greeting" and checkpoints a
                cursor: `connector-host run PATH` works right away, and `connector-host conformance PATH` passes.
                  python  connector.py in the Fivetran SDK style (run with connector-host's Python SDK), requirements.txt
                  node    connector.json, connector.js and protocol.js (a copy of the Node helper; no npm packages)
                  swift   connector.json and a SwiftPM package depending on connector-host's ConnectorSDK by path;
                          the first run builds it
                The Swift and Node scaffolds need the connector-host source checkout, found upwards from PATH, from
                this executable and from the current folder, or given with --sdk-path (or $CONNECTOR_HOST_SOURCE).
                """,
            options: [
                OptionSpec(name: "language", valueName: "LANGUAGE", help: "swift, python or node"),
                OptionSpec(name: "directory", valueName: "PATH", help: "the folder to create (default: ./NAME)"),
                OptionSpec(name: "sdk-path", valueName: "PATH", help: "the connector-host checkout (default: searched for)"),
            ],
            run: initCommand)
    }

    static func initCommand(_ arguments: ParsedArguments) throws -> Int32 {
        guard arguments.positionals.count == 1 else {
            throw UsageError(
                arguments.positionals.isEmpty
                    ? "`init` needs the connector's name: connector-host init my-source --language python"
                    : "`init` takes one name, got \(arguments.positionals.count): \(arguments.positionals.joined(separator: " "))")
        }
        let languages = ScaffoldLanguage.allCases.map(\.rawValue).joined(separator: ", ")
        guard let text = arguments.values["language"] else {
            throw UsageError("`init` needs --language (\(languages)): connector-host init \(arguments.positionals[0]) --language python")
        }
        guard let language = ScaffoldLanguage(rawValue: text.lowercased()) else {
            throw UsageError("--language takes \(languages), not \"\(text)\"")
        }
        let scaffold: ConnectorScaffold
        let written: [String]
        do {
            scaffold = try ConnectorScaffold(
                name: arguments.positionals[0], language: language, directory: arguments.values["directory"],
                sdkPath: arguments.values["sdk-path"])
            written = try scaffold.create()
        } catch {
            writeError("error: \(error.message)")
            return 1
        }
        print("created \(scaffold.directory):")
        for path in written.sorted() { print("  " + path) }
        let shown = displayPath(scaffold.directory)
        print("next: connector-host run \(shown)   (then: connector-host conformance \(shown))")
        return 0
    }

    /// The path relative to the current folder when it is inside it, else absolute.
    static func displayPath(_ path: String) -> String {
        let current = FileManager.default.currentDirectoryPath
        return path.hasPrefix(current + "/") ? String(path.dropFirst(current.count + 1)) : path
    }
}
