import ConnectorHost
import ConnectorProtocol
import Foundation

/// `connector-host diff [DIR] SNAPSHOT`: compare a warehouse with a snapshot of `inspect --rows --json`.
struct DiffOptions: ParsableArguments {
    var first: String?
    var second: String?
    var warehouse: String?
    var destination = DestinationOptions()
    var configuration: String?

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "DIR", \.first, noun: "the connector directory", example: "connectors/hello snapshot.json",
                help: "the connector directory (default: the current folder)"),
            .positional(
                "SNAPSHOT", \.second, noun: "the snapshot", example: "connectors/hello snapshot.json",
                help: "a snapshot written by `connector-host inspect --rows --json`"),
            .option("warehouse", "FILE", \.warehouse, .text, help: "the SQLite warehouse (default: DIR/files/warehouse.db)"),
        ] + .group(\.destination) + [
            .option(
                "configuration", "FILE", \.configuration, .text,
                help: "configuration whose secret values are masked, as inspect masks them (default: DIR/configuration.json if present)")
        ]
    }

    /// The folder and the snapshot: one word is the snapshot (in the current folder), two are both.
    var paths: (directory: String, snapshot: String)? {
        guard let first else { return nil }
        guard let second else { return (".", first) }
        return (first, second)
    }

    func validate(command: String) throws(UsageError) {
        guard paths != nil else {
            throw UsageError(
                "`\(command)` needs a SNAPSHOT: connector-host inspect --rows --json > snapshot.json, then connector-host diff snapshot.json"
            )
        }
        if destination.destination != nil, warehouse != nil {
            throw UsageError("`\(command)` takes --warehouse (an SQLite file) or --destination (PostgreSQL), not both")
        }
    }
}

extension CommandLineInterface {
    static var diffCommand: Command<DiffOptions> {
        Command(
            name: "diff", summary: "Compare a warehouse with a snapshot (inspect --rows --json): exit 0 when it matches.",
            details: """
                Reads SNAPSHOT, written by `connector-host inspect --rows --json`, and the warehouse as it is
                now, and lists every difference, one line each: a table added or removed, a row added or
                removed (by its primary key, or its row hash for a table without one), a value changed (the
                column, the snapshot's value and the warehouse's). Exits 0 when they match, 1 when they differ:
                an expected-records test for a connector.
                """,
            synopsis: "[DIR] SNAPSHOT [options]"
        ) { options in
            let (folder, snapshotPath) = options.paths!
            let directory = FilePaths.absolute(folder)
            let sync = SyncOptions(directory: directory, configurationPath: options.configuration)
            let secrets: [String]
            do throws(SyncFailure) { secrets = Redaction.secretValues(in: try SyncRunner.loadConfiguration(sync)) } catch {
                throw UsageError(
                    "\(error.message). diff reads it to mask its secret values as inspect does; fix it, or name another with --configuration"
                )
            }
            let path = FilePaths.absolute(snapshotPath)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw UsageError(
                    "cannot read the snapshot \(path); write one with `connector-host inspect --rows --json > \(snapshotPath)`")
            }
            let expected: JSONValue
            do { expected = try JSONParser.parse(Array(data)) } catch {
                throw UsageError("the snapshot \(path) is not JSON (\(error)); write one with `connector-host inspect --rows --json`")
            }
            guard let tables = expected["tables"]?.arrayValue, tables.allSatisfy({ $0["rows"]?.arrayValue != nil }) else {
                throw UsageError(
                    "the snapshot \(path) has no rows (it needs \"tables\" with \"rows\"); write it with `connector-host inspect --rows --json`, --rows included"
                )
            }
            var warehouse = options.warehouse.map { FilePaths.absolute($0) } ?? WorkspaceFiles(directory: directory).warehouse
            let actual: JSONValue
            do throws(InspectionError) {
                let postgres: (target: PostgresTarget, connector: String)?
                do throws(SyncFailure) {
                    postgres =
                        options.warehouse != nil
                        ? nil
                        : try SyncRunner.postgresDestination(
                            directory: directory, destination: options.destination.destination, schema: options.destination.schema)
                } catch {
                    throw InspectionError(message: error.message)
                }
                let inspection: Inspection
                if let postgres {
                    warehouse = postgres.target.location(connector: postgres.connector)
                    inspection = try PostgresDestination.inspect(
                        postgres.target, connector: postgres.connector, secrets: secrets, syncLimit: 0, includeRows: true)
                } else {
                    inspection = try Inspector.inspect(warehouse: warehouse, secrets: secrets, syncLimit: 0, includeRows: true)
                }
                actual = try! JSONParser.parse(Inspector.json(inspection))
            } catch {
                writeError("error: \(error.message)")
                return 1
            }
            let differences = WarehouseSnapshot.differences(expected: expected, actual: actual)
            guard !differences.isEmpty else {
                let rows = tables.reduce(0) { $0 + ($1["rows"]?.arrayValue?.count ?? 0) }
                print(
                    "the warehouse \(warehouse) matches \(path): \(tables.count) table\(tables.count == 1 ? "" : "s"), \(rows) row\(rows == 1 ? "" : "s")"
                )
                return 0
            }
            for line in differences { print(line) }
            print("\(differences.count) difference\(differences.count == 1 ? "" : "s") between \(path) and the warehouse \(warehouse)")
            return 1
        }
    }
}
