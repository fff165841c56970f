import CConnectorSQLite
import ConnectorProtocol

extension Warehouse {
    /// The state stored with the last checkpoint (compact JSON), or `nil` before the first one.
    public func storedState() throws(SQLiteError) -> String? {
        let rows = try database.query(#"SELECT "state" FROM "_connector_state" WHERE "id" = 1"#)
        if case .text(let state)? = rows.first?.first { return state }
        return nil
    }

    /// Records the start of a sync (committed on its own, so even a crash leaves a trace) and opens
    /// the sync's transaction.
    /// - Returns: the sync's history id.
    /// - Parameters:
    ///   - connector: the connector's name as the host knows it (manifest or folder).
    ///   - reported: the name and version the connector reported in `initialize`, recorded too.
    ///   - provenance: the connection and package the sync runs, for `run --connection`.
    public func beginSync(connector: String, reported: PeerInfo? = nil, provenance: SyncProvenance? = nil) throws(SQLiteError) -> Int64 {
        try database.run(#"UPDATE "_connector_syncs" SET "status" = 'interrupted' WHERE "status" = 'running'"#)
        try database.run(
            #"INSERT INTO "_connector_syncs" ("started_at", "status", "connector", "connector_name", "connector_version", "connection", "package_id", "package_sha256") VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7)"#,
            [
                .text(TemporalValues.nowUTC()), .text(connector), reported.map { .text($0.name) } ?? .null,
                reported.map { .text($0.version) } ?? .null, provenance.map { .text($0.connection) } ?? .null,
                provenance.map { .text($0.packageID) } ?? .null, provenance.map { .text($0.packageSHA256) } ?? .null,
            ])
        let id = try database.query("SELECT last_insert_rowid()").first?.first
        try database.beginTransaction(.immediate)
        try upgradeRowHashes()
        counts = OperationCounts()
        committedCounts = OperationCounts()
        syncWarnings = []
        schemaChangesReset()
        guard case .integer(let syncID)? = id else { return 0 }
        return syncID
    }

    /// Takes and releases the write lock, so that a read-only file or another program writing to the
    /// warehouse is reported before the connector starts.
    public func probeWriteAccess() throws(SQLiteError) {
        if database.isReadOnly {
            throw SQLiteError(code: SQLITE_READONLY, message: "the file is not writable", sql: nil)
        }
        try database.beginTransaction(.immediate)
        try database.rollback()
    }

    /// The stored state with what the host knows of its mirror, or `nil` before the first checkpoint.
    func storedStateRecord() throws(SQLiteError) -> StoredState? {
        let rows = try database.query(
            #"SELECT "state", "mirror", "mirror_identity", "previous_mirror_identity" FROM "_connector_state" WHERE "id" = 1"#)
        guard let row = rows.first, case .text(let state) = row[0] else { return nil }
        func text(_ value: SQLiteValue) -> String? { if case .text(let text) = value { return text } else { return nil } }
        return StoredState(state: state, mirror: text(row[1]), mirrorIdentity: text(row[2]), previousMirrorIdentity: text(row[3]))
    }

    /// Commits every operation so far together with `state` (compact JSON). The caller opens the
    /// next transaction with ``beginTransaction()`` once the checkpoint is acknowledged, so a failure
    /// there is never mistaken for a failed commit.
    /// `mirror` is the state file the host is about to rename into place and that file's identity,
    /// kept (with the previous checkpoint's) to tell its own mirror from a file the user edited.
    public func checkpoint(state: String, mirror: (path: String, identity: String?)? = nil) throws(SQLiteError) {
        try database.run(
            #"INSERT INTO "_connector_state" ("id", "state", "updated_at", "mirror", "mirror_identity") VALUES (1, ?1, ?2, ?3, ?4) ON CONFLICT ("id") DO UPDATE SET "state" = excluded."state", "updated_at" = excluded."updated_at", "previous_mirror_identity" = CASE WHEN "mirror" = excluded."mirror" THEN "mirror_identity" END, "mirror" = excluded."mirror", "mirror_identity" = excluded."mirror_identity""#,
            [
                .text(state), .text(TemporalValues.nowUTC()), mirror.map { .text($0.path) } ?? .null,
                mirror?.identity.map(SQLiteValue.text) ?? .null,
            ])
        try files.journal(in: SQLiteFileJournal(database: database))
        try database.commit()
        finishFileMoves()
        counts.checkpoints += 1
        committedCounts = counts
        schemaChangesCommitted()
    }

    /// Opens the transaction that collects the operations up to the next checkpoint.
    public func beginTransaction() throws(SQLiteError) {
        try database.beginTransaction(.immediate)
    }

    /// Commits the operations since the last checkpoint (the state stays the last checkpointed one)
    /// and records the sync as successful, in the same transaction.
    /// - Parameter status: `succeeded`, or `limited` for a sample sync stopped at `run --limit`.
    public func finishSync(id: Int64, status: String = "succeeded") throws(SQLiteError) {
        try recordSyncEnd(id: id, status: status, error: nil)
        try files.journal(in: SQLiteFileJournal(database: database))
        try database.commit()
        finishFileMoves()
        files.closeStaging(keeping: files.journaledSources(in: SQLiteFileJournal(database: database)))
        committedCounts = counts
        schemaChangesCommitted()
    }

    /// Undoes everything since the last checkpoint and records the failure.
    public func failSync(id: Int64, status: String, error: String) {
        rollback()
        files.closeStaging(keeping: files.journaledSources(in: SQLiteFileJournal(database: database)))
        try? recordSyncEnd(id: id, status: status, error: error)
    }

    /// Undoes everything since the last checkpoint.
    public func rollback() {
        try? database.rollback()
        files.discard()
        try? loadMetadata()
        // The report lists the schema changes that stay, and only counts those that went.
        schemaChangesRolledBack()
    }

    /// Carries out the file moves and removals just committed; what fails is said (the rows stay
    /// committed; the journal keeps the moves for the next open).
    func finishFileMoves() {
        for problem in files.carryOut(in: SQLiteFileJournal(database: database)) { warningHandler?("warning: " + problem) }
    }

    /// Creates the folder the connector stages files in (`fileStaging` in `update`), emptied of what
    /// an earlier sync left there.
    public func prepareFileStaging() throws(SyncFailure) -> String? {
        try files.prepareStaging(keeping: files.journaledSources(in: SQLiteFileJournal(database: database)))
        return files.stagingRoot
    }

    func recordSyncEnd(id: Int64, status: String, error: String?) throws(SQLiteError) {
        try WarehouseCatalog.recordSyncEnd(
            in: database, id: id, status: status, counts: counts, error: error, at: TemporalValues.nowUTC())
        if !syncWarnings.isEmpty {
            try database.run(
                #"UPDATE "_connector_syncs" SET "warning_messages" = ?1 WHERE "id" = ?2"#,
                [.text(JSONWriter.string(.array(syncWarnings.map(JSONValue.string)))), .integer(id)])
        }
    }
}

/// The state row: the committed state and what the host knows of the mirror it wrote.
struct StoredState {
    var state: String
    /// The state file the last checkpoint mirrored to, and its identity then.
    var mirror: String?
    var mirrorIdentity: String?
    /// The identity of the mirror of the checkpoint before (same file): a mirror left one checkpoint
    /// behind by a host killed between commit and rename still has it.
    var previousMirrorIdentity: String?
}
