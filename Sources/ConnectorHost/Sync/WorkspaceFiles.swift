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
        self.warehouse = warehouse.map { ConnectorLauncher.absolutePath($0) } ?? directory + "/files/warehouse.db"
        self.state = state.map { ConnectorLauncher.absolutePath($0) } ?? directory + "/files/state.json"
    }

    /// The lock file beside the warehouse.
    public var lock: String { warehouse + ".lock" }

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

    /// Writes the state mirror atomically: a temporary file, fsync, then rename over the old one.
    func writeState(_ json: String) throws(SyncFailure) {
        let temporary = state + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SyncFailure(.warehouse, "cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        let bytes = Array((json + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, synced == 0, rename(temporary, state) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SyncFailure(.warehouse, "cannot write \(state): \(reason); the warehouse holds the state, the next run repairs the file")
        }
    }

    /// The state file's content, if it exists.
    func readState() -> String? {
        guard let data = FileManager.default.contents(atPath: state) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// An exclusive lock on a workspace, so two runs never write the same warehouse at once.
final class WorkspaceLock {
    private let descriptor: Int32

    /// Takes the lock or fails at once, naming the lock file and the holder's pid.
    init(path: String) throws(SyncFailure) {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SyncFailure(.warehouse, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
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
