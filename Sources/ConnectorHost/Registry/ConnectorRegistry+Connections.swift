import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ConnectorRegistry {
    /// A connection's files: its folder, configuration, warehouse, state, lock and last log.
    public struct ConnectionFiles: Sendable {
        public let folder: String
        public var configuration: String { folder + "/configuration.json" }
        public var workspace: WorkspaceFiles {
            WorkspaceFiles(directory: folder, warehouse: folder + "/files/warehouse.db", state: folder + "/files/state.json")
        }
        /// Held while the connection syncs (by `run --connection`, whoever started it).
        public var lock: String { folder + "/sync.lock" }
        /// The output of the last sync `schedule` started.
        public var lastLog: String { folder + "/last-sync.log" }
        /// The connection's PostgreSQL destination (`{"uri": ..., "schema": ...}`, 0600: the URI may
        /// hold a password), when it has one instead of the SQLite warehouse.
        public var destination: String { folder + "/destination.json" }
    }

    public func files(of connection: ConnectionRecord) -> ConnectionFiles {
        ConnectionFiles(folder: home.connectionFolder(id: connection.id))
    }

    /// Creates a connection: `package` with the configuration in `configurationPath` (copied into
    /// the registry, 0600), scheduled every `intervalSeconds` when given (its first sync due at once).
    /// With `destination`, it syncs into that PostgreSQL database instead of its own SQLite file, in
    /// the schema the target names, else one named after the connection (so that connections of one
    /// package never share a schema, nor its lock); the URI is kept in the connection's folder (0600)
    /// and shown without its password.
    /// - Throws: ``RegistryError``: a bad name, a name in use, no such package, a configuration that
    ///   is not a JSON object, a schema name PostgreSQL cannot hold.
    public func createConnection(
        name: String, packageID: String, configurationPath: String?, intervalSeconds: Int64?, destination: PostgresTarget? = nil
    ) throws(RegistryError) -> ConnectionRecord {
        try Self.checkName(name)
        _ = try package(packageID)
        let configuration = try configurationPath.map { path throws(RegistryError) in try Self.readConfiguration(path) } ?? "{}\n"
        let destinationJSON = try destination.map { target throws(RegistryError) in
            let schema = target.schema ?? name
            if let problem = NameRules.problem(schema, what: "schema") ?? PostgresNames.problem(schema, what: "schema") {
                throw RegistryError(.failed, "\(problem); choose another with --schema")
            }
            return JSONWriter.string(["uri": .string(target.address.uri), "schema": .string(schema)]) + "\n"
        }
        if try connectionRow(named: name) != nil {
            throw RegistryError(.conflict, "a connection named \"\(name)\" exists already; choose another name, or delete it first")
        }
        let now = RegistryTime.now()
        let record = ConnectionRecord(
            id: Self.randomID(prefix: "conn_"), name: name, packageID: packageID, intervalSeconds: intervalSeconds, paused: false,
            nextSyncAt: intervalSeconds == nil ? nil : now, slotAt: intervalSeconds == nil ? nil : now, createdAt: now,
            createdBy: Self.currentUser, failures: 0, missedSyncs: 0)
        let files = files(of: record)
        try ConnectorHostHome.makeFolder(files.folder)
        try Self.writePrivately(configuration, to: files.configuration)
        if let destinationJSON { try Self.writePrivately(destinationJSON, to: files.destination) }
        do {
            try transaction { () throws(RegistryError) in
                try run(
                    """
                    INSERT INTO connections (id, name, package_id, interval_seconds, paused, next_sync_at, slot_at, created_at, created_by)
                    VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5, ?6, ?7)
                    """,
                    [
                        .text(record.id), .text(name), .text(packageID), intervalSeconds.map(SQLiteValue.integer) ?? .null,
                        record.nextSyncAt.map(SQLiteValue.integer) ?? .null, .integer(now), .text(record.createdBy),
                    ])
            }
        } catch {
            try? FileManager.default.removeItem(atPath: files.folder)
            throw error
        }
        return record
    }

    /// Every connection, by name.
    public func connections() throws(RegistryError) -> [ConnectionRecord] {
        try query("SELECT \(Self.connectionColumns) FROM connections ORDER BY name").map(Self.connectionRecord)
    }

    /// The connection `name`.
    /// - Throws: ``RegistryError`` (`.notFound`) naming the connections that exist.
    public func connection(named name: String) throws(RegistryError) -> ConnectionRecord {
        if let record = try connectionRow(named: name) { return record }
        let known = try connections().map(\.name)
        throw RegistryError(
            .notFound,
            "no connection named \"\(name)\" in \(home.database); "
                + (known.isEmpty
                    ? "create one: connector-host connection create NAME --package ID"
                    : "the connections are \(known.joined(separator: ", ")) (connector-host connection list)"))
    }

    /// Pauses or resumes a connection's schedule. A resumed connection whose due time passed syncs at once.
    public func setPaused(_ name: String, _ paused: Bool) throws(RegistryError) -> ConnectionRecord {
        var record = try connection(named: name)
        try run("UPDATE connections SET paused = ?2 WHERE id = ?1", [.text(record.id), .integer(paused ? 1 : 0)])
        record.paused = paused
        return record
    }

    /// Deletes a connection with its configuration, warehouse, state and history.
    /// - Throws: ``RegistryError`` (`.busy`) while it syncs.
    public func deleteConnection(_ name: String) throws(RegistryError) {
        let record = try connection(named: name)
        let files = files(of: record)
        let lock: FileLock
        switch try FileLock.acquire(files.lock) {
        case .success(let held): lock = held
        case .failure(let holder):
            throw RegistryError(
                .busy, "connection \"\(name)\" is syncing (pid \(holder.pid)); wait for the sync to end, or stop it, then delete it")
        }
        try withExtendedLifetime(lock) { () throws(RegistryError) in
            try transaction { () throws(RegistryError) in
                try run("DELETE FROM syncs WHERE connection_id = ?1", [.text(record.id)])
                try run("DELETE FROM connections WHERE id = ?1", [.text(record.id)])
            }
            try? FileManager.default.removeItem(atPath: files.folder)
        }
    }

    /// The connection's PostgreSQL destination, or `nil` for its SQLite warehouse.
    /// - Throws: ``RegistryError`` when the file is there but unreadable (it was changed by hand).
    public func destination(of connection: ConnectionRecord) throws(RegistryError) -> PostgresTarget? {
        let path = files(of: connection).destination
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let value = try? JSONParser.parse(Array(data))
        guard let uri = value?["uri"]?.stringValue, let schema = value?["schema"]?.stringValue,
            let address = try? PostgresAddress(uri)
        else {
            throw RegistryError(
                .failed,
                "the destination of connection \"\(connection.name)\" (\(path)) is not {\"uri\": \"postgresql://...\", \"schema\": NAME}; it was changed by hand. Restore it, or delete and create the connection again"
            )
        }
        return PostgresTarget(address: address, schema: schema)
    }

    /// The connection's configuration, as stored.
    func configuration(of connection: ConnectionRecord) throws(RegistryError) -> JSONObject {
        let path = files(of: connection).configuration
        guard let data = FileManager.default.contents(atPath: path),
            let object = (try? JSONParser.parse(Array(data)))?.objectValue
        else {
            throw RegistryError(
                .failed, "the configuration of connection \"\(connection.name)\" (\(path)) is missing or is not a JSON object")
        }
        return object
    }

    // MARK: History

    /// The most recent syncs of a connection, newest first.
    public func syncs(of connection: ConnectionRecord, limit: Int = 10) throws(RegistryError) -> [SyncRecord] {
        try query(
            "SELECT \(Self.syncColumns) FROM syncs WHERE connection_id = ?1 ORDER BY id DESC LIMIT ?2",
            [.text(connection.id), .integer(Int64(limit))]
        ).map(Self.syncRecord)
    }

    /// Records the start of a sync; returns its id.
    func beginSync(_ connection: ConnectionRecord, package: PackageRecord, trigger: String, scheduledFor: Int64?, attempt: Int)
        throws(RegistryError) -> Int64
    {
        try transaction { () throws(RegistryError) in
            try run(
                """
                INSERT INTO syncs (connection_id, package_id, file_sha256_hash, trigger, scheduled_for, attempt, started_at, status, pid)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8)
                """,
                [
                    .text(connection.id), .text(package.id), .text(package.sha256), .text(trigger),
                    scheduledFor.map(SQLiteValue.integer) ?? .null, .integer(Int64(attempt)), .integer(RegistryTime.now()),
                    .integer(Int64(getpid())),
                ])
            guard case .integer(let id)? = try query("SELECT last_insert_rowid()").first?.first else { return 0 }
            return id
        }
    }

    /// Records the end of a sync.
    func finishSync(_ id: Int64, status: String, error: String?, rowOperations: Int64?) throws(RegistryError) {
        try run(
            "UPDATE syncs SET finished_at = ?2, status = ?3, error = ?4, row_operations = ?5 WHERE id = ?1",
            [
                .integer(id), .integer(RegistryTime.now()), .text(status), error.map(SQLiteValue.text) ?? .null,
                rowOperations.map(SQLiteValue.integer) ?? .null,
            ])
    }

    // MARK: Helpers

    /// Names: a letter or digit, then letters, digits, `-`, `_` or `.`; at most 64 characters.
    static func checkName(_ name: String) throws(RegistryError) {
        let bytes = Array(name.utf8)
        func allowed(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        }
        guard !bytes.isEmpty, bytes.count <= 64, allowed(bytes[0]),
            bytes.allSatisfy({ allowed($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") })
        else {
            throw RegistryError(
                .failed,
                "\"\(name)\" cannot name a connection: use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. orders-prod)"
            )
        }
    }

    static func readConfiguration(_ path: String) throws(RegistryError) -> String {
        let absolute = FilePaths.absolute(path)
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw RegistryError(.failed, "cannot read the configuration file \(absolute)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(Array(data)) } catch {
            throw RegistryError(.failed, "the configuration file \(absolute) is not valid JSON: \(error)")
        }
        guard value.objectValue != nil else {
            throw RegistryError(.failed, "the configuration file \(absolute) must hold a JSON object, not a \(value.kindName)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `text` to `path` user-only (0600), through a temporary file renamed into place.
    static func writePrivately(_ text: String, to path: String) throws(RegistryError) {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw RegistryError(.failed, "cannot write \(path): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                close(descriptor)
                unlink(temporary)
                throw RegistryError(.failed, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        _ = fchmod(descriptor, 0o600)
        _ = fsync(descriptor)
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw RegistryError(.failed, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static let connectionColumns =
        "id, name, package_id, interval_seconds, paused, next_sync_at, slot_at, created_at, created_by, failures, missed_syncs"

    func connectionRow(named name: String) throws(RegistryError) -> ConnectionRecord? {
        try query("SELECT \(Self.connectionColumns) FROM connections WHERE name = ?1", [.text(name)]).first.map(Self.connectionRecord)
    }

    func connectionRow(id: String) throws(RegistryError) -> ConnectionRecord? {
        try query("SELECT \(Self.connectionColumns) FROM connections WHERE id = ?1", [.text(id)]).first.map(Self.connectionRecord)
    }

    static func connectionRecord(_ row: [SQLiteValue]) -> ConnectionRecord {
        ConnectionRecord(
            id: row[0].text ?? "", name: row[1].text ?? "", packageID: row[2].text ?? "",
            intervalSeconds: row[3].integer, paused: row[4].integer == 1, nextSyncAt: row[5].integer, slotAt: row[6].integer,
            createdAt: row[7].integer ?? 0, createdBy: row[8].text ?? "", failures: Int(row[9].integer ?? 0),
            missedSyncs: Int(row[10].integer ?? 0))
    }

    static let syncColumns =
        "id, connection_id, package_id, file_sha256_hash, trigger, scheduled_for, attempt, started_at, finished_at, status, error, row_operations, pid"

    static func syncRecord(_ row: [SQLiteValue]) -> SyncRecord {
        SyncRecord(
            id: row[0].integer ?? 0, connectionID: row[1].text ?? "", packageID: row[2].text ?? "",
            sha256: row[3].text ?? "", trigger: row[4].text ?? "", scheduledFor: row[5].integer,
            attempt: Int(row[6].integer ?? 1), startedAt: row[7].integer ?? 0, finishedAt: row[8].integer,
            status: row[9].text ?? "", error: row[10].text, rowOperations: row[11].integer,
            pid: Int32(row[12].integer ?? 0))
    }
}
