import Foundation

/// The languages `connector-host init` scaffolds.
public enum ScaffoldLanguage: String, Sendable, CaseIterable {
    case swift, python, node
}

/// Why a scaffold could not be created.
public struct ScaffoldError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// Whether the command line is wrong (a bad name, a folder that is taken): exit 2.
    public let isUsageError: Bool
    public init(_ message: String, isUsageError: Bool = false) {
        self.message = message
        self.isUsageError = isUsageError
    }
    public var description: String { message }
}

/// Creates a new connector folder that runs at once with `connector-host run`: a connector in the
/// chosen language, a configuration example, a README, and a manifest where the language needs one.
///
/// Every scaffold does the same small thing, so the pieces are easy to find and replace: one table
/// `greeting` (primary key `id`), three new rows per run read from a cursor in the state, the text
/// taken from `configuration.json`, and a checkpoint that commits the rows with the new cursor.
///
/// How each language finds its SDK (``HostResources`` decides where, for every SDK: a checkout found
/// upwards from the new folder, the executable or the current folder, else the copy installed beside
/// the executable in `PREFIX/share/connector-host/sdks/`):
/// - Python: nothing is copied; `run` uses the SDK installed for the interpreter, else the checkout's
///   or the installed `sdks/python` (found as for any `connector.py`, see ``PythonSDK``).
/// - Node: the protocol helper `protocol.js` (no npm packages) is copied from `sdks/node`, so the
///   folder is self-contained: it runs with `node` alone, and keeps running when connector-host is
///   upgraded or moved (copying it again takes the new helper).
/// - Swift: a standalone SwiftPM package whose `Package.swift` depends by path on the checkout
///   (relative when the scaffold is inside it, absolute otherwise) or, outside any checkout, on the
///   installed Swift SDK package (`PREFIX/share/connector-host/sdks/swift`, products `ConnectorSDK`
///   and `ConnectorProtocol`, no dependencies). The manifest builds it with `swift build` on the first
///   `run` (which compiles the SDK once, some seconds) and starts `.build/debug/NAME`. This keeps
///   the checkout's own Package.swift untouched; a connector meant to ship with this repository is
///   instead added there as an executable target with a `{"swiftProduct": ...}` manifest, like
///   `connectors/hello`.
public struct ConnectorScaffold: Sendable {
    public let name: String
    public let language: ScaffoldLanguage
    /// The folder to create (absolute).
    public let directory: String
    /// The folder of the SDK the Swift and Node scaffolds use (absolute): the Swift SDK package (a
    /// checkout's root or the installed `sdks/swift`), the Node helper's folder; `nil` for Python.
    public var sdkFolder: String? { sdk?.path }
    let sdk: SDKLocation?

    /// Validates the name and finds what the language needs.
    /// - Parameters:
    ///   - directory: where to create the connector (default `./NAME`).
    ///   - sdkPath: the connector-host checkout, when it should not be searched for.
    /// - Throws: ``ScaffoldError`` for a bad name, a non-empty folder, or a checkout that cannot be found.
    public init(
        name: String, language: ScaffoldLanguage, directory: String? = nil, sdkPath: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ScaffoldError) {
        let allowed = name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_" }
        guard let first = name.unicodeScalars.first, CharacterSet.letters.contains(first), first.isASCII, allowed else {
            throw ScaffoldError(
                "the connector name \"\(name)\" must start with a letter and hold only letters, digits, - and _ (it names the folder, the manifest and, in Swift, the executable)",
                isUsageError: true)
        }
        self.name = name
        self.language = language
        self.directory = FilePaths.absolute(directory ?? name)
        if FileManager.default.fileExists(atPath: self.directory),
            !((try? FileManager.default.contentsOfDirectory(atPath: self.directory))?.isEmpty ?? false)
        {
            throw ScaffoldError("\(self.directory) already exists and is not empty; choose another --directory or name", isUsageError: true)
        }
        sdk = try language == .python ? nil : Self.locateSDK(language, near: self.directory, sdkPath: sdkPath, environment: environment)
    }

    /// The Swift SDK package or the Node helper's folder for a scaffold in `directory`: the checkout
    /// named by `sdkPath` (or `$CONNECTOR_HOST_SOURCE`), else one found upwards, else the installed copy.
    private static func locateSDK(_ language: ScaffoldLanguage, near directory: String, sdkPath: String?, environment: [String: String])
        throws(ScaffoldError) -> SDKLocation
    {
        let sdk: HostSDK = language == .swift ? .swift : .node
        let resources = HostResources.current.with(environment: environment)
        let root: String?
        do { root = try resources.checkout(explicit: sdkPath, near: (directory as NSString).deletingLastPathComponent) } catch {
            throw ScaffoldError(error.message)
        }
        if let root {
            return SDKLocation(path: sdk.checkoutFolder.isEmpty ? root : root + "/" + sdk.checkoutFolder, origin: .checkout(root: root))
        }
        if let installed = resources.installed(sdk) { return installed }
        throw ScaffoldError(
            "a \(language.rawValue) connector needs connector-host's \(sdk.title), and there is \(resources.missingAdvice(sdk, near: directory)); or pass --sdk-path /path/to/connector-host (a checkout)"
        )
    }

    /// The files to write, by path relative to ``directory``.
    public func files() throws(ScaffoldError) -> [(path: String, content: String)] {
        let templates = ScaffoldTemplates(
            name: name, typeName: typeName, packageReference: packageReference, sdkIsInstalled: sdk.map { !$0.isCheckout } ?? false)
        var files = [
            ("configuration.json", templates.configuration),
            ("README.md", templates.readme(language)),
            (".gitignore", language == .swift ? "files/\n.build/\n" : "files/\n"),
        ]
        switch language {
        case .python:
            files += [("connector.py", templates.python), ("requirements.txt", templates.requirements)]
        case .node:
            let helper = (sdk?.path ?? "") + "/protocol.js"
            guard let protocolHelper = try? String(contentsOfFile: helper, encoding: .utf8) else {
                throw ScaffoldError(
                    "cannot read the Node helper \(helper); pass --sdk-path with a complete connector-host checkout, or install connector-host again with scripts/install.sh"
                )
            }
            files += [
                ("connector.json", templates.nodeManifest), ("connector.js", templates.node), ("protocol.js", protocolHelper),
            ]
        case .swift:
            files += [
                ("connector.json", templates.swiftManifest), ("Package.swift", templates.swiftPackage),
                ("Sources/\(typeName).swift", templates.swift),
            ]
        }
        return files
    }

    /// Writes the files.
    /// - Returns: the paths written, relative to ``directory``.
    @discardableResult
    public func create() throws(ScaffoldError) -> [String] {
        let files = try files()
        for (path, content) in files {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(path)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try content.write(to: url, atomically: true, encoding: .utf8)
            } catch {
                throw ScaffoldError("cannot write \(url.path): \(error.localizedDescription)")
            }
        }
        return files.map(\.path)
    }

    /// `my-source` -> `MySource`: the Swift type (and file) name.
    var typeName: String {
        let words = name.split(whereSeparator: { $0 == "-" || $0 == "_" })
        let joined = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return joined.isEmpty ? "Connector" : joined
    }

    /// How the Swift scaffold's Package.swift names the SDK package: a path (relative when the
    /// scaffold is inside it) and the package identity (SwiftPM's: the folder's name, lowercased).
    var packageReference: (path: String, identity: String) {
        guard let checkout = sdk?.path else { return ("", "") }
        let identity = URL(fileURLWithPath: checkout).lastPathComponent.lowercased()
        let target = URL(fileURLWithPath: directory).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: checkout).standardizedFileURL.pathComponents
        guard target.starts(with: base) else { return (checkout, identity) }
        let depth = target.count - base.count
        return (Array(repeating: "..", count: depth).joined(separator: "/"), identity)
    }
}
