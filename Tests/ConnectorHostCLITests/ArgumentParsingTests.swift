import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

@testable import ConnectorHostCLI

/// Parses `words` as the arguments of `run` and returns the usage error's message, or nil.
private func runError(_ words: [String]) -> String? {
    do {
        _ = try RunOptions.parse(words, command: "run")
        return nil
    } catch {
        return error.message
    }
}

@Suite("Command-line parsing")
struct ArgumentParsingTests {
    @Test("options fill the typed options struct, in either form, with shared groups")
    func typedOptions() throws {
        let options = try RunOptions.parse(
            [
                "connectors/hello", "--configuration", "c.json", "--warehouse=w.db", "--no-build", "--idle-timeout", "1.5",
                "--grace=2", "--max-line-bytes", "2048", "--pass-env", "A, B,,C", "--log-level", "WARN", "--json",
            ], command: "run")
        #expect(options.directory == "connectors/hello")
        #expect(options.connector.configuration == "c.json")
        #expect(options.connector.noBuild)
        #expect(options.files.warehouse == "w.db")
        #expect(options.files.state == nil)
        #expect(options.idleTimeout == 1.5)
        #expect(options.grace == 2)
        #expect(options.maximumLineBytes == 2048)
        #expect(options.passEnvironment == ["A", "B", "C"])
        #expect(options.logLevel == .warning)
        #expect(options.json && !options.quiet)
        let sync = options.syncOptions
        #expect(sync.idleTimeout == 1.5 && sync.handshakeTimeout == 60 && sync.gracePeriod == 2 && !sync.build)
        #expect(sync.files.warehouse.hasSuffix("/w.db") && sync.files.state.hasSuffix("/connectors/hello/files/state.json"))
    }

    @Test("a duration that is not finite, not positive or longer than a year is a usage error that says what to type")
    func durationsAreBounded() {
        for option in ["idle-timeout", "handshake-timeout", "grace"] {
            for text in ["inf", "infinity", "-inf", "nan", "1e19", "1e300", "1e400", "0", "31536001", "ten", "0x10p99"] {
                #expect(
                    runError(["d", "--\(option)=\(text)"])
                        == "--\(option) takes a number of seconds greater than 0 and at most 31536000 (a year), e.g. --\(option) 30; not \"\(text)\""
                )
            }
            #expect(runError(["d", "--\(option)", "31536000"]) == nil)
            #expect(runError(["d", "--\(option)", "0.25"]) == nil)
        }
        for text in ["inf", "1e300"] {
            #expect(
                throws: UsageError.self,
                performing: { try ConformanceCommandOptions.parse(["d", "--timeout", text], command: "conformance") })
        }
    }

    @Test("whole numbers are bounded: --max-line-bytes from 1024 to 512 MiB, --syncs from 0")
    func integersAreBounded() {
        #expect(
            runError(["d", "--max-line-bytes", "1e19"])
                == "--max-line-bytes takes a whole number of bytes from 1024 to 536870912, not \"1e19\"")
        #expect(
            runError(["d", "--max-line-bytes", "99999999999999999999"])
                == "--max-line-bytes takes a whole number of bytes from 1024 to 536870912, not \"99999999999999999999\"")
        #expect(
            runError(["d", "--max-line-bytes", "1023"])
                == "--max-line-bytes takes a whole number of bytes from 1024 to 536870912, not \"1023\"")
        #expect(throws: UsageError.self, performing: { try InspectOptions.parse(["d", "--syncs=-1"], command: "inspect") })
        #expect((try? InspectOptions.parse(["d", "--syncs", "0"], command: "inspect"))?.syncs == 0)
    }

    @Test("an option given twice is refused, naming both values")
    func repeatedOptionRefused() {
        #expect(runError(["d", "--grace", "5", "--grace=6"]) == "--grace is given twice (\"5\", then \"6\"); give it once")
        #expect(runError(["d", "--json", "--json"]) == "--json is given twice; give it once")
        #expect(runError(["d", "--warehouse", "a", "--warehouse", "b"]) == "--warehouse is given twice (\"a\", then \"b\"); give it once")
    }

    @Test("-- ends the options: every word after it is an argument")
    func terminator() throws {
        #expect(try RunOptions.parse(["--json", "--", "--weird-dir"], command: "run").directory == "--weird-dir")
        #expect(try RunOptions.parse(["--", "-"], command: "run").directory == "-")
        #expect(runError(["--", "a", "--json"]) == "`run` takes one argument, DIR, got 2: a --json")
        #expect(!RunOptions.asksForHelp(["d", "--", "--help"]))
    }

    @Test("--help is never taken as an option's value: it asks for help; a value starting with - needs the = form")
    func helpIsNeverAValue() throws {
        #expect(RunOptions.asksForHelp(["d", "--configuration", "--help"]))
        #expect(RunOptions.asksForHelp(["-h"]))
        #expect(!RunOptions.asksForHelp(["d", "--configuration=--help"]))
        #expect(try RunOptions.parse(["d", "--configuration=--help"], command: "run").connector.configuration == "--help")
        #expect(
            runError(["d", "--configuration", "-x.json"])
                == "--configuration needs a value: --configuration FILE; a value that starts with - is written --configuration=-x.json")
        #expect(runError(["d", "--configuration"]) == "--configuration needs a value: --configuration FILE")
    }

    @Test("unknown options, flags with values, missing and extra arguments say what to type")
    func usageMistakes() {
        #expect(
            runError(["d", "--fast"])
                == "unknown option --fast for `run`; it takes --connection, --configuration, --warehouse, --state, --destination, --schema, --no-build, --tables, --limit, --record, --idle-timeout, --handshake-timeout, --grace, --max-line-bytes, --pass-env, --naming, --string-types, --log-level, --json, --quiet, --attach. See `connector-host help run`"
        )
        #expect(runError(["d", "-v"])?.hasPrefix("unknown option -v for `run`; it takes --connection, --configuration") == true)
        #expect(runError(["d", "--json=yes"]) == "--json takes no value; write just --json")
        #expect(runError([]) == nil)  // DIR defaults to the current folder
        #expect((try? RunOptions.parse([], command: "run"))?.syncOptions.directory == FileManager.default.currentDirectoryPath)
        do {
            _ = try InitOptions.parse([], command: "init")
            Issue.record("init without a name was accepted")
        } catch {
            #expect(error.message == "`init` needs the connector's name: connector-host init my-source --language python")
        }
        #expect(runError(["d", "--log-level", "loud"]) == "--log-level takes debug, info, warning or error, not \"loud\"")
        #expect(throws: UsageError.self, performing: { try InitOptions.parse(["x"], command: "init") })
        do {
            _ = try InitOptions.parse(["x", "--language", "cobol"], command: "init")
            Issue.record("cobol was accepted")
        } catch {
            #expect(error.message == "--language takes swift, python, node, not \"cobol\"")
        }
        do {
            _ = try InitOptions.parse(["x"], command: "init")
        } catch {
            #expect(error.message == "`init` needs --language (swift, python, node): connector-host init x --language python")
        }
    }

    @Test("a repeatable option collects every value; an optional positional may be left out")
    func repeatableAndOptional() throws {
        struct Example: ParsableArguments {
            var tables: [String] = []
            var directory: String?
            static var arguments: [Argument<Example>] {
                [
                    .positional("DIR", \.directory, noun: "a directory", example: "d", help: "a directory"),
                    .repeatableOption("table", "NAME", \.tables, .text, help: "a table"),
                ]
            }
        }
        let parsed = try Example.parse(["--table", "a", "--table=b"], command: "example")
        #expect(parsed.tables == ["a", "b"] && parsed.directory == nil)
        #expect(try Example.parse(["d"], command: "example").directory == "d")
    }

    @Test("durations read as seconds, or with s, m, h and d units; anything else says what to type")
    func durations() throws {
        for (text, seconds) in [("90", 90.0), ("90s", 90), ("15m", 900), ("1h30m", 5400), ("1.5h", 5400), ("1d", 86_400)] {
            #expect(try ValueParser<Double>.duration.parse(text, "every") == seconds, "\(text)")
        }
        for text in ["", "m", "15x", "1h30", "-5m", "0s", "400d", "inf"] {
            #expect(throws: UsageError.self, "\(text)") { try ValueParser<Double>.duration.parse(text, "every") }
        }
        do {
            _ = try ValueParser<Double>.duration.parse("15x", "every")
            Issue.record("15x was accepted")
        } catch {
            #expect(
                error.message
                    == "--every takes a duration such as 30s, 15m, 1h30m or 1d (a bare number is seconds), more than 0 and at most a year; not \"15x\""
            )
        }
    }

    @Test("--destination takes a postgresql:// URI, never repeated in a message, and excludes --warehouse")
    func destination() throws {
        let options = try RunOptions.parse(["d", "--destination", "postgresql://u:pw@h/db", "--schema", "s"], command: "run")
        #expect(options.syncOptions.postgres == PostgresTarget(address: try PostgresAddress("postgresql://u:pw@h/db"), schema: "s"))
        #expect(options.syncOptions.mirrorsState == nil)
        #expect(
            try RunOptions.parse(["d", "--destination", "postgresql://h/db", "--state", "s.json"], command: "run").syncOptions.mirrorsState
                == true)
        #expect(
            runError(["d", "--destination", "mysql://u:pw@h/db"])
                == "--destination: a PostgreSQL destination is a URI that starts with postgresql:// (for example postgresql://user@localhost:5432/warehouse)"
        )
        #expect(
            runError(["d", "--destination", "postgresql://h/db", "--warehouse", "w.db"])
                == "`run` takes --warehouse (an SQLite file) or --destination (PostgreSQL), not both")
    }
}
