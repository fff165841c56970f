import Foundation
import Testing

@testable import ConnectorHostCLI

/// The package's root folder.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Suite("Command-line help")
struct HelpTests {
    /// The option labels (`--name VALUE`) in a command's help, in order.
    private func optionLabels(_ help: String) -> [String] {
        let options = help.components(separatedBy: "\nOPTIONS:\n").last ?? ""
        return options.split(separator: "\n").compactMap { line in
            let label = line.trimmingCharacters(in: .whitespaces).components(separatedBy: "  ").first ?? ""
            return label.hasPrefix("--") ? label : nil
        }
    }

    @Test("the README lists every command and, for each, exactly the flags its help shows")
    func readmeAgreesWithHelp() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let paragraphs = readme.components(separatedBy: "\n\n")
        // A command with subcommands has a paragraph per subcommand ("`connection add` flags:").
        var leaves: [(name: String, command: any AnyCommand)] = []
        for command in CommandLineInterface.commands {
            #expect(readme.contains("| `connector-host \(command.name)"), "the README's command table has no row for \(command.name)")
            if let group = command as? CommandGroup {
                leaves += group.commands.map { ("\(group.name) \($0.name)", $0) }
                // A group that runs a command of its own without a subcommand (`package [DIR]`) has its paragraph too.
                if let own = group.defaultCommand { leaves.append((group.name, own)) }
            } else {
                leaves.append((command.name, command))
            }
        }
        for (name, command) in leaves {
            let labels = optionLabels(command.help(path: "connector-host \(name)"))
            guard let paragraph = paragraphs.first(where: { $0.hasPrefix("`\(name)` flags:") }) else {
                Issue.record("the README has no paragraph \"`\(name)` flags:\"")
                continue
            }
            let pattern = try NSRegularExpression(pattern: "`(--[a-z][a-z-]*(?: [A-Z][A-Z_,]*)?)`")
            let range = NSRange(paragraph.startIndex..., in: paragraph)
            let listed = pattern.matches(in: paragraph, range: range).map { String(paragraph[Range($0.range(at: 1), in: paragraph)!]) }
            #expect(listed.sorted() == labels.filter { $0 != "--help" }.sorted(), "README and `help \(name)` differ")
        }
    }

    @Test("help reads like a man page: overview, usage, arguments, options, --help last")
    func helpShape() {
        let help = CommandLineInterface.inspectCommand.help(path: "connector-host inspect")
        #expect(help.hasPrefix("OVERVIEW: Show a connector's warehouse: tables, row counts, state and the last syncs.\n\n"))
        #expect(help.contains("\nUSAGE: connector-host inspect [DIR] [options]\n\nARGUMENTS:\n  DIR  "))
        #expect(
            help.hasSuffix(
                """
                OPTIONS:
                  --warehouse FILE      the SQLite warehouse (default: DIR/files/warehouse.db)
                  --destination URI     PostgreSQL instead of the SQLite warehouse: postgresql://USER@HOST:PORT/DATABASE (default: the manifest's)
                  --schema NAME         the PostgreSQL schema of the connector's tables (default: the manifest's, else the connector's name)
                  --configuration FILE  configuration whose secret values are masked (default: DIR/configuration.json if present)
                  --syncs N             how many recent syncs to show (default 10)
                  --json                print one JSON object instead of text
                  --rows                with --json: every table's rows too, a snapshot for `connector-host diff` (inspect --rows --json > snapshot.json)
                  --html FILE           write one self-contained HTML page (tables, types, row counts, state, charts of the sync history) to FILE
                  -h, --help            show this help

                """))
    }
}
