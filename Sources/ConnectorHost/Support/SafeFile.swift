#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading and inspecting files that may come from an untrusted connector folder (a cloned
/// repository, an unpacked archive): a named pipe must not hang the host, a link to `/dev/zero` must
/// not exhaust its memory, and a symbolic link must not make it read or write a file elsewhere.
package enum SafeFile {
    /// What a path is, without following a final symbolic link (lstat).
    package enum Kind: Equatable {
        case missing
        case regular(size: Int, links: Int, device: UInt64, inode: UInt64)
        case symbolicLink(target: String)
        case directory
        /// A named pipe, socket or device.
        case other(String)
    }

    /// Why a file could not be read.
    package enum Problem: Error, Equatable {
        case symbolicLink(target: String)
        case notRegular(String)
        case tooLarge(limit: Int)
        case system(operation: String, errno: Int32)

        /// The problem as the end of a sentence that starts with the file's role and path.
        package var description: String {
            switch self {
            case .symbolicLink(let target): "is a symbolic link (to \(target))"
            case .notRegular(let kind): "is \(kind), not a regular file"
            case .tooLarge(let limit): "is larger than \(limit) bytes"
            case .system(let operation, let code): "cannot be read (\(operation): \(String(cString: strerror(code))))"
            }
        }
    }

    /// What `path` is; a final symbolic link is reported, not followed.
    package static func kind(of path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return .regular(
                size: Int(info.st_size), links: Int(info.st_nlink), device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        case S_IFLNK: return .symbolicLink(target: linkTarget(path))
        case S_IFDIR: return .directory
        case S_IFIFO: return .other("a named pipe")
        case S_IFSOCK: return .other("a socket")
        case S_IFCHR, S_IFBLK: return .other("a device")
        default: return .other("a special file")
        }
    }

    /// Where a symbolic link points (its text, as `ls -l` shows it).
    package static func linkTarget(_ path: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return "?" }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The device and inode of `path` (following links), to tell whether two paths are one file.
    package static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// The contents of a regular file, or `nil` when it does not exist.
    ///
    /// Opens without blocking (a named pipe would wait for a writer forever), checks on the open
    /// descriptor that it is a regular file, and reads at most `limit` bytes.
    /// - Parameter followLinks: whether a final symbolic link is followed (to a regular file) or refused.
    /// - Throws: ``Problem``.
    package static func read(_ path: String, limit: Int, followLinks: Bool = true) throws(Problem) -> [UInt8]? {
        var flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY
        if !followLinks { flags |= O_NOFOLLOW }
        let descriptor = open(path, flags)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            if code == ELOOP, !followLinks { throw .symbolicLink(target: linkTarget(path)) }
            throw .system(operation: "open", errno: code)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .system(operation: "fstat", errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            switch info.st_mode & S_IFMT {
            case S_IFDIR: throw .notRegular("a directory")
            case S_IFIFO: throw .notRegular("a named pipe")
            case S_IFSOCK: throw .notRegular("a socket")
            case S_IFCHR, S_IFBLK: throw .notRegular("a device")
            default: throw .notRegular("a special file")
            }
        }
        // A regular file never blocks, whatever O_NONBLOCK says.
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .system(operation: "read", errno: errno)
            }
            if count == 0 { return bytes }
            guard bytes.count + count <= limit else { throw .tooLarge(limit: limit) }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }

    /// The longest manifest, configuration or requirements file the host reads (64 MiB).
    package static let configurationLimit = 64 << 20
}

/// read(2), under a name that the static `SafeFile.read` does not shadow.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
