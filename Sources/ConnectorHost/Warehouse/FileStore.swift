import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files rows carry (Fivetran's `FileUpload`, PROTOCOL.md section 6.11): staged by the connector
/// in a private folder, moved into `storage/` beside the warehouse when the checkpoint that covers
/// their row commits, removed when no row points to them any more.
///
/// The moves and removals a commit decides are written to `_connector_file_moves` in the committed
/// transaction and carried out right after it; a crash in between leaves them there, and the next
/// open of the warehouse finishes them (every step can be repeated: a staged file has a name used
/// once, a removal of a missing file does nothing). Confined to the sync thread, like the warehouse.
/// The journal is the destination's (``FileJournal``): SQLite's file, or the PostgreSQL schema.
final class FileStore {
    /// `storage/` beside the warehouse file.
    let storageRoot: String
    /// The folder the connector stages files in (`fileStaging` in `update`), beside `storage/`, so a
    /// move is a rename on one file system.
    let stagingRoot: String

    /// A file to move into storage at the next commit.
    struct Move {
        var source: String
        /// Relative to ``storageRoot``.
        var destination: String
    }

    /// Moves decided since the last commit, in order.
    private(set) var pendingMoves: [Move] = []
    /// Stored paths (relative to the storage root) that a row pointed to before it was given another
    /// file, by SQLite table and file-path value: removed at the commit when no row points to them.
    private(set) var replaced: [(table: String, column: String, value: String, stored: String)] = []

    init(warehousePath: String) {
        let folder = (warehousePath as NSString).deletingLastPathComponent
        storageRoot = folder + "/storage"
        stagingRoot = folder + "/.connector-host-staging"
    }

    /// Creates the staging folder (user-only) and empties it of files no journal entry needs.
    func prepareStaging(keeping needed: Set<String>) throws(SyncFailure) {
        do {
            try FileManager.default.createDirectory(
                atPath: stagingRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw SyncFailure(.warehouse, "cannot create the file staging folder \(stagingRoot): \(error.localizedDescription)")
        }
        chmod(stagingRoot, 0o700)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: stagingRoot)) ?? [] {
            let path = stagingRoot + "/" + name
            if !needed.contains(path) { unlink(path) }
        }
    }

    /// Empties the staging folder of files no journal entry needs and removes it when empty (at the
    /// end of a sync: a connector that staged a file and never sent its op leaves nothing behind).
    func closeStaging(keeping needed: Set<String>) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: stagingRoot)) ?? [] {
            let path = stagingRoot + "/" + name
            if !needed.contains(path) { unlink(path) }
        }
        rmdir(stagingRoot)
    }

    /// The folder of a table's files: `<schema>/<table>` as `fivetran debug` names them (the default
    /// schema is `tester`, schema `S` is `tester_<s>`; the table as the connector named it).
    static func tableFolder(schema: String?, table: String) -> String {
        let folder = schema.map { "tester_" + FivetranNames.schema($0) } ?? "tester"
        return folder + "/" + table
    }

    /// Checks a `file` member's `path` (relative, inside the table's folder) and `source` (a regular
    /// file directly in the staging folder, of `size` bytes).
    func check(path: String, source: String, size: Int64?) -> String? {
        if path.isEmpty { return "\"file\".path is empty; name the file, e.g. \"reports/a.pdf\"" }
        if path.utf8.contains(0) { return "\"file\".path contains a NUL character" }
        if path.hasPrefix("/") { return "\"file\".path \(NameRules.quoted(path)) is absolute; give it relative to the table's folder" }
        if path.hasSuffix("/") { return "\"file\".path \(NameRules.quoted(path)) ends with \"/\"; it must name a file" }
        if path.contains("//") { return "\"file\".path \(NameRules.quoted(path)) contains \"//\"; separate folders with one \"/\"" }
        if path.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
            return "\"file\".path \(NameRules.quoted(path)) has a \".\" or \"..\" segment; paths stay inside the table's folder"
        }
        guard (source as NSString).deletingLastPathComponent == stagingRoot, !source.hasSuffix("/.."), !source.hasSuffix("/.") else {
            return
                "\"file\".source \(NameRules.quoted(source)) is not a file of the staging folder \(stagingRoot) given in update's fileStaging"
        }
        var info = stat()
        guard lstat(source, &info) == 0 else {
            return "\"file\".source \(NameRules.quoted(source)) does not exist: \(String(cString: strerror(errno)))"
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return "\"file\".source \(NameRules.quoted(source)) is not a regular file" }
        if let size, size != Int64(info.st_size) {
            return "\"file\".size is \(size) but \(NameRules.quoted(source)) holds \(info.st_size) bytes"
        }
        return nil
    }

    /// Stages a move of `source` to `destination` (relative) for the next commit.
    func stage(_ source: String, to destination: String) {
        pendingMoves.append(Move(source: source, destination: destination))
    }

    /// Notes that a row of `table` pointed to `stored` (its file-path `value`) before it was given another file.
    func noteReplaced(table: String, column: String, value: String, stored: String) {
        replaced.append((table, column, value, stored))
    }

    /// Writes the moves and removals of this commit to the journal, inside the open transaction:
    /// a staged file no row points to (an update that found no row) is dropped, and a replaced file
    /// is removed when no row points to it any more (a move to it is then dropped too).
    func journal<Journal: FileJournal>(in journal: Journal) throws(Journal.Failure) {
        guard !pendingMoves.isEmpty || !replaced.isEmpty else { return }
        var removals: [String] = []
        var seen: Set<String> = []
        for entry in replaced where seen.insert(entry.table + "\u{1F}" + entry.stored).inserted {
            if try !journal.anyRow(of: entry.table, column: entry.column, is: entry.value) { removals.append(entry.stored) }
        }
        let removed = Set(removals)
        var moves: [Move] = []
        for move in pendingMoves {
            if removed.contains(move.destination) { unlink(move.source) } else { moves.append(move) }
        }
        for move in moves { try journal.appendMove(source: move.source, destination: move.destination) }
        for path in removals { try journal.appendMove(source: nil, destination: path) }
        pendingMoves = []
        replaced = []
    }

    /// Carries out the journal after its commit (or at open, after a crash), then empties it.
    /// - Returns: what could not be done (the destination stays correct; the message says what to fix).
    @discardableResult
    func carryOut<Journal: FileJournal>(in journal: Journal) -> [String] {
        let moves = journal.recordedMoves()
        guard !moves.isEmpty else { return [] }
        var problems: [String] = []
        for (source, destination) in moves {
            let target = storageRoot + "/" + destination
            if let source {
                guard access(source, F_OK) == 0 else { continue }  // moved already
                let folder = (target as NSString).deletingLastPathComponent
                try? FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                if rename(source, target) != 0 {
                    problems.append("cannot move a file to \(target): \(String(cString: strerror(errno)))")
                }
            } else {
                if unlink(target) == 0 { removeEmptyFolders(above: target) }
            }
        }
        if problems.isEmpty { journal.clearMoves() }
        return problems
    }

    /// The staged files of the journal (kept when the staging folder is emptied).
    func journaledSources<Journal: FileJournal>(in journal: Journal) -> Set<String> {
        Set(journal.recordedMoves().compactMap(\.source))
    }

    /// Forgets (and deletes) what was staged since the last commit: its rows were rolled back.
    func discard() {
        for move in pendingMoves { unlink(move.source) }
        pendingMoves = []
        replaced = []
    }

    private func removeEmptyFolders(above path: String) {
        var folder = (path as NSString).deletingLastPathComponent
        while folder.count > storageRoot.count, folder.hasPrefix(storageRoot + "/"), rmdir(folder) == 0 {
            folder = (folder as NSString).deletingLastPathComponent
        }
    }
}

/// Where a ``FileStore`` keeps its journal (`_connector_file_moves`) and asks whether a row still
/// points to a file: the destination's own database, in the sync's open transaction, so the moves
/// a checkpoint decides commit with it.
protocol FileJournal {
    associatedtype Failure: Error
    /// Whether some row of `table` (live or soft-deleted) holds `value` in `column`.
    func anyRow(of table: String, column: String, is value: String) throws(Failure) -> Bool
    /// Records a move of the staged `source` to `destination` (relative to the storage root), or
    /// with no source the removal of `destination`.
    func appendMove(source: String?, destination: String) throws(Failure)
    /// The recorded moves, in order (none when the journal cannot be read).
    func recordedMoves() -> [(source: String?, destination: String)]
    /// Empties the journal once its moves are carried out.
    func clearMoves()
}
