import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files a connector's syncs keep: `files/warehouse.db`, `files/state.json` and a lock.
///
/// The host writes (and `reset` deletes) only files it can tell are its own: see
/// ``checkOwnership(configuration:manifest:)``.
public struct WorkspaceFiles: Sendable, Equatable {
    public var warehouse: String
    public var state: String
    /// The connector directory: inside it, no folder or file on the way to a workspace file may be a
    /// symbolic link (the folder may come from an untrusted repository).
    public var directory: String

    /// The default files under `directory/files/`, each overridable.
    public init(directory: String, warehouse: String? = nil, state: String? = nil) {
        self.directory = FilePaths.absolute(directory)
        self.warehouse = warehouse.map { FilePaths.absolute($0) } ?? self.directory + "/files/warehouse.db"
        self.state = state.map { FilePaths.absolute($0) } ?? self.directory + "/files/state.json"
    }

    /// The lock file beside the warehouse.
    public var lock: String { warehouse + ".lock" }

    /// The temporary file a new state is written to before it is renamed over the state file.
    var temporaryState: String { state + ".tmp" }

    /// SQLite's companions of the warehouse file.
    var warehouseCompanions: [String] { [warehouse + "-wal", warehouse + "-shm", warehouse + "-journal"] }

    /// Creates the warehouse file, empty and user-only (0600), unless it exists. SQLite would create
    /// it with 0644; it gives the -wal and -shm files the database file's permissions, so they are
    /// user-only too.
    func createWarehouseFile() throws(SyncFailure) {
        let descriptor = open(warehouse, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
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
        let temporary = temporaryState
        // A leftover of a crash is removed first and the file created anew (never opened through a
        // link, never truncated in place: it might be a hard link to someone else's file).
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
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
        var status = stat()
        let identity = failure == 0 && fstat(descriptor, &status) == 0 ? Self.identity(status) : nil
        close(descriptor)
        guard failure == 0 else {
            unlink(temporary)
            throw SyncFailure(.warehouse, "cannot write the state file \(temporary): \(String(cString: strerror(failure)))")
        }
        return PreparedState(temporary: temporary, identity: identity)
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

    /// The state file's identity (device, inode, size, modification time), if it exists: what tells
    /// the mirror the host wrote from a file the user edited or put in its place.
    func stateIdentity() -> String? {
        var status = stat()
        guard stat(state, &status) == 0 else { return nil }
        return Self.identity(status)
    }

    static func identity(_ status: stat) -> String {
        "\(status.st_dev):\(status.st_ino):\(status.st_size):\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
    }

    /// The state file's content, if it exists (``checkOwnership(configuration:manifest:)`` has
    /// made sure it is a regular file holding a JSON object, or empty).
    func readState() -> String? {
        guard let bytes = try? SafeFile.read(state, limit: Int.max, followLinks: false) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.allSatisfy(\.isWhitespace) ? nil : text
    }
}

/// A state file written to its temporary name, waiting for ``WorkspaceFiles/commitState(_:)``.
struct PreparedState {
    let temporary: String
    /// The file's identity, which the rename keeps: recorded with the checkpoint so that the next
    /// run knows this mirror as the host's own.
    let identity: String?

    /// Removes the temporary file (the checkpoint did not commit).
    func discard() { unlink(temporary) }
}

/// An exclusive lock on a workspace, so two runs never write the same warehouse at once, and
/// `reset` never deletes the files of a running sync.
final class WorkspaceLock {
    private let descriptor: Int32
    let path: String

    /// Takes the lock or fails at once, naming the lock file and the holder's pid.
    /// - Parameter refusal: the start of the message when another process holds it.
    init(path: String, refusal: String = "another connector-host") throws(SyncFailure) {
        self.path = path
        // A `reset` holds the lock while it deletes and unlinks the lock file last: a file opened
        // just before that and locked just after would be a lock on nothing (the next run creates
        // a new file and runs beside this one). So the lock is the file still at its path.
        descriptor = try Self.lockInPlace(path, refusal: refusal)
        let pid = Array("\(getpid())\n".utf8)
        // Written before truncating, so a refused run reading it sees a whole pid.
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        _ = ftruncate(descriptor, off_t(pid.count))
    }

    /// The descriptor of the file at `path`, locked, retried while the file is replaced under it.
    private static func lockInPlace(_ path: String, refusal: String) throws(SyncFailure) -> Int32 {
        for _ in 0..<100 {
            let descriptor = try lock(path, refusal: refusal)
            if isAtPath(descriptor, path) { return descriptor }
            close(descriptor)
        }
        throw SyncFailure(
            .warehouse, "cannot take the lock \(path): the file is deleted or replaced every time it is taken (by another program)")
    }

    /// Opens `path` and takes the exclusive lock on it, or fails at once naming the holder's pid.
    private static func lock(_ path: String, refusal: String) throws(SyncFailure) -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
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
            // The holder writes its pid just after it takes the lock: wait a moment for it (bounded).
            var holder = ""
            for _ in 0..<50 {
                var buffer = [UInt8](repeating: 0, count: 32)
                let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 32, 0) }
                holder = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
                if !holder.isEmpty { break }
                usleep(2_000)
            }
            close(descriptor)
            throw SyncFailure(
                .warehouse,
                "\(refusal) (pid \(holder.isEmpty ? "?" : holder)) is syncing into this warehouse; it holds the lock \(path). Wait for it to finish or stop it"
            )
        }
        return descriptor
    }

    private static func isAtPath(_ descriptor: Int32, _ path: String) -> Bool {
        var held = stat()
        var current = stat()
        guard fstat(descriptor, &held) == 0, lstat(path, &current) == 0 else { return false }
        return held.st_dev == current.st_dev && held.st_ino == current.st_ino
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Whether the lock file is still at its path: deleted or replaced (by hand, or by an old
    /// `reset`), it no longer keeps a second run out.
    var isInPlace: Bool { Self.isAtPath(descriptor, path) }
}

/// What a running sync holds on its workspace: the lock, and the identity of the warehouse file it
/// opened. Checked before every commit, so that a sync never acknowledges a checkpoint into a
/// warehouse that was deleted or replaced under it, or while its lock no longer keeps others out.
final class WorkspaceHold {
    let files: WorkspaceFiles
    let lock: WorkspaceLock
    private let warehouseIdentity: (device: UInt64, inode: UInt64)?

    /// Takes the workspace's lock (failing at once when another process holds it) and creates the
    /// warehouse file, user-only, if needed.
    init(_ files: WorkspaceFiles) throws(SyncFailure) {
        self.files = files
        lock = try WorkspaceLock(path: files.lock)
        try files.createWarehouseFile()
        warehouseIdentity = SafeFile.identity(of: files.warehouse)
    }

    /// Why the workspace is no longer the one this sync opened, or `nil` when it still is.
    func problem() -> String? {
        if warehouseIdentity == nil || SafeFile.identity(of: files.warehouse).map({ $0 != warehouseIdentity! }) ?? true {
            return
                "the warehouse \(files.warehouse) was deleted or replaced while this sync ran (by hand, or by another program)"
        }
        if !lock.isInPlace {
            return
                "the lock file \(files.lock) was deleted or replaced while this sync ran, so it no longer keeps another run out"
        }
        return nil
    }
}
