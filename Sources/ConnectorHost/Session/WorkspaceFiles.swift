import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files a connector's syncs keep: `files/warehouse.db`, `files/state.json` and a lock.
public struct WorkspaceFiles: Sendable, Equatable {
    public var warehouse: String
    public var state: String

    /// The default files under `directory/files/`, each overridable.
    public init(directory: String, warehouse: String? = nil, state: String? = nil) {
        self.warehouse = warehouse.map { FilePaths.absolute($0) } ?? directory + "/files/warehouse.db"
        self.state = state.map { FilePaths.absolute($0) } ?? directory + "/files/state.json"
    }

    /// The lock file beside the warehouse.
    public var lock: String { warehouse + ".lock" }

    /// Creates the warehouse file, empty and user-only (0600), unless it exists. SQLite would create
    /// it with 0644; it gives the -wal and -shm files the database file's permissions, so they are
    /// user-only too.
    func createWarehouseFile() throws(SyncFailure) {
        let descriptor = open(warehouse, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
        } else if errno != EEXIST {
            throw SyncFailure(.warehouse, "cannot create the warehouse \(warehouse): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates the folders of the files, user-only (0700).
    func createDirectories() throws(SyncFailure) {
        for path in [warehouse, state] {
            let folder = (path as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw SyncFailure(.warehouse, "cannot create \(folder): \(error.localizedDescription)")
            }
        }
    }

    /// Writes the state mirror atomically: ``prepareState(_:)`` then ``commitState(_:)``.
    func writeState(_ json: String) throws(SyncFailure) {
        try commitState(try prepareState(json))
    }

    /// Writes `json` to a temporary file beside the state file and syncs it to disk, so that only a
    /// rename is left to do (which needs no space): a full disk fails here, before anything is committed.
    func prepareState(_ json: String) throws(SyncFailure) -> PreparedState {
        let temporary = state + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SyncFailure(.warehouse, "cannot write the state file \(temporary): \(String(cString: strerror(errno)))")
        }
        let bytes = Array((json + "\n").utf8)
        var failure: Int32 = 0
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                failure = written < 0 ? errno : ENOSPC
                break
            }
            offset += written
        }
        if failure == 0, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        guard failure == 0 else {
            unlink(temporary)
            throw SyncFailure(.warehouse, "cannot write the state file \(temporary): \(String(cString: strerror(failure)))")
        }
        return PreparedState(temporary: temporary)
    }

    /// Renames a prepared state file over the state file and syncs the folder, so the rename survives a crash.
    func commitState(_ prepared: PreparedState) throws(SyncFailure) {
        guard rename(prepared.temporary, state) == 0 else {
            let reason = String(cString: strerror(errno))
            prepared.discard()
            throw SyncFailure(.warehouse, "cannot replace the state file \(state): \(reason)")
        }
        let folder = open((state as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }

    /// The state file's content, if it exists.
    func readState() -> String? {
        guard let data = FileManager.default.contents(atPath: state) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A state file written to its temporary name, waiting for ``WorkspaceFiles/commitState(_:)``.
struct PreparedState {
    let temporary: String

    /// Removes the temporary file (the checkpoint did not commit).
    func discard() { unlink(temporary) }
}

/// An exclusive lock on a workspace, so two runs never write the same warehouse at once.
final class WorkspaceLock {
    private let descriptor: Int32

    /// Takes the lock or fails at once, naming the lock file and the holder's pid.
    init(path: String) throws(SyncFailure) {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            let folder = (path as NSString).deletingLastPathComponent
            let fix =
                switch code {
                case EROFS: "; \(folder) is on a read-only file system: choose another warehouse with --warehouse"
                case EACCES, EPERM: "; make \(folder) writable (chmod u+w), or choose another warehouse with --warehouse"
                default: ""
                }
            throw SyncFailure(.warehouse, "cannot open the lock file \(path): \(String(cString: strerror(code)))\(fix)")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 32, 0) }
            let holder =
                count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            close(descriptor)
            throw SyncFailure(
                .warehouse,
                "another connector-host (pid \(holder)) is syncing into this warehouse; it holds the lock \(path). Wait for it to finish or stop it"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
