import ConnectorProtocol

/// What a sync needs from where its data goes (DESIGN.md section 6): the catalog and its schema
/// changes (``DestinationCatalog``), the validated operations of the record path, a checkpoint that
/// commits the data together with the state, a rollback to the last checkpoint, and the sync history.
///
/// Opening and locking are the destination's own (a lock file beside an SQLite warehouse, an
/// advisory lock in PostgreSQL) and happen before a session starts. ``Warehouse`` (SQLite, the
/// embedded default) and ``PostgresDestination`` implement it. The session and the record applier
/// are generic over it, so each is compiled for each destination: the record path has no dynamic
/// dispatch. Like the SQLite connection, a destination is confined to the sync's thread.
protocol Destination: DestinationCatalog {
    /// How the destination reports its own failures (``SQLiteError``, ``PostgresError``).
    associatedtype Failure: Error

    /// Where the data goes, for messages: a file path, or a URI without its password and a schema.
    var location: String { get }
    /// Masks the configuration's secrets in the messages the destination makes (a value quoted in an
    /// invalid-operation message, say).
    var redactor: Redactor { get set }
    /// The counts as of the last commit (a checkpoint, or the end of the sync).
    var committedCounts: OperationCounts { get }
    /// The connector's warnings shown in this sync (the first ten), recorded in its history.
    var syncWarnings: [String] { get set }

    /// The state stored with the last checkpoint (compact JSON), or `nil` before the first one.
    func storedState() throws(Failure) -> String?
    /// The stored state with what the destination knows of its mirror file, or `nil` before the first checkpoint.
    func storedStateRecord() throws(Failure) -> StoredState?
    /// Fixes how the destination lands data (naming, system columns) on its first sync and records
    /// it; later syncs keep what is recorded. Returns a warning when `naming` or `strings` (how
    /// strings type undeclared columns, PROTOCOL.md 6.6) is not what it keeps.
    func settle(naming: NamingStrategy?, fivetranConnector: Bool, strings: StringTyping?) throws(Failure) -> String?
    /// Records the start of a sync in the history (committed on its own, so even a crash leaves a
    /// trace) and opens the sync's transaction.
    /// - Parameters:
    ///   - reported: the connector's own name and version, from its `initialize` answer.
    ///   - provenance: the connection and package the sync runs, for `run --connection`.
    /// - Returns: the sync's history id.
    func beginSync(connector: String, reported: PeerInfo?, provenance: SyncProvenance?) throws(Failure) -> Int64
    /// Creates declared tables, adds new columns and widens changed types (``DestinationCatalog``).
    /// - Throws: ``SchemaConflict``, or `Failure`.
    func apply(schema: [TableDefinition]) throws
    /// Commits every operation so far together with `state` (compact JSON); `mirror` is the state
    /// file about to be renamed into place and its identity, when the state is mirrored.
    func checkpoint(state: String, mirror: (path: String, identity: String?)?) throws(Failure)
    /// Opens the transaction that collects the operations up to the next checkpoint.
    func beginTransaction() throws(Failure)
    /// Commits the operations since the last checkpoint (the state stays the last checkpointed one)
    /// and records the sync's end with `status` ("succeeded", or "limited" after `run --limit`), in the same transaction.
    func finishSync(id: Int64, status: String) throws(Failure)
    /// Undoes everything since the last checkpoint and records the failure.
    func failSync(id: Int64, status: String, error: String)
    /// Undoes everything since the last checkpoint.
    func rollback()

    /// Sets the `_connector_synced` time of the operations that follow.
    func setSyncedTime(_ time: String)
    /// Applies an upsert: the whole row (columns left out become NULL), the delete flag cleared.
    /// - Throws: ``OperationProblem`` for an operation that cannot be applied, `Failure`.
    func upsert(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?) throws
    /// Applies a partial update of the named columns; a missing row is a counted no-op.
    func update(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?) throws
    /// Applies a soft delete; a missing row is a counted no-op.
    func delete(_ table: WarehouseTable, _ fields: [Field], _ source: RecordSource) throws
    /// Soft-deletes every live row of the table.
    func truncate(_ table: WarehouseTable) throws

    /// Creates the folder the connector stages files in (`fileStaging` in `update`, PROTOCOL.md
    /// 6.11), emptied of what an earlier sync left there; `nil` when the destination stores no files.
    func prepareFileStaging() throws(SyncFailure) -> String?
    /// Why an op's `file` member cannot be stored (its path, its staged source, its size), or `nil`.
    func fileProblem(path: String, source: String, size: Int64?) -> String?
    /// Applies an upsert or update whose row carries a file (PROTOCOL.md 6.11); `sourceTable` and
    /// `sourceSchema` are the names the connector sent (the storage folders use them).
    func apply(
        _ kind: OperationKind, _ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?,
        file: FileAttachment, sourceTable: String, sourceSchema: String?
    ) throws

    /// One message for people: what failed, in which destination, while `action` (e.g. "applying
    /// stdout line 12"), and what to do about it.
    func problem(_ error: Failure, while action: String) -> String
}

extension Warehouse: Destination {
    var location: String { path }

    func fileProblem(path: String, source: String, size: Int64?) -> String? {
        files.check(path: path, source: source, size: size)
    }

    func problem(_ error: SQLiteError, while action: String) -> String {
        WarehouseProblem.message(error, path: path, while: action)
    }
}

extension SyncRunner {
    /// The PostgreSQL destination of the connector in `directory` for the commands other than `run`
    /// (`inspect`, `reset`), chosen as `run` chooses it: `destination` (`--destination`, with
    /// `schema`), else the manifest's `"destination"`; `nil` for the SQLite warehouse.
    /// - Returns: the destination and the connector's name (the default schema).
    package static func postgresDestination(directory: String, destination: PostgresAddress?, schema: String?) throws(SyncFailure)
        -> (target: PostgresTarget, connector: String)?
    {
        let plan = try? ConnectorLauncher.plan(directory: directory)
        let connector = plan?.name ?? FilePaths.absolute(directory).split(separator: "/").last.map(String.init) ?? directory
        var options = SyncOptions(directory: directory)
        options.postgres = destination.map { PostgresTarget(address: $0, schema: schema ?? plan?.destinationSchema) }
        options.schema = schema
        let manifestless = LaunchPlan(name: connector, directory: directory, arguments: [], environment: [:], kind: .manifest)
        return try Self.destination(options, plan ?? manifestless).map { ($0, connector) }
    }
}
