#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file that goes into a package.
public struct PackageFile: Sendable, Equatable {
    /// The path inside the package (and the connector folder), `/`-separated.
    public var path: String
    public var isExecutable: Bool
    public var size: UInt64
}

/// A file or folder of the connector folder left out of the package, and why.
public struct ExcludedItem: Sendable, Equatable {
    public enum Reason: String, Sendable {
        /// Never packaged, whatever `.gitignore` says: configurations (they hold secrets), the
        /// connector's `files/` folder (warehouse, state, virtual environment), `__pycache__`, `.git`.
        case neverPackaged = "never packaged"
        /// A folder holding `pyvenv.cfg`.
        case virtualEnvironment = "virtual environment"
        /// Hidden files, `crash-reports/`, `options.toml`: left out unless a `.gitignore` re-includes them.
        case defaultExclusion = "excluded by default"
        case gitignore = ".gitignore"
    }

    /// The path, with a trailing `/` for a folder.
    public var path: String
    public var reason: Reason
}

/// What a connector folder contributes to its package.
public struct PackageContents: Sendable, Equatable {
    /// The files, in increasing byte order of their paths.
    public var files: [PackageFile]
    /// What was left out, in the order met (folders once, not their contents).
    public var excluded: [ExcludedItem]
}

/// Chooses the files of a connector folder that go into its package.
///
/// The rules, in order (protocol/PACKAGE.md section 3):
/// 1. Never packaged: files named `configuration.json` or `destination.json` at any depth (they
///    hold secrets), folders named `files`, `__pycache__` or `.git` at any depth, folders that hold a
///    `pyvenv.cfg` (virtual environments), and the top-level `connector-package.json` (the packager
///    writes its own).
/// 2. `.gitignore` files are always packaged, so that a package re-packages to the same bytes.
/// 3. Default exclusions, as if the root `.gitignore` began with them: `.*` (hidden files and
///    folders), `crash-reports/`, `options.toml`.
/// 4. Every `.gitignore` in the folder, nested ones included, with git's rules: the last matching
///    pattern decides, `!` re-includes, a nested file's patterns apply below its folder, and
///    nothing inside an excluded folder can be re-included. `.gitignore` files above the
///    connector folder, `.git/info/exclude` and the user's global excludes do not count: the
///    package depends on the folder alone.
/// 5. Symbolic links and special files that are not excluded are errors: a package holds regular files only.
public enum PackageSource {
    static let neverPackagedFileNames: Set<String> = ["configuration.json", "destination.json"]
    static let neverPackagedFolderNames: Set<String> = ["files", "__pycache__", ".git"]
    static let defaultPatterns = [".*", "crash-reports/", "options.toml"]

    /// The files of `directory` that go into its package, and what was left out.
    /// - Parameter excluding: absolute paths also left out (the archive being written, when it sits in the folder).
    /// - Throws: ``PackagingError`` naming a symbolic link, a special file or an unreadable folder.
    public static func contents(of directory: String, excluding: Set<String> = []) throws(PackagingError) -> PackageContents {
        var defaultRules = IgnoreRules()
        for pattern in defaultPatterns { defaultRules.add(pattern) }
        let defaults = defaultRules
        var files: [PackageFile] = []
        var excluded: [ExcludedItem] = []

        func visit(_ relative: String, rules inherited: IgnoreRules) throws(PackagingError) {
            let folder = relative.isEmpty ? directory : directory + "/" + relative
            var rules = inherited
            let gitignore = folder + "/.gitignore"
            if FileInput.isRegularFile(gitignore) {
                rules.add(gitignore: String(decoding: try FileInput.contents(of: gitignore), as: UTF8.self), base: relative)
            }
            for item in try DirectoryListing.items(of: folder) {
                let path = relative.isEmpty ? item.name : relative + "/" + item.name
                let full = folder + "/" + item.name
                if excluding.contains(full) { continue }
                /// The user's `.gitignore` files decide first (their patterns come after the defaults), then the defaults.
                func ignoredReason(isDirectory: Bool) -> ExcludedItem.Reason? {
                    if let decision = rules.decision(for: path, isDirectory: isDirectory) { return decision ? .gitignore : nil }
                    return defaults.isIgnored(path, isDirectory: isDirectory) ? .defaultExclusion : nil
                }
                switch item.kind {
                case .directory:
                    if neverPackagedFolderNames.contains(item.name) {
                        excluded.append(ExcludedItem(path: path + "/", reason: .neverPackaged))
                    } else if isVirtualEnvironment(full) {
                        excluded.append(ExcludedItem(path: path + "/", reason: .virtualEnvironment))
                    } else if let reason = ignoredReason(isDirectory: true) {
                        excluded.append(ExcludedItem(path: path + "/", reason: reason))
                    } else {
                        try visit(path, rules: rules)
                    }
                case .file:
                    if item.name == ".gitignore" {
                        files.append(PackageFile(path: path, isExecutable: item.isExecutable, size: item.size))
                    } else if neverPackagedFileNames.contains(item.name) || (relative.isEmpty && item.name == PackageMetadata.fileName) {
                        excluded.append(ExcludedItem(path: path, reason: .neverPackaged))
                    } else if let reason = ignoredReason(isDirectory: false) {
                        excluded.append(ExcludedItem(path: path, reason: reason))
                    } else {
                        files.append(PackageFile(path: path, isExecutable: item.isExecutable, size: item.size))
                    }
                case .symbolicLink, .other:
                    if let reason = ignoredReason(isDirectory: false) {
                        excluded.append(ExcludedItem(path: path, reason: reason))
                        continue
                    }
                    let what = item.kind == .symbolicLink ? "a symbolic link" : "a special file (a socket, FIFO or device)"
                    throw PackagingError(
                        "\(full) is \(what); a package holds regular files only. Replace it with the file it stands for, or list it in .gitignore"
                    )
                }
            }
        }
        try visit("", rules: IgnoreRules())
        files.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        return PackageContents(files: files, excluded: excluded)
    }

    /// Whether `folder` is a Python virtual environment (it holds `pyvenv.cfg`, as `python -m venv` makes).
    static func isVirtualEnvironment(_ folder: String) -> Bool {
        var info = stat()
        return lstat(folder + "/pyvenv.cfg", &info) == 0
    }
}
