#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One name in a folder, as `lstat` sees it (links are not followed).
struct DirectoryItem {
    enum Kind { case file, directory, symbolicLink, other }

    var name: String
    var kind: Kind
    var isExecutable: Bool
    var size: UInt64
}

enum DirectoryListing {
    /// The items of `path`, sorted by the bytes of their names, without `.` and `..`.
    /// - Throws: ``PackagingError`` when the folder cannot be read or holds a name that is not UTF-8.
    static func items(of path: String) throws(PackagingError) -> [DirectoryItem] {
        guard let stream = opendir(path) else { throw .system("read the folder", path) }
        defer { closedir(stream) }
        var items: [DirectoryItem] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw .system("read the folder", path) }
                break
            }
            let nameBytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if nameBytes == [0x2E] || nameBytes == [0x2E, 0x2E] { continue }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw PackagingError(
                    "\(path) holds a file whose name is not UTF-8 (\(String(decoding: nameBytes, as: UTF8.self))); rename it, or delete it")
            }
            var info = stat()
            let full = path + "/" + name
            guard lstat(full, &info) == 0 else { throw .system("read", full) }
            let kind: DirectoryItem.Kind =
                switch info.st_mode & S_IFMT {
                case S_IFREG: .file
                case S_IFDIR: .directory
                case S_IFLNK: .symbolicLink
                default: .other
                }
            items.append(
                DirectoryItem(name: name, kind: kind, isExecutable: info.st_mode & 0o100 != 0, size: UInt64(info.st_size)))
        }
        return items.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }
}

extension ZipReader {
    /// How an unpacked folder differs from this archive, one line per difference (empty when they
    /// agree): files missing, added, changed in content or execute bit, or no longer regular files.
    /// Top-level names in `ignoring` (the connector's own `files/` folder) are not compared.
    public func differences(from directory: String, ignoring: Set<String> = []) throws -> [String] {
        var expected: [String: ZipEntry] = [:]
        for entry in entries where !entry.isDirectory { expected[entry.path] = entry }
        var differences: [String] = []
        var found: Set<String> = []
        func visit(_ relative: String) throws {
            let folder = relative.isEmpty ? directory : directory + "/" + relative
            for item in try DirectoryListing.items(of: folder) {
                let path = relative.isEmpty ? item.name : relative + "/" + item.name
                if relative.isEmpty && ignoring.contains(item.name) { continue }
                switch item.kind {
                case .directory:
                    if expected[path] != nil { differences.append("\(path) is now a folder") } else { try visit(path) }
                case .file:
                    found.insert(path)
                    guard let entry = expected[path] else {
                        differences.append("\(path) was added")
                        continue
                    }
                    if item.isExecutable != entry.isExecutable {
                        differences.append("\(path) \(item.isExecutable ? "became" : "is no longer") executable")
                    } else if try item.size != entry.size || !sameContent(entry, file: folder + "/" + item.name) {
                        differences.append("\(path) was changed")
                    }
                case .symbolicLink, .other:
                    found.insert(path)
                    differences.append("\(path) is no longer a regular file")
                }
            }
        }
        try visit("")
        for path in expected.keys.sorted() where !found.contains(path) { differences.append("\(path) is missing") }
        return differences
    }

    private func sameContent(_ entry: ZipEntry, file: String) throws -> Bool {
        let input = try FileInput(path: file)
        var offset: UInt64 = 0
        var same = true
        try read(entry) { piece in
            guard same else { return }
            let onDisk = try input.read(at: offset, count: piece.count)
            same = onDisk.withUnsafeBytes { $0.elementsEqual(piece) }
            offset += UInt64(piece.count)
        }
        return same
    }
}
