import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The folder where the registry keeps its files: `$CONNECTOR_HOST_HOME`, default `~/.connector-host`.
///
/// ```
/// registry.db                    packages, connections, their sync history (SQLite)
/// packages/<sha256>.zip          package files, named by their hash (content-addressed)
/// cache/<sha256>/                unpacked packages; cache/<sha256>/files/venv for Python requirements
/// connections/<id>/              one per connection: configuration.json (0600), files/warehouse.db,
///                                files/state.json, sync.lock, last-sync.log
/// scheduler.lock                 held by the running `connector-host schedule`
/// ```
/// Everything is user-only: folders 0700, files 0600.
public struct ConnectorHostHome: Sendable, Equatable {
    public let path: String

    /// The home named by the environment (`CONNECTOR_HOST_HOME`, else `$HOME/.connector-host`).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let explicit = environment["CONNECTOR_HOST_HOME"], !explicit.isEmpty {
            path = FilePaths.absolute(explicit)
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            path = FilePaths.absolute(home + "/.connector-host")
        }
    }

    public init(path: String) { self.path = FilePaths.absolute(path) }

    public var database: String { path + "/registry.db" }
    public var packagesFolder: String { path + "/packages" }
    public var cacheFolder: String { path + "/cache" }
    public var connectionsFolder: String { path + "/connections" }
    public var schedulerLock: String { path + "/scheduler.lock" }

    /// The stored file of a package with this hash.
    public func packageFile(sha256: String) -> String { packagesFolder + "/" + sha256 + ".zip" }
    /// Where a package with this hash is unpacked.
    public func unpackedPackage(sha256: String) -> String { cacheFolder + "/" + sha256 }
    public func connectionFolder(id: String) -> String { connectionsFolder + "/" + id }

    /// Creates the home's folders, user-only, if they do not exist.
    func createFolders() throws(RegistryError) {
        for folder in [path, packagesFolder, cacheFolder, connectionsFolder] {
            try Self.makeFolder(folder)
        }
    }

    static func makeFolder(_ folder: String) throws(RegistryError) {
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RegistryError(.failed, "cannot create \(folder): \(error.localizedDescription)")
        }
    }
}
