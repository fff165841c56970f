import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `connector-host reset`: deleting a workspace, safely.
extension WorkspaceFiles {
    /// The files of the workspace that exist (what `reset` would delete).
    package var existingFiles: [String] {
        ([warehouse] + warehouseCompanions + [state, temporaryState, lock]).filter { SafeFile.kind(of: $0) != .missing }
    }

    /// Deletes the warehouse (with SQLite's companion files), the state file and the lock file.
    ///
    /// Refuses, deleting nothing, when a sync holds the lock (deleting its files would make it commit
    /// checkpoints into deleted files, and let a second run start beside it), or when any of the
    /// files is not the host's own (``checkOwnership(configuration:manifest:)``; a warehouse must
    /// also be a connector-host warehouse). The lock is held while deleting and removed last, so no
    /// run can start in between.
    /// - Returns: the deleted paths.
    /// - Throws: ``SyncFailure``.
    package func reset() throws(SyncFailure) -> [String] {
        let configuration = directory + "/configuration.json"
        let manifest = directory + "/" + ConnectorLauncher.manifestName
        try checkOwnership(
            configuration: SafeFile.kind(of: configuration) == .missing ? nil : configuration,
            manifest: SafeFile.kind(of: manifest) == .missing ? nil : manifest)
        let before = existingFiles
        guard !before.isEmpty else { return [] }
        // The lock first: a running sync is the reason to refuse (not its warehouse, busy as it is
        // written), and no sync starts while the warehouse is checked and deleted.
        let lock = try WorkspaceLock(path: self.lock, refusal: "cannot reset: another connector-host")
        try checkIsConnectorHostWarehouse()
        let existing = existingFiles
        var deleted: [String] = []
        for path in existing where path != self.lock {
            guard unlink(path) == 0 || errno == ENOENT else {
                throw SyncFailure(.warehouse, "cannot delete \(path): \(String(cString: strerror(errno)))")
            }
            deleted.append(path)
        }
        // The files rows carried (PROTOCOL.md 6.11) go with the warehouse.
        let folder = (warehouse as NSString).deletingLastPathComponent
        for tree in [folder + "/storage", folder + "/.connector-host-staging"] where SafeFile.kind(of: tree) != .missing {
            do { try FileManager.default.removeItem(atPath: tree) } catch {
                throw SyncFailure(.warehouse, "cannot delete \(tree): \(error.localizedDescription)")
            }
            deleted.append(tree)
        }
        unlink(self.lock)
        withExtendedLifetime(lock) {}
        return deleted + (before.contains(self.lock) ? [self.lock] : [])
    }

    /// A non-empty warehouse file is an SQLite database with the host's metadata tables: `reset`
    /// deletes no other database.
    func checkIsConnectorHostWarehouse() throws(SyncFailure) {
        guard case .regular(let size, _, _, _) = SafeFile.kind(of: warehouse), size > 0 else { return }
        let known: Bool
        do {
            let database = try SQLiteDatabase(readOnlyPath: warehouse)
            known =
                try database.query(#"SELECT count(*) FROM "sqlite_master" WHERE "name" = '_connector_tables'"#).first?.first
                == .integer(1)
        } catch {
            throw SyncFailure(.warehouse, "cannot read the warehouse \(warehouse) (\(error.message)); reset deleted nothing")
        }
        guard known else {
            throw SyncFailure(
                .warehouse,
                "the warehouse \(warehouse) is an SQLite database but not a connector-host warehouse (it has no _connector_tables); reset deletes nothing of it. Delete it yourself if it is yours, or choose another --warehouse"
            )
        }
    }
}
