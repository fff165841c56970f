import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The SDKs the host hands to connectors: the Python SDK (put on the path of every `connector.py`),
/// the Node helper and the Swift SDK package (which `init` scaffolds copy or depend on).
package enum HostSDK: String, CaseIterable, Sendable {
    case python, node, swift

    /// The folder of this SDK inside a connector-host checkout (the Swift SDK is the checkout's root
    /// package) and inside `PREFIX/share/connector-host`.
    var checkoutFolder: String { self == .swift ? "" : "sdks/\(rawValue)" }
    var installedFolder: String { "sdks/\(rawValue)" }

    /// A file every copy of this SDK has, relative to its folder: how a folder is recognised.
    var marker: String {
        switch self {
        case .python: "connector_host_sdk/__init__.py"
        case .node: "protocol.js"
        case .swift: "Sources/ConnectorSDK/Connector.swift"
        }
    }

    /// How `--version` and messages name it.
    package var title: String {
        switch self {
        case .python: "python SDK"
        case .node: "node helper"
        case .swift: "swift SDK"
        }
    }
}

/// Where one SDK was found.
package struct SDKLocation: Sendable, Equatable {
    package enum Origin: Sendable, Equatable {
        /// Named by a variable (`CONNECTOR_HOST_PYTHON_SDK`, `CONNECTOR_HOST_SOURCE`) or `--sdk-path`.
        case given
        /// In a connector-host source checkout, whose root is given.
        case checkout(root: String)
        /// Installed under a prefix (`PREFIX/share/connector-host/sdks/...`, by scripts/install.sh).
        case installed(prefix: String)
    }

    /// Whether it is a checkout's.
    package var isCheckout: Bool {
        if case .checkout = origin { return true }
        return false
    }

    /// The SDK's folder (absolute): the Python SDK's holds `connector_host_sdk/`, the Node helper's
    /// `protocol.js`, the Swift SDK's a `Package.swift` with the products ConnectorSDK and ConnectorProtocol.
    package let path: String
    package let origin: Origin
}

/// Where the running `connector-host` is and where it finds its SDKs: the one place that decides it,
/// for the Python SDK of `run`, the Node helper and Swift SDK of `init`, and `--version`.
///
/// An SDK is looked for in this order:
/// 1. what the user names: `CONNECTOR_HOST_PYTHON_SDK` (Python), `--sdk-path` or `CONNECTOR_HOST_SOURCE`
///    (a checkout, for Node and Swift);
/// 2. a connector-host source checkout, found upwards (at most eight levels) from the connector's
///    folder, from the executable and from the current folder, in that order: working on the SDKs,
///    `swift run`, and connectors inside the checkout use the checkout's files;
/// 3. the installed copy, `PREFIX/share/connector-host/sdks/{python,node,swift}`, where `PREFIX/bin`
///    holds the executable (scripts/install.sh lays it out so).
///
/// The executable's own path comes from the kernel (`/proc/self/exe`; `_NSGetExecutablePath` on
/// macOS), so a bare name found on PATH and symbolic links (`~/bin/connector-host` ->
/// `PREFIX/bin/connector-host`) both lead to the installed tree; the path the program was started
/// by (argv[0], looked up on PATH when it is a bare name) is tried too, unresolved, for a link farm
/// whose own `share/` holds the SDKs.
package struct HostResources: Sendable {
    /// The running executable, symbolic links resolved; `nil` if it cannot be known.
    package let executable: String?
    /// The path the executable was started by, absolute, symbolic links kept.
    package let invokedPath: String?
    /// The process environment (for the variables of step 1).
    package let environment: [String: String]
    /// The current folder, absolute.
    package let currentDirectory: String

    /// The resources of this process.
    package static var current: HostResources {
        let environment = ProcessInfo.processInfo.environment
        let directory = FileManager.default.currentDirectoryPath
        return HostResources(
            executable: runningExecutable(),
            invokedPath: CommandLine.arguments.first.flatMap { invoked($0, path: environment["PATH"], currentDirectory: directory) },
            environment: environment, currentDirectory: directory)
    }

    package init(executable: String?, invokedPath: String?, environment: [String: String], currentDirectory: String) {
        self.executable = executable
        self.invokedPath = invokedPath
        self.environment = environment
        self.currentDirectory = currentDirectory
    }

    /// The same resources seen with another environment (a launch given one explicitly).
    package func with(environment: [String: String]) -> HostResources {
        HostResources(executable: executable, invokedPath: invokedPath, environment: environment, currentDirectory: currentDirectory)
    }

    /// The prefixes an installed tree may be under: `PREFIX` of `PREFIX/bin/connector-host`, for the
    /// resolved executable, then for the path it was started by.
    package var prefixes: [String] {
        var result: [String] = []
        for path in [executable, invokedPath].compactMap({ $0 }) {
            let prefix = URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().standardizedFileURL.path
            if !result.contains(prefix) { result.append(prefix) }
        }
        return result
    }

    /// `PREFIX/share/connector-host`, where scripts/install.sh puts everything besides the executable.
    package static func sharedFolder(prefix: String) -> String { prefix + "/share/connector-host" }

    /// The folders the checkout search starts from: `directory` (if any), the executable's folder, the current folder.
    package func searchStarts(from directory: String?) -> [String] {
        var starts = directory.map { [FilePaths.absolute($0, relativeTo: currentDirectory)] } ?? []
        if let executable { starts.append(URL(fileURLWithPath: executable).deletingLastPathComponent().path) }
        starts.append(currentDirectory)
        return starts
    }

    /// The first folder, going up at most eight levels from each of `starts` in order, that contains
    /// `marker` (a relative path).
    static func folder(containing marker: String, startingAt starts: [String]) -> String? {
        for start in starts {
            var current = URL(fileURLWithPath: start).standardizedFileURL
            for _ in 0..<8 {
                if FileManager.default.fileExists(atPath: current.appendingPathComponent(marker).path) { return current.path }
                let parent = current.deletingLastPathComponent()
                if parent.path == current.path { break }
                current = parent
            }
        }
        return nil
    }

    /// Where `sdk` is for a connector in (or a scaffold next to) `directory`, or `nil` when there is
    /// no copy: see the type's documentation for the order.
    package func locate(_ sdk: HostSDK, near directory: String?) -> SDKLocation? {
        if sdk == .python, let given = environment[PythonSDK.variable], !given.isEmpty {
            return SDKLocation(path: FilePaths.absolute(given, relativeTo: currentDirectory), origin: .given)
        }
        let marker = sdk.checkoutFolder.isEmpty ? sdk.marker : sdk.checkoutFolder + "/" + sdk.marker
        if let root = Self.folder(containing: marker, startingAt: searchStarts(from: directory)) {
            return SDKLocation(path: sdk.checkoutFolder.isEmpty ? root : root + "/" + sdk.checkoutFolder, origin: .checkout(root: root))
        }
        return installed(sdk)
    }

    /// The installed copy of `sdk` beside the executable, if there is one.
    package func installed(_ sdk: HostSDK) -> SDKLocation? {
        for prefix in prefixes {
            let folder = Self.sharedFolder(prefix: prefix) + "/" + sdk.installedFolder
            if FileManager.default.fileExists(atPath: folder + "/" + sdk.marker) {
                return SDKLocation(path: folder, origin: .installed(prefix: prefix))
            }
        }
        return nil
    }

    /// Where an installed copy of `sdk` was looked for, for messages: `PREFIX/share/connector-host/sdks/NAME`.
    package func expectedInstalledFolder(_ sdk: HostSDK) -> String {
        (prefixes.first.map { Self.sharedFolder(prefix: $0) } ?? "PREFIX/share/connector-host") + "/" + sdk.installedFolder
    }

    /// What to tell a user who has no copy of `sdk`: where the executable is, where its SDKs were
    /// looked for, and how to install them.
    package func missingAdvice(_ sdk: HostSDK, near directory: String) -> String {
        let executable = executable ?? invokedPath ?? "connector-host"
        return
            "no connector-host checkout above \(directory), the executable or the current folder, and no \(expectedInstalledFolder(sdk)) beside \(executable); install connector-host with its SDKs (scripts/install.sh PREFIX in a checkout of connector-host, then use PREFIX/bin/connector-host)"
    }

    /// The root of the checkout: `explicit` when given, else `$CONNECTOR_HOST_SOURCE` (both checked),
    /// else the one found upwards from `directory` (``locate(_:near:)``), else `nil`.
    /// - Throws: ``LaunchError`` when the named folder is not a checkout.
    package func checkout(explicit: String?, near directory: String?) throws(LaunchError) -> String? {
        let marker = HostSDK.swift.marker
        if let given = explicit ?? environment["CONNECTOR_HOST_SOURCE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let path = FilePaths.absolute(given, relativeTo: currentDirectory)
            guard FileManager.default.fileExists(atPath: path + "/" + marker) else {
                throw LaunchError(
                    "\(path) is not a connector-host checkout (it has no \(marker)); pass the folder that holds its Package.swift")
            }
            return path
        }
        return Self.folder(containing: marker, startingAt: searchStarts(from: directory))
    }

    // MARK: The executable's path

    /// The running executable's path, as the kernel knows it (symbolic links resolved).
    static func runningExecutable() -> String? {
        #if os(Linux)
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = buffer.withUnsafeMutableBufferPointer { pointer in
                pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                    readlink("/proc/self/exe", $0, pointer.count - 1)
                }
            }
            guard count > 0 else { return nil }
            let path = String(decoding: buffer[0..<count], as: UTF8.self)
            // A binary replaced while it runs (a reinstall) reads as "PATH (deleted)".
            return path.hasSuffix(" (deleted)") ? String(path.dropLast(10)) : path
        #elseif canImport(Darwin)
            var size: UInt32 = 0
            _ = _NSGetExecutablePath(nil, &size)
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            guard _NSGetExecutablePath(&buffer, &size) == 0 else { return nil }
            let raw = String(cString: buffer)
            return URL(fileURLWithPath: raw).resolvingSymlinksInPath().path
        #else
            return nil
        #endif
    }

    /// The absolute path `argument0` names: relative to `currentDirectory` when it has a slash, else
    /// the first executable file of that name in `path` (as the shell found it).
    static func invoked(_ argument0: String, path: String?, currentDirectory: String) -> String? {
        if argument0.contains("/") { return FilePaths.absolute(argument0, relativeTo: currentDirectory) }
        for folder in (path ?? "").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = FilePaths.absolute((folder.isEmpty ? "." : String(folder)) + "/" + argument0, relativeTo: currentDirectory)
            if access(candidate, X_OK) == 0, !isDirectory(candidate) { return candidate }
        }
        return nil
    }

    private static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}
