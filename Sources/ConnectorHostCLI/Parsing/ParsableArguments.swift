/// The options of one command as a value: a struct with a property per argument, its table of
/// arguments, and the checks that need several of them at once.
///
/// Parsing follows the usual conventions: `--name VALUE` or `--name=VALUE`; `--` ends the options
/// (everything after it is positional); an option given twice is refused unless it is repeatable;
/// a value given as the next word never starts with `-` (write `--name=-x` for that), so
/// `--configuration --help` shows the help instead of reading a file named `--help`.
protocol ParsableArguments {
    init()
    /// Positional arguments and options, in the order help lists them.
    static var arguments: [Argument<Self>] { get }
    /// Checks after parsing (required options, options that exclude each other).
    /// - Parameter command: the command's name as typed (`run`), for messages.
    func validate(command: String) throws(UsageError)
}

extension ParsableArguments {
    func validate(command: String) throws(UsageError) {}

    /// Whether `arguments` ask for help: `--help` or `-h` before any `--`.
    static func asksForHelp(_ arguments: [String]) -> Bool {
        arguments.prefix { $0 != "--" }.contains { $0 == "--help" || $0 == "-h" }
    }

    /// Parses `arguments` (the words after the command's name) and validates the result.
    /// - Parameter command: the command's name as typed, for messages.
    static func parse(_ arguments: [String], command: String) throws(UsageError) -> Self {
        let table = Self.arguments
        var options = Self()
        var positionals: [String] = []
        var given: [String: String] = [:]
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            if optionsEnded || word == "-" || !word.hasPrefix("-") {
                positionals.append(word)
                continue
            }
            if word == "--" {
                optionsEnded = true
                continue
            }
            guard word.hasPrefix("--") else { throw unknownOption(word, table, command) }
            var name = String(word.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let argument = table.first(where: { !$0.isPositional && $0.name == name }) else {
                throw unknownOption("--" + name, table, command)
            }
            let value: String?
            switch argument.kind {
            case .flag:
                guard inlineValue == nil else { throw UsageError("--\(name) takes no value; write just --\(name)") }
                value = nil
            case .option(let valueName):
                if let inlineValue {
                    value = inlineValue
                } else if index < arguments.count, arguments[index] == "-" || !arguments[index].hasPrefix("-") {
                    value = arguments[index]
                    index += 1
                } else {
                    let next = index < arguments.count ? "; a value that starts with - is written --\(name)=\(arguments[index])" : ""
                    throw UsageError("--\(name) needs a value: --\(name) \(valueName)\(next)")
                }
            case .positional:
                preconditionFailure("positional arguments are not looked up by name")
            }
            if let earlier = given[name], !argument.repeatable {
                let values = value.map { " (\"\(earlier)\", then \"\($0)\")" } ?? ""
                throw UsageError("--\(name) is given twice\(values); give it once")
            }
            given[name] = value ?? ""
            try argument.apply(&options, value)
        }
        try assign(positionals, to: &options, table, command)
        try options.validate(command: command)
        return options
    }

    private static func assign(_ positionals: [String], to options: inout Self, _ table: [Argument<Self>], _ command: String)
        throws(UsageError)
    {
        let slots = table.filter(\.isPositional)
        for (position, slot) in slots.enumerated() {
            guard case .positional(let required, let noun, let example) = slot.kind else { continue }
            if position < positionals.count {
                try slot.apply(&options, positionals[position])
            } else if required {
                throw UsageError("`\(command)` needs \(noun): connector-host \(command) \(example)")
            } else {
                try slot.apply(&options, nil)  // Its default (the current folder for DIR).
            }
        }
        guard positionals.count > slots.count else { return }
        let expected = slots.count == 1 ? "one argument, \(slots[0].name)," : slots.map(\.name).joined(separator: " ") + ","
        throw UsageError(
            slots.isEmpty
                ? "`\(command)` takes no arguments besides options, got \(positionals.joined(separator: " "))"
                : "`\(command)` takes \(expected) got \(positionals.count): \(positionals.joined(separator: " "))"
        )
    }

    private static func unknownOption(_ word: String, _ table: [Argument<Self>], _ command: String) -> UsageError {
        let known = table.filter { !$0.isPositional }.map { "--\($0.name)" }.joined(separator: ", ")
        return UsageError(
            "unknown option \(word) for `\(command)`; it takes \(known.isEmpty ? "no options" : known). See `connector-host help \(command)`"
        )
    }
}
