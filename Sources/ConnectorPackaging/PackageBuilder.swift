#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A package written to disk.
public struct BuiltPackage: Sendable {
    /// The archive's path.
    public var path: String
    /// SHA-256 of the archive's bytes, 64 hexadecimal digits (the REST resource's `file_sha256_hash`).
    public var sha256: String
    /// The archive's size in bytes.
    public var size: UInt64
    public var metadata: PackageMetadata
    /// The folder's files in the archive (the metadata entry not included).
    public var contents: PackageContents
}

/// Makes a package: a deterministic zip of a connector folder plus its metadata entry.
///
/// The same folder content gives the same bytes, wherever the folder is and whenever it is
/// packaged: entries are sorted, dated 1980-01-01, carry only a 0644/0755 mode, and are deflated
/// by zlib with fixed settings (zlib's output for given settings is stable across its 1.2 and 1.3
/// releases; zlib-ng differs, see protocol/PACKAGE.md).
public enum PackageBuilder {
    /// Packages `directory` into `output` (replaced if it exists; written to a temporary file
    /// beside it first, so a failure leaves no half archive).
    /// - Parameter sdkVersion: recorded in the metadata as the SDK version.
    /// - Throws: ``PackagingError``: no connector in the folder, a symbolic link, an unreadable
    ///   file, a package that would pass the zip format's limits.
    public static func build(directory: String, output: String, sdkVersion: String) throws(PackagingError) -> BuiltPackage {
        let directory = absolute(directory)
        let output = absolute(output)
        var isFolder = stat()
        guard stat(directory, &isFolder) == 0, isFolder.st_mode & S_IFMT == S_IFDIR else {
            throw PackagingError("\(directory) is not a folder; pass the folder that holds the connector")
        }
        let metadata = try PackageMetadata.detect(directory: directory, sdkVersion: sdkVersion)
        let temporary = output + ".tmp-\(getpid())"
        let contents = try PackageSource.contents(of: directory, excluding: [output, temporary])

        let folder = parentFolder(of: output)
        if !folder.isEmpty, access(folder, F_OK) != 0 {
            guard mkdirParents(folder) else { throw .system("create the folder", folder) }
        }
        unlink(temporary)
        do throws(PackagingError) {
            let writer = try ZipWriter(creating: temporary)
            // The metadata entry takes its place in the sorted order like any file.
            var entries = contents.files.map { (path: $0.path, file: Optional($0)) }
            entries.append((path: PackageMetadata.fileName, file: nil))
            entries.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
            for entry in entries {
                if let file = entry.file {
                    try writer.addFile(at: directory + "/" + file.path, as: file.path, executable: file.isExecutable)
                } else {
                    try writer.addData(metadata.encoded(), as: PackageMetadata.fileName)
                }
            }
            try writer.finish()
            let sha256 = try SHA256.hexDigest(ofFile: temporary)
            guard rename(temporary, output) == 0 else { throw PackagingError.system("move the package to", output) }
            var info = stat()
            _ = stat(output, &info)
            return BuiltPackage(path: output, sha256: sha256, size: UInt64(info.st_size), metadata: metadata, contents: contents)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return normalized(path) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let current = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
        return normalized(current + "/" + path)
    }

    /// `path` without `.` components, `..` resolved lexically, and no trailing slash.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for component in path.split(separator: "/") {
            if component == "." { continue }
            if component == ".." {
                if !parts.isEmpty { parts.removeLast() }
                continue
            }
            parts.append(component)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The folder part of an absolute path.
    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    private static func mkdirParents(_ path: String) -> Bool {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return false }
        }
        return true
    }
}
