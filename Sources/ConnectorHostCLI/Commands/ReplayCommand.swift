import ConnectorHost
import Foundation

/// `connector-host replay FILE`: apply a recording again without the connector.
struct ReplayOptions: ParsableArguments {
    var recording = ""
    var warehouse: String?
    var state: String?
    var destination = DestinationOptions()
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "FILE", \.recording, noun: "the recording (made with run --record FILE)", example: "recording.jsonl",
                help: "a recording made with `connector-host run --record FILE`"),
            .option(
                "warehouse", "FILE", \.warehouse, .text,
                help: "the SQLite warehouse to replay into (default: FILE's name with .warehouse.db, beside it)"),
            .option(
                "state", "FILE", \.state, .text,
                help: "the state mirror (default: FILE's name with .state.json, beside it; with --destination, none unless given)"),
        ] + .group(\.destination) + [
            .flag("json", \.json, help: "print the report as one JSON object instead of the table")
        ]
    }

    func validate(command: String) throws(UsageError) {
        if destination.destination != nil, warehouse != nil {
            throw UsageError("`\(command)` takes --warehouse (an SQLite file) or --destination (PostgreSQL), not both")
        }
        if let schema = destination.schema {
            if schema.isEmpty { throw UsageError("--schema needs a schema name") }
            if destination.destination == nil {
                throw UsageError("--schema names a PostgreSQL schema and goes with --destination postgresql://...")
            }
        }
    }
}

extension CommandLineInterface {
    static var replayCommand: Command<ReplayOptions> {
        Command(
            name: "replay", summary: "Apply a recording (run --record) again, without the connector or its source.",
            details: """
                Feeds the connector's messages of a recording made with `run --record FILE` to the host, in
                order, as if the connector sent them: the same validation, checkpoints and warehouse as the
                recorded run, so the warehouse comes out the same, offline and without the source's
                credentials (they are masked in the recording). The host's own messages are compared with the
                recorded ones: a different method, or an update state other than the recorded one (a replay
                into a warehouse that was not where the recording started), is said after the report.

                With --destination postgresql://... the replay goes into PostgreSQL (the schema --schema,
                else the recorded connector's name), as `run --destination` would have written it.
                """,
            synopsis: "FILE [--warehouse FILE] [options]"
        ) { options in
            let console = TerminalConsole(minimumLevel: .info, quiet: false)
            var replay = ConnectorHost.ReplayOptions(recording: options.recording, warehouse: options.warehouse, state: options.state)
            if let destination = options.destination.destination {
                replay.postgres = PostgresTarget(address: destination, schema: options.destination.schema)
                replay.mirrorsState = options.state != nil
            }
            let outcome: (report: SyncReport, differences: [String])
            do throws(SyncFailure) { outcome = try ReplayRunner.run(replay, console: console) } catch {
                if error.isUsageError { throw UsageError(error.message) }
                writeError("error: \(error.message)")
                return 1
            }
            if let failure = outcome.report.failure, failure.isUsageError { throw UsageError(failure.message) }
            show(outcome.report, json: options.json, console: console)
            for difference in outcome.differences { console.write("note: \(difference)") }
            return outcome.report.failure?.exitCode ?? 0
        }
    }
}
