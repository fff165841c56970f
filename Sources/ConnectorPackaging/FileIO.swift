#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Free functions under other names: inside the types below, `write` and `close` name their methods.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
private func systemClose(_ descriptor: Int32) { _ = close(descriptor) }

/// A file being written from the start, buffered, that can patch bytes it already wrote.
///
/// Not Sendable: confined to the thread writing the archive.
final class FileOutput {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    /// Bytes written so far (buffered ones included): the offset of the next byte.
    private(set) var offset: UInt64 = 0
    private var closed = false

    /// Creates `path`, which must not exist, with permissions `mode`.
    init(creating path: String, mode: mode_t = 0o644) throws(PackagingError) {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw .system("create", path) }
        buffer.reserveCapacity(256 << 10)
    }

    deinit { if !closed { systemClose(descriptor) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws(PackagingError) {
        buffer.append(contentsOf: bytes)
        offset += UInt64(bytes.count)
        if buffer.count >= 256 << 10 { try flush() }
    }

    func write(_ bytes: [UInt8]) throws(PackagingError) {
        buffer.append(contentsOf: bytes)
        offset += UInt64(bytes.count)
        if buffer.count >= 256 << 10 { try flush() }
    }

    /// Overwrites bytes at `position`, which must have been written already.
    func patch(_ bytes: [UInt8], at position: UInt64) throws(PackagingError) {
        try flush()
        let written = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(position)) }
        guard written == bytes.count else { throw .system("write", path) }
    }

    func flush() throws(PackagingError) {
        var start = 0
        while start < buffer.count {
            let written = buffer.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress! + start, $0.count - start) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw .system("write", path, errno: written < 0 ? errno : ENOSPC) }
            start += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs to disk and closes.
    func close() throws(PackagingError) {
        try flush()
        closed = true
        let synced = fsync(descriptor) == 0
        let code = errno
        systemClose(descriptor)
        guard synced else { throw .system("sync", path, errno: code) }
    }
}

/// A file read at chosen offsets. Not Sendable: confined to one thread.
final class FileInput {
    let path: String
    private let descriptor: Int32
    let size: UInt64

    init(path: String) throws(PackagingError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system("open", path) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            systemClose(descriptor)
            throw .system("read", path, errno: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            systemClose(descriptor)
            throw PackagingError("\(path) is not a regular file")
        }
        size = UInt64(info.st_size)
    }

    deinit { systemClose(descriptor) }

    /// A whole (small) file.
    static func contents(of path: String) throws(PackagingError) -> [UInt8] {
        let input = try FileInput(path: path)
        return try input.read(at: 0, count: Int(input.size))
    }

    /// Whether `path` is a regular file (links not followed).
    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// Exactly `count` bytes at `offset`, or an error when the file is shorter.
    func read(at offset: UInt64, count: Int) throws(PackagingError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw .system("read", path) }
            guard got > 0 else { throw PackagingError("\(path) ends early: \(count) bytes expected at offset \(offset)") }
            done += got
        }
        return bytes
    }

    /// Reads `count` bytes from `offset` in pieces, passing each to `body`.
    func stream(from offset: UInt64, count: UInt64, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var done: UInt64 = 0
        while done < count {
            let want = Int(min(UInt64(buffer.count), count - done))
            let got = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, want, off_t(offset + done)) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw PackagingError.system("read", path) }
            guard got > 0 else { throw PackagingError("\(path) ends early: \(count) bytes expected at offset \(offset)") }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<got])) }
            done += UInt64(got)
        }
    }
}

extension SHA256 {
    /// The SHA-256 of a file's bytes, as 64 hexadecimal digits, read in pieces (memory stays bounded).
    public static func hexDigest(ofFile path: String) throws(PackagingError) -> String {
        let input = try FileInput(path: path)
        var hasher = SHA256()
        do { try input.stream(from: 0, count: input.size) { hasher.update($0) } } catch let error as PackagingError {
            throw error
        } catch {
            throw PackagingError("cannot read \(path): \(error)")
        }
        return hex(hasher.finalize())
    }
}

/// Little-endian encoding of zip header fields.
extension Array where Element == UInt8 {
    mutating func appendLittleEndian(_ value: UInt16) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    mutating func appendLittleEndian(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    func littleEndianUInt16(at offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }

    func littleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }
}
