import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The host writes (and `reset` deletes) only files it can tell are its own, and never through a
/// link: a connector folder may come from an untrusted repository or archive, and a file named by
/// `--warehouse` or `--state` may be anything.
extension WorkspaceFiles {
    /// A file of the workspace and what it is, for messages.
    struct Member {
        let role: String
        let path: String
    }

    /// Every file the host writes: the warehouse and SQLite's companions, the lock, the state file and its temporary.
    var members: [Member] {
        [Member(role: "the warehouse", path: warehouse)]
            + warehouseCompanions.map { Member(role: "the warehouse's SQLite file", path: $0) }
            + [
                Member(role: "the lock file", path: lock), Member(role: "the state file", path: state),
                Member(role: "the state file's temporary file", path: temporaryState),
            ]
    }

    /// Checks, before anything is written or deleted, that every file of the workspace is the host's
    /// own or does not exist yet:
    /// - no two of them (nor the configuration file or the manifest) are one file;
    /// - none is a symbolic link, and inside the connector directory no folder on the way to one is;
    /// - each that exists is a regular file, not hard-linked elsewhere when SQLite writes it in place;
    /// - the warehouse is an SQLite database, the lock holds a pid, and the state file holds a JSON
    ///   object (each may also be empty).
    /// - Parameters:
    ///   - configuration: the configuration file in use, if any.
    ///   - manifest: the connector's manifest, if any.
    /// - Throws: ``SyncFailure`` naming the file, what it is and what to do.
    func checkOwnership(configuration: String? = nil, manifest: String? = nil) throws(SyncFailure) {
        try checkDistinct(configuration: configuration, manifest: manifest)
        for member in members {
            try checkNoLink(member)
            try checkKind(member)
        }
        try checkContents()
    }

    /// No two files of the workspace, the configuration and the manifest are the same file.
    private func checkDistinct(configuration: String?, manifest: String?) throws(SyncFailure) {
        var all = members
        if let configuration { all.append(Member(role: "the configuration file", path: FilePaths.absolute(configuration))) }
        if let manifest { all.append(Member(role: "the connector's manifest", path: FilePaths.absolute(manifest))) }
        for (index, first) in all.enumerated() {
            for second in all[(index + 1)...] where Self.sameFile(first.path, second.path) {
                // Named from the state file's side when it is one of them: that is the path a flag moved.
                let (written, other) = second.role.hasPrefix("the state") ? (second, first) : (first, second)
                let what = written.path == other.path ? "also \(other.role)" : "the same file as \(other.role) \(other.path)"
                throw SyncFailure(
                    .configuration,
                    "\(written.role) \(written.path) is \(what); each must be a file of its own. Choose another path (--state, --warehouse); the defaults are DIR/files/state.json and DIR/files/warehouse.db"
                )
            }
        }
    }

    /// Whether two paths name one file: the same path once the folder's links are resolved, or the same inode.
    static func sameFile(_ first: String, _ second: String) -> Bool {
        if canonical(first) == canonical(second) { return true }
        guard let one = SafeFile.identity(of: first), let two = SafeFile.identity(of: second) else { return false }
        return one == two
    }

    /// The path with its folder's symbolic links resolved (the file itself, which may not exist yet, is kept).
    private static func canonical(_ path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        guard let resolved = realpath(folder, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved) + "/" + (path as NSString).lastPathComponent
    }

    /// The member is not a link; inside the connector directory, neither is any folder on the way to it.
    private func checkNoLink(_ member: Member) throws(SyncFailure) {
        var steps = [member.path]
        if member.path.hasPrefix(directory + "/") {
            steps = []
            var current = directory
            for component in member.path.dropFirst(directory.count + 1).split(separator: "/") {
                current += "/" + component
                steps.append(current)
            }
        }
        for step in steps {
            guard case .symbolicLink(let target) = SafeFile.kind(of: step) else { continue }
            let what = step == member.path ? "\(member.role) \(step)" : "the folder \(step) (on the way to \(member.role))"
            throw SyncFailure(
                .warehouse,
                "\(what) is a symbolic link (to \(target)); the host never writes through a link, since a connector folder may come from an untrusted repository. Remove the link, or name a real file with --warehouse or --state"
            )
        }
    }

    /// An existing member is a regular file; one SQLite or the lock writes in place has no other name.
    private func checkKind(_ member: Member) throws(SyncFailure) {
        switch SafeFile.kind(of: member.path) {
        case .missing, .symbolicLink: return
        case .directory:
            throw SyncFailure(.warehouse, "\(member.role) \(member.path) is a directory, not a file; remove it or choose another path")
        case .other(let kind):
            throw SyncFailure(.warehouse, "\(member.role) \(member.path) is \(kind), not a regular file; remove it or choose another path")
        case .regular(_, let links, _, _):
            let writtenInPlace = member.path != state && member.path != temporaryState
            guard writtenInPlace, links > 1 else { return }
            throw SyncFailure(
                .warehouse,
                "\(member.role) \(member.path) has \(links) hard links: writing it in place would change the file under its other names too. Make it a file of its own (cp it to a new name and move that back) and run again"
            )
        }
    }

    /// The warehouse starts like an SQLite database, the lock holds a pid, the state is a JSON object (or each is empty).
    private func checkContents() throws(SyncFailure) {
        let header = Array("SQLite format 3\u{0}".utf8)
        if let start = Self.firstBytes(warehouse, count: header.count), !start.isEmpty, start != header {
            throw SyncFailure(
                .warehouse,
                "the warehouse \(warehouse) is not an SQLite database (it starts with \(HumanText.preview(start, masking: .none))); the host never overwrites another file. Move that file away, or choose another --warehouse"
            )
        }
        if let text = Self.firstBytes(lock, count: 64), !text.isEmpty, !Self.isPIDLine(text) {
            throw SyncFailure(
                .warehouse,
                "the lock file \(lock) is not a connector-host lock (it holds \(HumanText.preview(text, masking: .none))); the host never overwrites another file. Move that file away, or choose another --warehouse"
            )
        }
        _ = try stateContents()
    }

    /// The state file's JSON object, or `nil` when it is missing or empty.
    /// - Throws: ``SyncFailure`` when it is not valid JSON or not an object: a file the host did not
    ///   write is never overwritten, and a state that is not an object is never sent to a connector.
    func stateContents() throws(SyncFailure) -> JSONObject? {
        let bytes: [UInt8]?
        do { bytes = try SafeFile.read(state, limit: 1 << 30, followLinks: false) } catch {
            throw SyncFailure(.configuration, "the state file \(state) \(error.description); fix or delete it, or choose another --state")
        }
        guard let bytes, !bytes.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) else { return nil }
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            throw SyncFailure(
                .configuration,
                "the state file \(state) is not valid JSON (\(error)); the host never overwrites a file it did not write. Fix or delete it, or choose another --state"
            )
        }
        guard let object = value.objectValue else {
            throw SyncFailure(
                .configuration,
                "the state file \(state) holds a JSON \(value.kindName), not an object; a state is a JSON object like {\"cursor\": 3}. Fix or delete it"
            )
        }
        return object
    }

    /// Up to `count` bytes from the start of a regular file (never through a link, never blocking), or `nil`.
    private static func firstBytes(_ path: String, count: Int) -> [UInt8]? {
        guard case .regular = SafeFile.kind(of: path) else { return nil }
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: count)
        let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, 0) }
        return read >= 0 ? Array(buffer[0..<read]) : nil
    }

    /// A pid and an optional newline, as ``WorkspaceLock`` writes.
    private static func isPIDLine(_ bytes: [UInt8]) -> Bool {
        let digits = bytes.last == 0x0A ? bytes.dropLast() : bytes[...]
        return !digits.isEmpty && digits.count <= 20 && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
