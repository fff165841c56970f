#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Synchronization

/// A file attached to an upserted or updated row (Fivetran's `FileUpload`, PROTOCOL.md 6.11).
///
/// ```swift
/// try operations.upsert("docs", ["id": 1], file: FileUpload(path: "reports/a.pdf", copying: "/tmp/a.pdf"))
/// ```
/// The SDK writes the bytes to the host's staging folder when the op is made; the host stores the
/// file under `files/storage/<schema>/<table>/<path>` when the checkpoint covering the op commits,
/// and discards it if the sync fails before.
public struct FileUpload: Sendable {
    /// Where the bytes come from.
    public enum Content: Sendable {
        /// These bytes.
        case bytes([UInt8])
        /// The file at this local path, copied.
        case copy(String)
    }

    /// The file's path under its table's folder (relative, no `.` or `..` segments).
    public var path: String
    public var content: Content
    /// When set, the op fails unless the file has exactly this many bytes.
    public var expectedBytes: Int64?

    /// A file holding `bytes`.
    public init(path: String, bytes: [UInt8], expectedBytes: Int64? = nil) {
        self.path = path
        self.content = .bytes(bytes)
        self.expectedBytes = expectedBytes
    }

    /// A copy of the local file at `localPath`.
    public init(path: String, copying localPath: String, expectedBytes: Int64? = nil) {
        self.path = path
        self.content = .copy(localPath)
        self.expectedBytes = expectedBytes
    }
}

/// Numbers the files a process stages.
final class UploadCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}

/// Writing a staged file: created exclusively (`O_EXCL`), never through a planted link.
enum StagedFile {
    /// Writes `bytes` to a new file at `path`; returns its size.
    static func store(_ bytes: [UInt8], to path: String, what: String) throws(ConnectorError) -> Int64 {
        let fd = try create(path, what: what)
        defer { close(fd) }
        try writeAll(bytes[...], fd: fd, path: path, what: what)
        return Int64(bytes.count)
    }

    /// Copies the file at `source` to a new file at `path`; returns its size.
    static func storeCopy(of source: String, to path: String, what: String) throws(ConnectorError) -> Int64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("cannot read \(source)", what: what) }
        defer { close(input) }
        let fd = try create(path, what: what)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var size: Int64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                unlink(path)
                throw failure("cannot read \(source)", what: what)
            }
            if count == 0 { return size }
            try writeAll(buffer[0..<count], fd: fd, path: path, what: what)
            size += Int64(count)
        }
    }

    private static func create(_ path: String, what: String) throws(ConnectorError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(path) in the host's staging folder", what: what) }
        return fd
    }

    private static func writeAll(_ bytes: ArraySlice<UInt8>, fd: Int32, path: String, what: String) throws(ConnectorError) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                unlink(path)
                throw failure("cannot write \(path)", what: what)
            }
            offset += written
        }
    }

    private static func failure(_ text: String, what: String) -> ConnectorError {
        ConnectorError(.sourceError, "\(what): \(text): \(String(cString: strerror(errno)))")
    }
}
