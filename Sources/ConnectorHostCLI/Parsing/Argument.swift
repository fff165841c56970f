/// What kind of argument an ``Argument`` is.
enum ArgumentKind {
    /// `DIR`: `noun` and `example` make the message when it is missing.
    case positional(required: Bool, noun: String, example: String)
    /// `--name VALUE`.
    case option(valueName: String)
    /// `--name`.
    case flag
}

/// One thing a command accepts: a positional argument, an option with a value, or a flag, with its
/// help line and where its value goes in the command's options struct.
///
/// Commands list their arguments as a table (``ParsableArguments/arguments``) built from the
/// factories below, each naming a key path of the options struct: a misspelled option is a
/// compile error, not a silent `nil`.
struct Argument<Options> {
    typealias Kind = ArgumentKind

    /// The option's name without dashes, or the positional's placeholder (`DIR`).
    let name: String
    let kind: Kind
    /// The help line.
    let help: String
    /// Whether the option may be given more than once (each value is applied in turn); otherwise
    /// a second one is refused.
    var repeatable = false
    /// Stores the value (`nil` for a flag) into the options.
    let apply: (inout Options, String?) throws(UsageError) -> Void

    /// How the argument reads in help and usage: `--name VALUE`, `--name` or `DIR`.
    var label: String {
        switch kind {
        case .positional: name
        case .option(let valueName): "--\(name) \(valueName)"
        case .flag: "--\(name)"
        }
    }

    var isPositional: Bool {
        if case .positional = kind { return true }
        return false
    }

    /// The same argument with another help line (a shared option whose meaning differs in one command).
    func withHelp(_ help: String) -> Argument {
        Argument(name: name, kind: kind, help: help, repeatable: repeatable, apply: apply)
    }
}

extension Argument {
    /// A required positional argument. When it is missing the message is
    /// "`COMMAND` needs NOUN: connector-host COMMAND EXAMPLE".
    static func positional(
        _ placeholder: String, _ keyPath: WritableKeyPath<Options, String>, noun: String, example: String, help: String
    ) -> Argument {
        Argument(name: placeholder, kind: .positional(required: true, noun: noun, example: example), help: help) { options, text in
            options[keyPath: keyPath] = text ?? ""
        }
    }

    /// An optional positional argument.
    static func positional(
        _ placeholder: String, _ keyPath: WritableKeyPath<Options, String?>, noun: String, example: String, help: String
    ) -> Argument {
        Argument(name: placeholder, kind: .positional(required: false, noun: noun, example: example), help: help) { options, text in
            options[keyPath: keyPath] = text
        }
    }

    /// The connector directory, the first argument of most commands: the current folder when it is
    /// left out, as `fivetran debug` works in the current folder.
    static func directory(_ keyPath: WritableKeyPath<Options, String>) -> Argument {
        Argument(
            name: "DIR", kind: .positional(required: false, noun: "the connector directory", example: "connectors/hello"),
            help: "the connector directory (a connector.json manifest or a connector.py; default: the current folder)"
        ) { options, text in
            options[keyPath: keyPath] = text ?? "."
        }
    }

    /// `--name VALUE` stored into an optional property (`nil` when not given).
    static func option<Value>(
        _ name: String, _ valueName: String, _ keyPath: WritableKeyPath<Options, Value?>, _ parser: ValueParser<Value>,
        help: String
    ) -> Argument {
        Argument(name: name, kind: .option(valueName: valueName), help: help) { options, text throws(UsageError) in
            options[keyPath: keyPath] = try parser.parse(text ?? "", name)
        }
    }

    /// `--name VALUE` stored into a property with a default.
    static func option<Value>(
        _ name: String, _ valueName: String, _ keyPath: WritableKeyPath<Options, Value>, _ parser: ValueParser<Value>,
        help: String
    ) -> Argument {
        Argument(name: name, kind: .option(valueName: valueName), help: help) { options, text throws(UsageError) in
            options[keyPath: keyPath] = try parser.parse(text ?? "", name)
        }
    }

    /// `--name VALUE`, which may be given several times; each value is appended.
    static func repeatableOption<Value>(
        _ name: String, _ valueName: String, _ keyPath: WritableKeyPath<Options, [Value]>, _ parser: ValueParser<Value>,
        help: String
    ) -> Argument {
        Argument(name: name, kind: .option(valueName: valueName), help: help, repeatable: true) { options, text throws(UsageError) in
            options[keyPath: keyPath].append(try parser.parse(text ?? "", name))
        }
    }

    /// `--name`, which sets a Boolean property to true.
    static func flag(_ name: String, _ keyPath: WritableKeyPath<Options, Bool>, help: String) -> Argument {
        Argument(name: name, kind: .flag, help: help) { options, _ in options[keyPath: keyPath] = true }
    }

    /// An argument of an option group (options several commands share, e.g. ``FileOptions``),
    /// stored into the group's property of this command's options.
    static func lifted<Group>(_ argument: Argument<Group>, into keyPath: WritableKeyPath<Options, Group>) -> Argument {
        Argument(name: argument.name, kind: argument.kind, help: argument.help, repeatable: argument.repeatable) {
            options, text throws(UsageError) in
            try argument.apply(&options[keyPath: keyPath], text)
        }
    }
}

extension Array {
    /// Every argument of an option group, in its order, stored into the group's property.
    static func group<Options, Group: ParsableArguments>(_ keyPath: WritableKeyPath<Options, Group>) -> [Argument<Options>]
    where Element == Argument<Options> {
        Group.arguments.map { .lifted($0, into: keyPath) }
    }
}
