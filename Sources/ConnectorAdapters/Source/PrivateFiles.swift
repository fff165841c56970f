import ConnectorProtocol
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private temporary folder (mode 0700) for the files a source reads: its configuration (which
/// holds secrets), catalog and state. Removed when the value goes away, and by
/// ``removeAllOnTermination()`` when the adapter is stopped with SIGTERM.
final class PrivateFiles {
    let path: String
    private static let live = Mutex<Set<String>>([])

    init() throws(AdapterError) {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/connector-host-adapter-XXXXXX").utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw AdapterError(.source, "cannot create a private temporary folder in \(base): \(String(cString: strerror(errno)))")
        }
        path = String(cString: created)
        _ = Self.live.withLock { $0.insert(path) }
    }

    deinit {
        Self.remove(path)
        _ = Self.live.withLock { $0.remove(path) }
    }

    /// Writes `value` as compact JSON to `name` (mode 0600) and returns the file's path.
    func store(_ name: String, _ value: JSONValue) throws(AdapterError) -> String {
        let file = path + "/" + name
        var bytes = JSONWriter.string(value).utf8.map { $0 }
        bytes.append(0x0A)
        let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AdapterError(.source, "cannot write \(file): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw AdapterError(.source, "cannot write \(file): \(String(cString: strerror(errno)))") }
        return file
    }

    /// Removes every live folder: called from the SIGTERM handler, just before the adapter exits.
    static func removeAllOnTermination() {
        for path in live.withLock({ $0 }) { remove(path) }
    }

    private static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
