#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive `flock` on a file, held while the value lives; the file holds the holder's pid.
///
/// The kernel drops the lock when the process ends, however it ends (SIGKILL included), so a
/// crashed holder never leaves a connection locked.
final class FileLock {
    private let descriptor: Int32
    let path: String

    /// Takes the lock, or returns `nil` at once when another process holds it; `holder` is then
    /// that process's pid as written in the file ("?" when unreadable).
    static func acquire(_ path: String) throws(RegistryError) -> Result<FileLock, Holder> {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw RegistryError(.failed, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 32, 0) }
            close(descriptor)
            let text = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
            let pid = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init) ?? "?"
            return .failure(Holder(pid: pid))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return .success(FileLock(descriptor: descriptor, path: path))
    }

    /// Takes the lock, waiting for the holder to release it.
    static func wait(_ path: String) throws(RegistryError) -> FileLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw RegistryError(.failed, "cannot open the lock file \(path): \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(descriptor)
                throw RegistryError(.failed, "cannot lock \(path): \(String(cString: strerror(errno)))")
            }
        }
        return FileLock(descriptor: descriptor, path: path)
    }

    /// Whether some process holds the lock on `path` now.
    static func isHeld(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return false
        }
        return true
    }

    struct Holder: Error {
        let pid: String
    }

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

@available(*, unavailable)
extension FileLock: Sendable {}
