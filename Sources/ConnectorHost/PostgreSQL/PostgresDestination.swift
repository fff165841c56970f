import ConnectorProtocol
import Foundation

/// A PostgreSQL destination of a sync: the server, and the schema that holds the connector's
/// tables, metadata, state and history.
public struct PostgresTarget: Sendable, Equatable {
    public var address: PostgresAddress
    /// The schema; the connector's name when `nil`.
    public var schema: String?

    public init(address: PostgresAddress, schema: String? = nil) {
        self.address = address
        self.schema = schema
    }

    /// The schema a connector named `connector` syncs into.
    public func schemaName(connector: String) -> String { schema ?? connector }

    /// The destination for messages: the URI without its password, and the schema.
    public func location(connector: String) -> String {
        "schema \(NameRules.quoted(schemaName(connector: connector))) of \(address)"
    }
}

/// The PostgreSQL destination: the same tables, system columns, metadata, state and history as the
/// SQLite warehouse, in one schema of a PostgreSQL database, with native column types
/// (``PostgresTypes``).
///
/// As in SQLite, everything between two checkpoints is one open transaction, and a checkpoint is
/// its COMMIT with the state row: any machine can run the connection next and resume exactly. The
/// record path collects operations into runs of one table and kind and sends each run in bulk
/// (COPY; PostgresDestination+Operations.swift) before anything that must see its rows. A
/// session-level advisory lock per schema (``PostgresLock``) keeps a second run of the same
/// connection out, from any machine; it goes with the session, so a killed host releases it.
///
/// Confined to the sync's thread, like its connection.
package final class PostgresDestination: Destination {
    let connection: PostgresConnection
    let target: PostgresTarget
    /// The schema's name and its quoted form.
    let schemaName: String
    let schema: String
    let location: String
    let lock: PostgresLock
    /// Whether the schema holds the host's tables (always after ``open(_:connector:creating:)`` with creating).
    private(set) var hasCatalog = true

    var tables: [String: WarehouseTable] = [:]
    var tableNamesByFoldedName: [String: String] = [:]
    var settings = WarehouseSettings.legacy
    var tablesBySource: [SourceTableName: WarehouseTable] = [:]
    var sourceNameOfTable: [String: SourceTableName] = [:]
    var warned: Set<String> = []
    var warningHandler: (@Sendable (String) -> Void)?
    @exclusivity(unchecked) var counts = OperationCounts()
    private(set) var committedCounts = OperationCounts()
    var redactor = Redactor.none
    /// PostgreSQL's columns per table (MaxHeapAttributeNumber, fixed at build time).
    let tableColumnLimit = 1600
    var tableColumnLimitSource: String { "PostgreSQL allows 1,600 columns per table" }
    var schemaChangeLog: [String] = []
    var committedSchemaChanges = 0
    var rolledBackSchemaChanges = 0
    /// The connector's warnings shown in this sync (the first ten), recorded in its history.
    var syncWarnings: [String] = []
    var undeclaredTablesCreated: [String] = []

    // The record path (PostgresDestination+Operations.swift). Confined to one thread and never
    // accessed while another access is in progress, like the SQLite warehouse's.
    @exclusivity(unchecked) var binder = ValueBinder()
    @exclusivity(unchecked) var encoder = PostgresRowEncoder()
    @exclusivity(unchecked) var syncedTime: [UInt8] = []
    @exclusivity(unchecked) var hashScratch: [(name: [UInt8], value: CanonicalValue)] = []
    @exclusivity(unchecked) var columnIndexes: [Int] = []
    @exclusivity(unchecked) var run = PostgresRun()
    /// Tables whose rows were found to exist already in this sync: their upserts are merged, not copied.
    var mergedTables: Set<String> = []
    /// Staging tables of this transaction, by table and run shape.
    var stagingTables: [String: String] = [:]
    /// The files rows carry (PostgresDestination+Files.swift); `nil` until the sync attaches them.
    var files: FileStore?

    private init(connection: PostgresConnection, target: PostgresTarget, schemaName: String, lock: PostgresLock, location: String) {
        self.connection = connection
        self.target = target
        self.schemaName = schemaName
        self.schema = quoteIdentifier(schemaName)
        self.lock = lock
        self.location = location
    }

    /// Connects, takes the connection's lock, and creates the schema and the host's tables in it
    /// when they are missing (unless `creating` is false: for `reset`).
    /// - Throws: a ``SyncFailure`` naming the server (without password) and what to do: the server
    ///   cannot be reached or refuses the login, another host syncs the same schema (naming it),
    ///   the user may not create the schema, the database is not UTF-8.
    static func open(_ target: PostgresTarget, connector: String, creating: Bool = true) throws(SyncFailure) -> PostgresDestination {
        let schemaName = target.schemaName(connector: connector)
        let location = target.location(connector: connector)
        if let problem = NameRules.problem(schemaName, what: "schema") ?? PostgresNames.problem(schemaName, what: "schema") {
            throw SyncFailure(.configuration, "\(problem); choose another with --schema")
        }
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(
                address: target.address, applicationName: PostgresLock.applicationName(connector: connector))
        } catch {
            throw SyncFailure(
                .warehouse,
                "cannot connect to the destination \(target.address): \(error.message). Check that the server runs and the URI's host, port, user, password and database are right"
            )
        }
        func failure(_ error: PostgresError, _ action: String) -> SyncFailure {
            SyncFailure(.warehouse, PostgresProblem.message(error, location: location, while: action))
        }
        do {
            try connection.execute(
                """
                SET client_min_messages = warning; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD';
                SET extra_float_digits = 1; SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10;
                SET tcp_keepalives_count = 3
                """)
            let encoding = try connection.scalar("SHOW server_encoding")
            guard encoding == "UTF8" else {
                throw SyncFailure(
                    .warehouse,
                    "the destination database \(target.address) has the encoding \(encoding ?? "?"); connector-host stores UTF-8 text exactly, so it needs a database created with ENCODING 'UTF8'"
                )
            }
        } catch let error as PostgresError {
            throw failure(error, "preparing the session")
        } catch let error as SyncFailure {
            throw error
        } catch {
            throw SyncFailure(.warehouse, "\(error)")
        }
        let lock: PostgresLock
        do { lock = try PostgresLock.acquire(on: connection, schema: schemaName, location: location) } catch let error as SyncFailure {
            throw error
        } catch let error as PostgresError {
            throw failure(error, "taking the connection's lock")
        } catch {
            throw SyncFailure(.warehouse, "\(error)")
        }
        let destination = PostgresDestination(
            connection: connection, target: target, schemaName: schemaName, lock: lock, location: location)
        do {
            if creating {
                try destination.createCatalog()
            } else {
                destination.hasCatalog =
                    try connection.scalar("SELECT to_regclass($1) IS NOT NULL", [destination.schema + ".\"_connector_tables\""]) == "t"
            }
            if destination.hasCatalog { try destination.loadMetadata() }
        } catch {
            throw failure(error, "creating the schema and the host's tables")
        }
        return destination
    }

    /// The schema and the host's tables, as in SQLite with native types; created once, kept after.
    private func createCatalog() throws(PostgresError) {
        try connection.execute(
            """
            CREATE SCHEMA IF NOT EXISTS \(schema);
            CREATE TABLE IF NOT EXISTS \(schema)."_connector_tables" (
                "name" text PRIMARY KEY, "primary_key" text NOT NULL, "created_at" timestamptz NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema)."_connector_columns" (
                "table_name" text NOT NULL, "column_name" text NOT NULL, "position" integer NOT NULL,
                "type" text, "precision" integer, "scale" integer, "declared" boolean NOT NULL,
                PRIMARY KEY ("table_name", "column_name"));
            CREATE TABLE IF NOT EXISTS \(schema)."_connector_state" (
                "id" integer PRIMARY KEY CHECK ("id" = 1), "state" text NOT NULL, "updated_at" timestamptz NOT NULL,
                "mirror" text, "mirror_identity" text, "previous_mirror_identity" text);
            CREATE TABLE IF NOT EXISTS \(schema)."_connector_settings" ("key" text PRIMARY KEY, "value" text NOT NULL);
            CREATE TABLE IF NOT EXISTS \(schema)."_connector_file_moves" (
                "seq" bigserial PRIMARY KEY, "source" text, "destination" text NOT NULL);
            ALTER TABLE \(schema)."_connector_tables" ADD COLUMN IF NOT EXISTS "schema" text;
            CREATE TABLE IF NOT EXISTS \(schema)."_connector_syncs" (
                "id" bigserial PRIMARY KEY, "started_at" timestamptz NOT NULL, "ended_at" timestamptz,
                "status" text NOT NULL, "connector" text, "error" text, "host" text, "warning_messages" text);
            """
                // The counters and the added columns of WarehouseCatalog, also added to a schema an
                // older host made (as WarehouseCatalog.upgrade does for SQLite).
                + WarehouseCatalog.countColumns.map {
                    "ALTER TABLE \(schema).\"_connector_syncs\" ADD COLUMN IF NOT EXISTS \(quoteIdentifier($0.name)) bigint NOT NULL DEFAULT 0;"
                }.joined(separator: " ")
                + WarehouseCatalog.addedSyncColumns.map {
                    "ALTER TABLE \(schema).\"_connector_syncs\" ADD COLUMN IF NOT EXISTS \(quoteIdentifier($0.name)) text;"
                }.joined(separator: " "))
    }

    /// `"schema"."table"`.
    func qualified(_ table: String) -> String { schema + "." + quoteIdentifier(table) }

    /// Reads the table and column metadata into memory (also after a rollback, which may undo DDL).
    func loadMetadata() throws(PostgresError) {
        tables.removeAll()
        tableNamesByFoldedName.removeAll()
        tablesBySource.removeAll()
        sourceNameOfTable.removeAll()
        settings = try storedSettings() ?? .legacy
        for row in try connection.query(#"SELECT "name", "primary_key", "schema" FROM \#(schema)."_connector_tables""#) {
            guard let name = row[0], let keyJSON = row[1] else { continue }
            let primaryKey = (try? JSONParser.parse(keyJSON))?.arrayValue?.compactMap(\.stringValue) ?? []
            tables[name] = WarehouseTable(
                name: name, schema: row[2], primaryKey: primaryKey, system: settings.systemColumns, naming: naming)
            tableNamesByFoldedName[NameRules.folded(name)] = name
        }
        let columnRows = try connection.query(
            #"SELECT "table_name", "column_name", "type", "precision", "scale", "declared" FROM \#(schema)."_connector_columns" ORDER BY "table_name", "position""#
        )
        for row in columnRows {
            guard let tableName = row[0], let columnName = row[1], let table = tables[tableName] else { continue }
            var type: ColumnType?
            if let typeName = row[2], let dataType = DataType(rawValue: typeName) {
                type = ColumnType(dataType, precision: row[3].flatMap { Int($0) }, scale: row[4].flatMap { Int($0) })
            }
            table.appendColumn(WarehouseColumn(name: columnName, type: type, declared: row[5] == "t"))
        }
    }

    func problem(_ error: PostgresError, while action: String) -> String {
        PostgresProblem.message(error, location: location, while: action)
    }

    // MARK: State and history

    func storedState() throws(PostgresError) -> String? {
        try connection.scalar(#"SELECT "state" FROM \#(schema)."_connector_state" WHERE "id" = 1"#)
    }

    func storedStateRecord() throws(PostgresError) -> StoredState? {
        let rows = try connection.query(
            #"SELECT "state", "mirror", "mirror_identity", "previous_mirror_identity" FROM \#(schema)."_connector_state" WHERE "id" = 1"#)
        guard let row = rows.first, let state = row[0] else { return nil }
        return StoredState(state: state, mirror: row[1], mirrorIdentity: row[2], previousMirrorIdentity: row[3])
    }

    /// The settings recorded by the first sync (naming, system columns, string typing), or `nil` before it.
    private func storedSettings() throws(PostgresError) -> WarehouseSettings? {
        var values: [String: String] = [:]
        for row in try connection.query(#"SELECT "key", "value" FROM \#(schema)."_connector_settings""#) {
            if let key = row[0], let value = row[1] { values[key] = value }
        }
        return WarehouseSettings(recorded: values)
    }

    /// Fixes how this destination lands data on its first sync, as the SQLite warehouse does
    /// (``WarehouseSettings/settle(stored:isNew:naming:fivetranConnector:strings:)``), recorded in `_connector_settings`.
    func settle(naming requested: NamingStrategy?, fivetranConnector: Bool, strings: StringTyping?) throws(PostgresError) -> String? {
        let stored = try storedSettings()
        var isNew = false
        if stored == nil, tables.isEmpty { isNew = try storedState() == nil }
        let settled = WarehouseSettings.settle(
            stored: stored, isNew: isNew, naming: requested, fivetranConnector: fivetranConnector, strings: strings)
        if settled.record {
            for (key, value) in settled.settings.recorded {
                try connection.run(
                    #"INSERT INTO \#(schema)."_connector_settings" ("key", "value") VALUES ($1, $2) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value""#,
                    [key, value])
            }
        }
        settings = settled.settings
        return settled.warnings.isEmpty ? nil : settled.warnings.joined(separator: "\n")
    }

    func beginSync(connector: String, reported: PeerInfo?, provenance: SyncProvenance?) throws(PostgresError) -> Int64 {
        // The lock is held: a sync still marked running was a host that died.
        try connection.run(#"UPDATE \#(schema)."_connector_syncs" SET "status" = 'interrupted' WHERE "status" = 'running'"#)
        let id = try connection.scalar(
            #"INSERT INTO \#(schema)."_connector_syncs" ("started_at", "status", "connector", "connector_name", "connector_version", "connection", "package_id", "package_sha256", "host") VALUES (now(), 'running', $1, $2, $3, $4, $5, $6, $7) RETURNING "id""#,
            [
                connector, reported?.name, reported?.version, provenance?.connection, provenance?.packageID, provenance?.packageSHA256,
                lock.holder,
            ])
        try connection.execute("BEGIN")
        counts = OperationCounts()
        committedCounts = OperationCounts()
        schemaChangesReset()
        syncWarnings = []
        mergedTables = []
        return id.flatMap { Int64($0) } ?? 0
    }

    func checkpoint(state: String, mirror: (path: String, identity: String?)?) throws(PostgresError) {
        try flush()
        try connection.run(
            #"INSERT INTO \#(schema)."_connector_state" ("id", "state", "updated_at", "mirror", "mirror_identity") VALUES (1, $1, now(), $2, $3) ON CONFLICT ("id") DO UPDATE SET "state" = excluded."state", "updated_at" = excluded."updated_at", "previous_mirror_identity" = CASE WHEN "_connector_state"."mirror" = excluded."mirror" THEN "_connector_state"."mirror_identity" END, "mirror" = excluded."mirror", "mirror_identity" = excluded."mirror_identity""#,
            [state, mirror?.path, mirror?.identity ?? nil])
        try journalFiles()
        try commit()
        finishFileMoves()
        counts.checkpoints += 1
        committedCounts = counts
        schemaChangesCommitted()
    }

    func beginTransaction() throws(PostgresError) {
        try connection.execute("BEGIN")
    }

    func finishSync(id: Int64, status: String = "succeeded") throws(PostgresError) {
        try flush()
        try recordSyncEnd(id: id, status: status, error: nil)
        try journalFiles()
        try commit()
        finishFileMoves()
        closeFileStaging()
        committedCounts = counts
        schemaChangesCommitted()
    }

    func failSync(id: Int64, status: String, error: String) {
        rollback()
        closeFileStaging()
        try? recordSyncEnd(id: id, status: status, error: error)
    }

    func rollback() {
        abandonStream()
        run.removeAll()
        stagingTables.removeAll()
        files?.discard()
        if connection.transactionStatus != .idle { try? connection.execute("ROLLBACK") }
        try? loadMetadata()
        // The report lists the schema changes that stay, and only counts those that went.
        schemaChangesRolledBack()
    }

    /// COMMIT; the staging tables go with it (ON COMMIT DROP).
    private func commit() throws(PostgresError) {
        try connection.execute("COMMIT")
        stagingTables.removeAll()
    }

    private func recordSyncEnd(id: Int64, status: String, error: String?) throws(PostgresError) {
        // Every counter of WarehouseCatalog.countColumns, the one list the history is written by.
        let columns = WarehouseCatalog.countColumns
        let assignments = columns.enumerated().map { "\(quoteIdentifier($1.name)) = $\($0 + 2)" }.joined(separator: ", ")
        try connection.run(
            #"UPDATE \#(schema)."_connector_syncs" SET "ended_at" = now(), "status" = $1, "#
                + "\(assignments), \"error\" = $\(columns.count + 2) WHERE \"id\" = $\(columns.count + 3)",
            [status] + columns.map { String(counts[keyPath: $0.keyPath]) } + [error, String(id)])
        if !syncWarnings.isEmpty {
            try connection.run(
                #"UPDATE \#(schema)."_connector_syncs" SET "warning_messages" = $1 WHERE "id" = $2"#,
                [JSONWriter.string(.array(syncWarnings.map(JSONValue.string))), String(id)])
        }
    }
}

@available(*, unavailable)
extension PostgresDestination: Sendable {}

/// What PostgreSQL adds to ``NameRules``: identifiers of at most 63 bytes (longer ones would be
/// cut silently, and two long names could become one).
enum PostgresNames {
    static let maximumBytes = 63

    static func problem(_ name: String, what: String) -> String? {
        let length = name.utf8.count
        guard length > maximumBytes else { return nil }
        return
            "\(what) name \(NameRules.quoted(name)) is \(length) bytes long; PostgreSQL names are at most \(maximumBytes) bytes (UTF-8), so shorten it"
    }
}

/// Turns a PostgreSQL failure into one message that names the destination, what the host was
/// doing, and what the user can do.
enum PostgresProblem {
    static func message(_ error: PostgresError, location: String, while action: String) -> String {
        let reason = error.sqlState.map { "\(error.message) [SQLSTATE \($0)]" } ?? error.message
        if error.connectionLost || error.sqlState == nil {
            return
                "the connection to the destination \(location) failed while \(action) (\(reason)); the server rolls back everything after the last checkpoint. Check the server and the network, and run again"
        }
        switch error.sqlState! {
        case .diskFull:
            return
                "the destination \(location) is out of disk space while \(action) (\(reason)); nothing after the last checkpoint was kept. Free space on the database server and run again"
        case .insufficientPrivilege:
            return
                "the destination's user may not do this in \(location) while \(action) (\(reason)); grant it CREATE on the database and the schema (or use the schema's owner), or choose another schema with --schema"
        case .readOnlySQLTransaction:
            return
                "the destination \(location) is read-only (a standby, or default_transaction_read_only) while \(action) (\(reason)); use the primary server"
        default:
            var text = "the destination \(location) failed while \(action): \(reason)"
            if let detail = error.detail { text += " (\(detail))" }
            if let hint = error.hint { text += "; hint: \(hint)" }
            return text + "; nothing after the last checkpoint was kept"
        }
    }
}
