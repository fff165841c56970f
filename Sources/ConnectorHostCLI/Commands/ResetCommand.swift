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
    var yes = false

    static var arguments: [Argument<Self>] {
        [.directory(\.directory)] + .group(\.files) + [.flag("yes", \.yes, help: "do not ask for confirmation")]
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
                """,
            synopsis: "[DIR] [--yes] [options]"
        ) { options in
            let files = options.files.workspace(directory: FilePaths.absolute(options.directory))
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
}
