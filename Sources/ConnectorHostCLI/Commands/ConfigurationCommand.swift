import ConnectorHost
import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `connector-host configuration [DIR]`: fill in the connector's configuration form.
struct ConfigurationOptions: ParsableArguments {
    var directory: String?
    var output: String?
    var noBuild = false
    var nonInteractive = false
    var values: [String] = []
    var test = false

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "DIR", \.directory, noun: "the connector directory", example: "connectors/hello",
                help: "the connector directory (default: the current one)"),
            .option(
                "configuration", "FILE", \.output, .text,
                help: "the configuration file to write (default: DIR/configuration.json; its values are the defaults)"),
            .flag("no-build", \.noBuild, help: "skip the manifest's build step and run the existing executable"),
            .flag("non-interactive", \.nonInteractive, help: "ask nothing: take --set values, then existing values and defaults"),
            .repeatableOption("set", "PAIR", \.values, .text, help: "one field's value as NAME=VALUE (repeatable)"),
            .flag("test", \.test, help: "run the connector's setup tests with the written configuration"),
        ]
    }
}

extension CommandLineInterface {
    static var configurationCommand: Command<ConfigurationOptions> {
        Command(
            name: "configuration", summary: "Fill in a connector's configuration form and write configuration.json.",
            details: """
                Asks the connector for its configuration form (when it announces
                capabilities.configurationForm), asks for each field on the terminal (password fields are
                not echoed; Enter keeps the value shown in brackets) and writes the answers as a JSON object
                of strings to DIR/configuration.json (or --configuration FILE), user-only (0600). Values
                already in that file are the defaults, and keys the form does not name are kept. With
                --non-interactive, or when stdin is not a terminal, nothing is asked: --set NAME=VALUE
                gives values, and a required field without one is an error. --test then runs the setup
                tests, as connector-host test does. Unlike Fivetran's configuration command, passwords are
                stored as typed (not encrypted); the host masks them in everything it prints.
                """,
            synopsis: "[DIR] [--non-interactive] [--set NAME=VALUE ...] [options]"
        ) { options in
            let directory = FilePaths.absolute(options.directory ?? ".")
            let path = options.output.map { FilePaths.absolute($0) } ?? directory + "/configuration.json"
            var given: [String: String] = [:]
            for pair in options.values {
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw UsageError("--set takes NAME=VALUE, e.g. --set api_key=abc123; not \"\(pair)\"")
                }
                given[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            let console = TerminalConsole(minimumLevel: .info, quiet: false)
            var control = ControlOptions(directory: directory, configurationPath: FileManager.default.fileExists(atPath: path) ? path : nil)
            control.build = !options.noBuild
            let cancellation = CancellationSignal()
            let interrupt = InterruptHandler(cancelling: cancellation)
            let form: ConfigurationFormResult?
            do throws(SyncFailure) {
                form = try withExtendedLifetime(interrupt) { () throws(SyncFailure) in
                    try ConfigurationFormResult.fetch(control, console: console, cancellation: cancellation)
                }
            } catch {
                writeError("error: \(error.message)")
                return error.exitCode
            }
            guard let form else {
                writeError(
                    "error: the connector has no configuration form (its initialize result does not announce capabilities.configurationForm); write \(path) by hand"
                )
                return 1
            }
            var configuration: JSONObject = [:]
            if let data = FileManager.default.contents(atPath: path), let object = (try? JSONParser.parse(Array(data)))?.objectValue {
                configuration = object
            }
            let interactive = !options.nonInteractive && isatty(0) == 1
            for (name, _) in given where !form.fields.contains(where: { $0.name == name }) {
                throw UsageError(
                    "--set \(name)=...: the form has no field \(name); its fields are \(form.fields.map(\.name).joined(separator: ", "))")
            }
            for field in form.fields {
                let current = given[field.name] ?? configuration[field.name]?.stringValue ?? field.defaultValue
                var value = current
                if interactive, given[field.name] == nil {
                    value = FormPrompt.ask(field, current: current) ?? current
                }
                if let chosen = value, let problem = FormPrompt.problem(chosen, for: field) {
                    writeError("error: \(problem)")
                    return 1
                }
                if let value {
                    configuration[field.name] = .string(value)
                } else if field.required {
                    writeError("error: the field \(field.name) (\(field.label)) is required: pass --set \(field.name)=VALUE")
                    return 1
                }
            }
            if let problem = ConfigurationFile.save(JSONWriter.string(.object(configuration)) + "\n", to: path) {
                writeError("error: cannot write \(path): \(problem); nothing was changed")
                return 1
            }
            print("wrote \(path) (\(form.fields.count) field\(form.fields.count == 1 ? "" : "s"))")
            guard options.test else { return 0 }
            var testOptions = control
            testOptions.configurationPath = path
            testOptions.build = false
            let report = withExtendedLifetime(interrupt) { SetupTestRunner.run(testOptions, console: console, cancellation: cancellation) }
            print(SetupTestReportFormatter.text(report))
            if let failure = report.failure {
                writeError("error: \(failure.message)")
                return failure.exitCode
            }
            return report.passed ? 0 : 1
        }
    }
}

/// The configuration file, written whole or not at all.
enum ConfigurationFile {
    /// Writes `text` to a temporary file beside `path` (user-only, 0600), syncs it and renames it over
    /// `path`. - Returns: why it failed, or `nil`.
    static func save(_ text: String, to path: String) -> String? {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        let bytes = Array(text.utf8)
        var offset = 0
        var failure: String?
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
                break
            }
            offset += written
        }
        if failure == nil, fchmod(descriptor, 0o600) != 0 || fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if failure != nil { unlink(temporary) }
        return failure
    }
}

/// Asking for one form field on the terminal.
enum FormPrompt {
    /// The answer typed for `field` (`nil` for Enter or end of input: keep `current`).
    static func ask(_ field: ConfigurationFormResult.Field, current: String?) -> String? {
        var prompt = field.label + (field.required ? "" : " (optional)")
        if let description = field.description { print("  \(description)") }
        switch field.kind {
        case .dropdown:
            for option in field.options {
                print(
                    "  - \(option.value)" + (option.label != option.value ? ": \(option.label)" : "")
                        + (option.description.map { " (\($0))" } ?? ""))
            }
        case .toggle: prompt += " (true or false)"
        case .text, .password: break
        }
        if let current { prompt += field.kind == .password ? " [keep the current one]" : " [\(current)]" }
        print(prompt + ": ", terminator: "")
        let answer = field.kind == .password ? readHidden() : readLine()
        guard let answer, !answer.isEmpty else { return nil }
        return answer
    }

    /// Why `value` does not fit `field`, or `nil`.
    static func problem(_ value: String, for field: ConfigurationFormResult.Field) -> String? {
        switch field.kind {
        case .dropdown where !field.options.contains(where: { $0.value == value }):
            return "the field \(field.name) takes one of \(field.options.map(\.value).joined(separator: ", ")), not \"\(value)\""
        case .toggle where value != "true" && value != "false":
            return "the field \(field.name) is a toggle: true or false, not \"\(value)\""
        default:
            return nil
        }
    }

    /// A line read with the terminal's echo off (a password).
    private static func readHidden() -> String? {
        var saved = termios()
        guard tcgetattr(0, &saved) == 0 else { return readLine() }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(0, TCSANOW, &quiet)
        defer {
            tcsetattr(0, TCSANOW, &saved)
            print("")
        }
        return readLine()
    }
}
