import ConnectorPackaging
import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The local registry: packages, connections and their sync history in `registry.db`, package
/// files content-addressed under `packages/` (see ``ConnectorHostHome``).
///
/// Several processes use one registry at once (`schedule` and the `run --connection` processes it
/// starts, cron jobs, the user's commands): the database is in WAL mode, waits up to 10 s for a
/// lock, and every change is one `BEGIN IMMEDIATE` transaction.
///
/// Not Sendable: one connection to SQLite, confined to the thread that opened it.
public final class ConnectorRegistry {
    public let home: ConnectorHostHome
    let database: SQLiteDatabase
    /// The version of connector-host's SDKs, written into the packages this registry makes.
    let sdkVersion: String

    /// Opens (creating if needed) the registry in `home`.
    /// - Throws: ``RegistryError`` when the folder or the database cannot be created or opened.
    public init(home: ConnectorHostHome, sdkVersion: String = SyncRunner.hostInfo["version"]?.stringValue ?? "0.1.0")
        throws(RegistryError)
    {
        self.home = home
        self.sdkVersion = sdkVersion
        try home.createFolders()
        // Created user-only before SQLite opens it (SQLite would make it 0644); -wal and -shm follow.
        let descriptor = open(home.database, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if descriptor >= 0 { close(descriptor) }
        do {
            database = try SQLiteDatabase(path: home.database)
            try database.execute("PRAGMA busy_timeout = 10000")
            try database.execute("PRAGMA journal_mode = WAL")
            try database.execute("PRAGMA foreign_keys = ON")
            try database.execute(Self.schema)
        } catch {
            throw RegistryError(.failed, "cannot open the registry \(home.database): \(error)")
        }
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS packages (
            id TEXT PRIMARY KEY,
            file_sha256_hash TEXT NOT NULL,
            size INTEGER NOT NULL,
            metadata TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            last_updated_by TEXT NOT NULL,
            source TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS connections (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            package_id TEXT NOT NULL REFERENCES packages(id),
            interval_seconds INTEGER,
            paused INTEGER NOT NULL DEFAULT 0,
            next_sync_at INTEGER,
            slot_at INTEGER,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            missed_syncs INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE IF NOT EXISTS syncs (
            id INTEGER PRIMARY KEY,
            connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
            package_id TEXT NOT NULL,
            file_sha256_hash TEXT NOT NULL,
            trigger TEXT NOT NULL,
            scheduled_for INTEGER,
            attempt INTEGER NOT NULL DEFAULT 1,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            status TEXT NOT NULL,
            error TEXT,
            row_operations INTEGER,
            pid INTEGER NOT NULL,
            handled INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS syncs_by_connection ON syncs (connection_id, id);
        """

    /// Runs `body` in one write transaction, rolled back if it throws.
    func transaction<T>(_ body: () throws(RegistryError) -> T) throws(RegistryError) -> T {
        do { try database.beginTransaction(.immediate) } catch { throw failure(error) }
        do throws(RegistryError) {
            let result = try body()
            do { try database.commit() } catch { throw failure(error) }
            return result
        } catch {
            try? database.rollback()
            throw error
        }
    }

    func failure(_ error: SQLiteError) -> RegistryError {
        RegistryError(.failed, "the registry \(home.database) failed: \(error)")
    }

    func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(RegistryError) -> [[SQLiteValue]] {
        do { return try database.query(sql, parameters) } catch { throw failure(error) }
    }

    func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws(RegistryError) {
        do { try database.run(sql, parameters) } catch { throw failure(error) }
    }

    /// The user running this process, for `created_by` and `last_updated_by`.
    static var currentUser: String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())"
    }

    static func randomID(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return prefix + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

@available(*, unavailable)
extension ConnectorRegistry: Sendable {}

// MARK: - Packages

extension ConnectorRegistry {
    /// Packages `directory` and stores it as a new package.
    /// - Throws: ``RegistryError`` when the folder cannot be packaged or the file stored.
    public func createPackage(from directory: String) throws(RegistryError) -> PackageRecord {
        let built = try storePackageFile(from: directory)
        let now = RegistryTime.now()
        let user = Self.currentUser
        let record = PackageRecord(
            id: Self.randomID(prefix: "pkg_"), sha256: built.sha256, size: Int64(built.size), metadata: built.metadata, createdAt: now,
            createdBy: user, updatedAt: now, lastUpdatedBy: user, source: FilePaths.absolute(directory))
        try transaction { () throws(RegistryError) in
            try run(
                """
                INSERT INTO packages (id, file_sha256_hash, size, metadata, created_at, created_by, updated_at, last_updated_by, source)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                """,
                [
                    .text(record.id), .text(record.sha256), .integer(record.size),
                    .text(String(decoding: record.metadata.encoded(), as: UTF8.self)), .integer(now), .text(user), .integer(now),
                    .text(user), .text(record.source),
                ])
        }
        return record
    }

    /// Every package, oldest first.
    public func packages() throws(RegistryError) -> [PackageRecord] {
        let uses = try connectionIDsByPackage()
        return try query("SELECT \(Self.packageColumns) FROM packages ORDER BY created_at, id").map { row throws(RegistryError) in
            var record = try packageRecord(row)
            record.connectionIDs = uses[record.id] ?? []
            return record
        }
    }

    /// The package `id`.
    /// - Throws: ``RegistryError`` (`.notFound`) naming the packages that exist.
    public func package(_ id: String) throws(RegistryError) -> PackageRecord {
        guard let row = try query("SELECT \(Self.packageColumns) FROM packages WHERE id = ?1", [.text(id)]).first else {
            let known = try query("SELECT id FROM packages ORDER BY created_at").compactMap { $0.first?.text }
            throw RegistryError(
                .notFound,
                "no package \(id) in \(home.database); "
                    + (known.isEmpty
                        ? "there are none yet: connector-host package create DIR"
                        : "the packages are \(known.joined(separator: ", ")) (connector-host package list)"))
        }
        var record = try packageRecord(row)
        record.connectionIDs = try connectionIDsByPackage()[id] ?? []
        return record
    }

    /// Replaces package `id`'s code with a new package of `directory`; the connections that use it
    /// run the new code from their next sync.
    public func updatePackage(_ id: String, from directory: String) throws(RegistryError) -> PackageRecord {
        var record = try package(id)
        let old = record.sha256
        let built = try storePackageFile(from: directory)
        record.sha256 = built.sha256
        record.size = Int64(built.size)
        record.metadata = built.metadata
        record.updatedAt = RegistryTime.now()
        record.lastUpdatedBy = Self.currentUser
        record.source = FilePaths.absolute(directory)
        try transaction { () throws(RegistryError) in
            try run(
                """
                UPDATE packages SET file_sha256_hash = ?2, size = ?3, metadata = ?4, updated_at = ?5, last_updated_by = ?6, source = ?7
                WHERE id = ?1
                """,
                [
                    .text(id), .text(record.sha256), .integer(record.size),
                    .text(String(decoding: record.metadata.encoded(), as: UTF8.self)), .integer(record.updatedAt),
                    .text(record.lastUpdatedBy), .text(record.source),
                ])
        }
        if old != record.sha256 { try removeUnusedFile(sha256: old) }
        return record
    }

    /// Deletes package `id` and, when no other package has the same content, its file.
    /// - Throws: ``RegistryError`` (`.conflict`) naming the connections that use the package.
    public func deletePackage(_ id: String) throws(RegistryError) {
        let record = try package(id)
        try transaction { () throws(RegistryError) in
            let users = try query("SELECT name FROM connections WHERE package_id = ?1 ORDER BY name", [.text(id)])
                .compactMap { $0.first?.text }
            guard users.isEmpty else {
                let names = users.map { "\"\($0)\"" }.joined(separator: ", ")
                throw RegistryError(
                    .conflict,
                    "package \(id) is used by connection\(users.count == 1 ? "" : "s") \(names); delete \(users.count == 1 ? "it" : "them") first (connector-host connection delete NAME), or bind \(users.count == 1 ? "it" : "them") to another package"
                )
            }
            try run("DELETE FROM packages WHERE id = ?1", [.text(id)])
        }
        try removeUnusedFile(sha256: record.sha256)
    }

    /// Copies package `id`'s file to `output` (replaced if it exists), after checking its hash.
    /// - Returns: the record, whose `sha256` is the copy's.
    public func downloadPackage(_ id: String, to output: String) throws(RegistryError) -> PackageRecord {
        let record = try package(id)
        let source = try verifiedPackageFile(record)
        let target = FilePaths.absolute(output)
        let temporary = target + ".tmp-\(getpid())"
        do {
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: source, toPath: temporary)
            _ = chmod(temporary, 0o644)
            guard rename(temporary, target) == 0 else {
                throw PackagingError("cannot write \(target): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw RegistryError(.failed, "cannot write \(target): \(error)")
        }
        return record
    }

    /// The path of package `record`'s file, after checking that it still has the recorded SHA-256.
    /// - Throws: ``RegistryError`` (`.tampered`) naming both hashes when it does not.
    public func verifiedPackageFile(_ record: PackageRecord) throws(RegistryError) -> String {
        let path = home.packageFile(sha256: record.sha256)
        let actual: String
        do { actual = try SHA256.hexDigest(ofFile: path) } catch {
            throw RegistryError(
                .tampered,
                "package \(record.id): its file \(path) cannot be read (\(error.message)); the registry recorded SHA-256 \(record.sha256). Store the code again: connector-host package update \(record.id) DIR"
            )
        }
        guard actual == record.sha256 else {
            throw RegistryError(
                .tampered,
                "package \(record.id) was changed after it was stored: its file \(path) has SHA-256 \(actual), but the registry recorded \(record.sha256). Nothing was run. Store the code again: connector-host package update \(record.id) DIR"
            )
        }
        return path
    }

    /// Packages `directory` into the registry's `packages/` folder under its hash.
    private func storePackageFile(from directory: String) throws(RegistryError) -> BuiltPackage {
        let incoming = home.packagesFolder + "/.incoming-\(getpid())-\(Self.randomID(prefix: "")).zip"
        let built: BuiltPackage
        do { built = try PackageBuilder.build(directory: directory, output: incoming, sdkVersion: sdkVersion) } catch {
            throw RegistryError(.failed, error.message)
        }
        _ = chmod(incoming, 0o600)
        let final = home.packageFile(sha256: built.sha256)
        // Same content as a stored file: keep one copy (replacing it if it was damaged).
        if let existing = try? SHA256.hexDigest(ofFile: final), existing == built.sha256 {
            unlink(incoming)
        } else if rename(incoming, final) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(incoming)
            throw RegistryError(.failed, "cannot store the package as \(final): \(reason)")
        }
        var stored = built
        stored.path = final
        return stored
    }

    /// Removes the file and the unpacked copy of a hash no package has any more (the copy only when
    /// no sync is preparing it; a later delete or update finds it again otherwise).
    private func removeUnusedFile(sha256: String) throws(RegistryError) {
        let users = try query("SELECT count(*) FROM packages WHERE file_sha256_hash = ?1", [.text(sha256)])
        guard case .integer(0)? = users.first?.first else { return }
        unlink(home.packageFile(sha256: sha256))
        let unpacked = home.unpackedPackage(sha256: sha256)
        if case .success(let lock)? = try? FileLock.acquire(unpacked + ".lock") {
            withExtendedLifetime(lock) { try? FileManager.default.removeItem(atPath: unpacked) }
            unlink(unpacked + ".lock")
        }
    }

    static let packageColumns = "id, file_sha256_hash, size, metadata, created_at, created_by, updated_at, last_updated_by, source"

    private func packageRecord(_ row: [SQLiteValue]) throws(RegistryError) -> PackageRecord {
        let metadata: PackageMetadata
        do { metadata = try PackageMetadata(decoding: Array((row[3].text ?? "").utf8), archive: home.database) } catch {
            throw RegistryError(.failed, "the registry's record of package \(row[0].text ?? "?") is damaged: \(error.message)")
        }
        return PackageRecord(
            id: row[0].text ?? "", sha256: row[1].text ?? "", size: row[2].integer ?? 0, metadata: metadata,
            createdAt: row[4].integer ?? 0, createdBy: row[5].text ?? "", updatedAt: row[6].integer ?? 0,
            lastUpdatedBy: row[7].text ?? "", source: row[8].text ?? "")
    }

    private func connectionIDsByPackage() throws(RegistryError) -> [String: [String]] {
        var uses: [String: [String]] = [:]
        for row in try query("SELECT package_id, id FROM connections ORDER BY created_at, id") {
            if let package = row[0].text, let connection = row[1].text { uses[package, default: []].append(connection) }
        }
        return uses
    }
}
