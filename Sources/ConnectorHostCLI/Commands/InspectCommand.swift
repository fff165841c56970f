import ConnectorHost
import Foundation

/// `connector-host inspect DIR`: show a connector's warehouse.
struct InspectOptions: ParsableArguments {
    var directory = "."
    var files = FileOptions()
    var destination = DestinationOptions()
    var configuration: String?
    var syncs = 10
    var json = false
    var rows = false
    var html: String?

    static var arguments: [Argument<Self>] {
        [
            .directory(\.directory),
            .lifted(FileOptions.warehouse, into: \.files),
        ] + .group(\.destination) + [
            .lifted(ConnectorOptions.configuration, into: \.connectorOptions)
                .withHelp("configuration whose secret values are masked (default: DIR/configuration.json if present)"),
            .option("syncs", "N", \.syncs, .integer(0...1_000_000), help: "how many recent syncs to show (default 10)"),
            .flag("json", \.json, help: "print one JSON object instead of text"),
            .flag(
                "rows", \.rows,
                help: "with --json: every table's rows too, a snapshot for `connector-host diff` (inspect --rows --json > snapshot.json)"),
            .option(
                "html", "FILE", \.html, .text,
                help: "write one self-contained HTML page (tables, types, row counts, state, charts of the sync history) to FILE"),
        ]
    }

    func validate(command: String) throws(UsageError) {
        if rows && !json {
            throw UsageError("--rows goes with --json: `connector-host inspect --rows --json > snapshot.json` writes a snapshot for diff")
        }
        try destination.validate(command: command, files: files)
    }

    /// `configuration` seen as the shared option group, so `inspect` reuses its declaration.
    private var connectorOptions: ConnectorOptions {
        get { ConnectorOptions(configuration: configuration) }
        set { configuration = newValue.configuration }
    }
}

extension CommandLineInterface {
    static var inspectCommand: Command<InspectOptions> {
        Command(
            name: "inspect", summary: "Show a connector's warehouse: tables, row counts, state and the last syncs.",
            details: """
                Reads DIR/files/warehouse.db (or the connector's PostgreSQL schema, with --destination or the
                manifest's "destination") without changing it (also while a sync runs: it sees the last
                checkpoint). For each table: its columns with their declared or inferred types, and its live
                and soft-deleted rows. Then the stored state and the most recent syncs from the history (start,
                duration, status, operation counts, the error of a failed sync). Values under secret-looking
                keys in the state, and the configuration's secret values anywhere, are masked.
                """
        ) { options in
            let directory = FilePaths.absolute(options.directory)
            // Secrets of the configuration are masked wherever they show up (state, error messages).
            let sync = SyncOptions(directory: directory, configurationPath: options.configuration)
            // A configuration that cannot be read is an error, not an empty one: its secrets would
            // then show unmasked.
            let secrets: [String]
            do throws(SyncFailure) { secrets = Redaction.secretValues(in: try SyncRunner.loadConfiguration(sync)) } catch {
                throw UsageError(
                    "\(error.message). inspect reads it to mask its secret values in what it shows; fix it, or name another with --configuration"
                )
            }
            let warehouse = options.files.workspace(directory: directory).warehouse
            do throws(InspectionError) {
                let postgres: (target: PostgresTarget, connector: String)?
                do throws(SyncFailure) {
                    postgres = try SyncRunner.postgresDestination(
                        directory: directory, destination: options.destination.destination, schema: options.destination.schema)
                } catch {
                    throw InspectionError(message: error.message)
                }
                let inspection: Inspection
                if let postgres {
                    inspection = try PostgresDestination.inspect(
                        postgres.target, connector: postgres.connector, secrets: secrets, syncLimit: options.syncs,
                        includeRows: options.rows)
                } else {
                    inspection = try Inspector.inspect(
                        warehouse: warehouse, secrets: secrets, syncLimit: options.syncs, includeRows: options.rows)
                }
                if let html = options.html {
                    let path = FilePaths.absolute(html)
                    do { try InspectionPage.html(inspection).write(toFile: path, atomically: true, encoding: .utf8) } catch {
                        writeError("error: cannot write \(path): \(error.localizedDescription)")
                        return 1
                    }
                    print("wrote \(path)")
                    return 0
                }
                print(options.json ? Inspector.json(inspection) : Inspector.text(inspection))
                return 0
            } catch {
                writeError("error: \(error.message)")
                return 1
            }
        }
    }
}
