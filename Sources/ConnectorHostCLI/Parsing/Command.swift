import Foundation

/// A command of the command line, whatever its options type: what dispatch and help need.
protocol AnyCommand {
    /// The word that selects it (`run`).
    var name: String { get }
    /// One line for the overview.
    var summary: String { get }
    /// The full help, like a man page: overview, usage, arguments, options.
    /// - Parameter path: the words that led here (`connector-host run`).
    func help(path: String) -> String
    /// Parses `arguments` (the words after the command's name) and runs the command.
    /// - Returns: the exit code.
    func main(_ arguments: [String], path: String) throws -> Int32
}

/// A command with its options struct: `connector-host NAME [arguments]`.
struct Command<Options: ParsableArguments>: AnyCommand {
    let name: String
    let summary: String
    /// Paragraphs after the summary: what the command does, what it reads and writes.
    var details = ""
    /// The usage line after the command's name, when the generated one (`DIR [options]`) says too little.
    var synopsis: String?
    /// Runs the command with its parsed, validated options and returns the exit code.
    let run: (Options) throws -> Int32

    func main(_ arguments: [String], path: String) throws -> Int32 {
        if Options.asksForHelp(arguments) {
            print(help(path: path), terminator: "")
            return 0
        }
        return try run(try Options.parse(arguments, command: Self.commandName(path)))
    }

    /// `connector-host run` -> `run`, the form messages use.
    static func commandName(_ path: String) -> String {
        path.split(separator: " ").dropFirst().joined(separator: " ")
    }

    func help(path: String) -> String {
        let table = Options.arguments
        let positionals = table.filter(\.isPositional)
        let options = table.filter { !$0.isPositional }
        let usage =
            synopsis
            ?? (positionals.map { argument in
                if case .positional(false, _, _) = argument.kind { return "[\(argument.name)]" }
                return argument.name
            } + (options.isEmpty ? [] : ["[options]"])).joined(separator: " ")
        var text = "OVERVIEW: \(summary)\n"
        if !details.isEmpty { text += "\n" + details + "\n" }
        text += "\nUSAGE: \(path) \(usage)\n"
        let rows = positionals.map { ($0.label, $0.help) } + options.map { ($0.label, $0.help) } + [("-h, --help", "show this help")]
        let width = rows.map(\.0.count).max() ?? 0
        func section(_ title: String, _ rows: ArraySlice<(String, String)>) {
            guard !rows.isEmpty else { return }
            text += "\n\(title):\n"
            for (label, help) in rows { text += "  " + label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + help + "\n" }
        }
        section("ARGUMENTS", rows[..<positionals.count])
        section("OPTIONS", rows[positionals.count...])
        return text
    }
}

/// A command made of subcommands: `connector-host NAME SUBCOMMAND [arguments]`.
struct CommandGroup: AnyCommand {
    let name: String
    let summary: String
    var details = ""
    let commands: [any AnyCommand]
    /// What `connector-host NAME [arguments]` runs when the first word is no subcommand
    /// (`package [DIR]` beside `package create`); `nil` when a subcommand is required.
    var defaultCommand: (any AnyCommand)? = nil

    func main(_ arguments: [String], path: String) throws -> Int32 {
        if let defaultCommand, !commands.contains(where: { $0.name == arguments.first }),
            arguments.first != "--help" && arguments.first != "-h"
        {
            return try defaultCommand.main(arguments, path: path)
        }
        guard let first = arguments.first, first != "--help", first != "-h" else {
            print(help(path: path), terminator: "")
            return arguments.isEmpty ? 2 : 0
        }
        guard let command = commands.first(where: { $0.name == first }) else {
            throw UsageError(
                "`\(Command<NoOptions>.commandName(path))` has no subcommand \"\(first)\"; it has \(commands.map(\.name).joined(separator: ", ")). See `\(path) --help`"
            )
        }
        return try command.main(Array(arguments.dropFirst()), path: path + " " + command.name)
    }

    func help(path: String) -> String {
        if let defaultCommand {
            // The default command's own help, then the subcommands.
            var text = defaultCommand.help(path: path)
            text += "\nSUBCOMMANDS (\(path) <subcommand> [options]):\n" + CommandGroup.list(commands)
            text += "\nRun `\(path) <subcommand> --help` for a subcommand's options.\n"
            return text
        }
        var text = "OVERVIEW: \(summary)\n"
        if !details.isEmpty { text += "\n" + details + "\n" }
        text += "\nUSAGE: \(path) <subcommand> [options]\n\nSUBCOMMANDS:\n" + CommandGroup.list(commands)
        text += "\nRun `\(path) <subcommand> --help` for a subcommand's options.\n"
        return text
    }

    /// One line per command: its name and summary, aligned.
    static func list(_ commands: [any AnyCommand]) -> String {
        let width = commands.map(\.name.count).max() ?? 0
        return commands.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.summary + "\n" }.joined()
    }
}

/// The options of a command that takes none.
struct NoOptions: ParsableArguments {
    static var arguments: [Argument<NoOptions>] { [] }
}
