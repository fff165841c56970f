import ConnectorHost
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `connector-host reset DIR`: delete a connector's warehouse and state.
struct ResetOptions: ParsableArguments {
    var directory = "."
    var files = FileOptions()
    var destination = DestinationOptions()
    var yes = false
    var table: String?
    var stateKey: String?

    static var arguments: [Argument<Self>] {
        [.directory(\.directory)] + .group(\.files) + .group(\.destination) + [
            .option(
                "table", "NAME", \.table, .text,
                help: "drop only this table (its rows, columns and types), so that the next run refills it; the rest stays"),
            .option(
                "state-key", "KEY", \.stateKey, .text,
                help: "with --table: also remove this key (a dotted path, e.g. cursors.orders) from the state"),
            .flag("yes", \.yes, help: "do not ask for confirmation"),
        ]
    }

    func validate(command: String) throws(UsageError) {
        if stateKey != nil && table == nil {
            throw UsageError(
                "--state-key goes with --table: `reset --table orders --state-key cursors.orders` drops a table and its cursor")
        }
        try destination.validate(command: command, files: files)
    }
}

extension CommandLineInterface {
    static var resetCommand: Command<ResetOptions> {
        Command(
            name: "reset", summary: "Delete a connector's warehouse and state, to start over.",
            details: """
                Removes DIR/files/warehouse.db (with its -wal and -shm files), DIR/files/state.json and the
                lock. Refused while a sync of the warehouse runs, and for files that are not the host's own
                (a link, a file that is not a JSON state or a connector-host warehouse). Asks first unless --yes.

                With --table NAME, drops only that table: its rows and the host's record of its columns and
                types; the next run creates it again from the schema. With --state-key KEY, also removes that
                key (a dotted path) from the stored state and the state file, in the same transaction, so the
                connector, finding no cursor for the table, fetches it from the start.

                With a PostgreSQL destination (--destination, or the manifest's "destination"): drops the
                connector's tables and the host's own from its schema, and the schema when nothing else is in
                it; refused while a sync of the connection runs, or when a view depends on a table.
                """,
            synopsis: "[DIR] [--table NAME [--state-key KEY]] [--yes] [options]"
        ) { options in
            let directory = FilePaths.absolute(options.directory)
            do {
                if let postgres = try SyncRunner.postgresDestination(
                    directory: directory, destination: options.destination.destination, schema: options.destination.schema)
                {
                    if let table = options.table {
                        return try resetTable(
                            table, stateKey: options.stateKey, of: postgres.target.location(connector: postgres.connector), yes: options.yes
                        ) { () throws(SyncFailure) in
                            try PostgresDestination.resetTable(
                                postgres.target, connector: postgres.connector, table: table, stateKey: options.stateKey)
                        }
                    }
                    return try resetPostgres(postgres.target, connector: postgres.connector, confirmed: options.yes)
                }
            } catch let error as SyncFailure {
                writeError("error: \(error.message)")
                return 1
            }
            let files = options.files.workspace(directory: directory)
            if let table = options.table { return try resetTable(table, stateKey: options.stateKey, files: files, yes: options.yes) }
            let existing = files.existingFiles
            guard !existing.isEmpty else {
                print("nothing to reset: \(files.warehouse) and \(files.state) do not exist")
                return 0
            }
            if !options.yes {
                guard isatty(0) == 1 else {
                    throw UsageError("reset deletes \(existing.joined(separator: ", ")); pass --yes to confirm when not on a terminal")
                }
                print("Delete \(existing.joined(separator: ", "))? [y/N] ", terminator: "")
                guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                    print("nothing deleted")
                    return 1
                }
            }
            // The library refuses while a sync holds the lock, and deletes only the host's own files.
            do throws(SyncFailure) {
                let deleted = try files.reset()
                print("deleted \(deleted.joined(separator: ", "))")
                return 0
            } catch {
                writeError("error: \(error.message)")
                return 1
            }
        }
    }

    /// `reset` of a PostgreSQL destination: lists the tables, asks, drops them.
    private static func resetPostgres(_ target: PostgresTarget, connector: String, confirmed: Bool) throws -> Int32 {
        let tables = try PostgresDestination.resettableTables(target, connector: connector)
        let location = target.location(connector: connector)
        guard !tables.isEmpty else {
            print("nothing to reset: \(location) holds no tables of connector-host")
            return 0
        }
        let listed = tables.joined(separator: ", ")
        if !confirmed {
            guard isatty(0) == 1 else {
                throw UsageError("reset drops the tables \(listed) of \(location); pass --yes to confirm when not on a terminal")
            }
            print("Drop the tables \(listed) of \(location)? [y/N] ", terminator: "")
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                print("nothing deleted")
                return 1
            }
        }
        let dropped = try PostgresDestination.reset(target, connector: connector)
        print("dropped \(dropped.joined(separator: ", ")) in \(target.address)")
        return 0
    }
}

extension CommandLineInterface {
    /// `reset --table NAME [--state-key KEY]`.
    static func resetTable(_ table: String, stateKey: String?, files: WorkspaceFiles, yes: Bool) throws -> Int32 {
        try resetTable(table, stateKey: stateKey, of: files.warehouse, yes: yes) { () throws(SyncFailure) in
            try files.resetTable(table, stateKey: stateKey)
        }
    }

    /// `reset --table` of the warehouse at `location` (an SQLite file, or a PostgreSQL schema): asks, then `reset`s.
    static func resetTable(
        _ table: String, stateKey: String?, of location: String, yes: Bool, reset: () throws(SyncFailure) -> TableReset
    ) throws -> Int32 {
        let what = "table \(table) of \(location)" + (stateKey.map { " and the key \($0) of the state" } ?? "")
        if !yes {
            guard isatty(0) == 1 else { throw UsageError("reset drops the \(what); pass --yes to confirm when not on a terminal") }
            print("Drop the \(what)? [y/N] ", terminator: "")
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                print("nothing changed")
                return 1
            }
        }
        do throws(SyncFailure) {
            let reset = try reset()
            print("dropped table \(reset.table) (\(reset.rows) row\(reset.rows == 1 ? "" : "s")); the next run creates it again")
            if let key = reset.stateKey, let state = reset.state {
                print("removed \(key) from the state: \(Redaction.maskedJSON(state))")
            }
            return 0
        } catch {
            if error.isUsageError { throw UsageError(error.message) }
            writeError("error: \(error.message)")
            return 1
        }
    }
}
