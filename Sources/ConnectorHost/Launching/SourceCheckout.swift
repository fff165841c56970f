import Foundation

/// Finds the connector-host source checkout, which holds the SDKs (`sdks/python`, the Swift
/// `ConnectorSDK` package, the Node helper) that connectors outside it need.
///
/// The search goes up from a few starting folders, because the checkout is usually an ancestor
/// of the connector (connectors/, examples/), of the running executable (.build/debug/), or of the
/// current folder.
enum SourceCheckout {
    /// The first folder, going up at most eight levels from each of `starts` in order, that
    /// contains `marker` (a relative path).
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

    /// The usual starting folders: `directory` (if any), the running executable's folder, the current folder.
    static func starts(from directory: String?) -> [String] {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent().path
        return (directory.map { [$0] } ?? []) + [executable, FileManager.default.currentDirectoryPath]
    }

    /// The root of the checkout (the folder with the root `Package.swift` and `Sources/ConnectorSDK`):
    /// `explicit` when given, else `$CONNECTOR_HOST_SOURCE`, else searched from `directory`.
    /// - Throws: ``LaunchError`` saying how to point at the checkout.
    static func root(explicit: String?, near directory: String?, environment: [String: String]) throws(LaunchError) -> String {
        let marker = "Sources/ConnectorSDK/Connector.swift"
        if let given = explicit ?? environment["CONNECTOR_HOST_SOURCE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let path = FilePaths.absolute(given)
            guard FileManager.default.fileExists(atPath: path + "/" + marker) else {
                throw LaunchError(
                    "\(path) is not a connector-host checkout (it has no \(marker)); pass the folder that holds its Package.swift")
            }
            return path
        }
        guard let found = folder(containing: marker, startingAt: starts(from: directory)) else {
            throw LaunchError(
                "cannot find the connector-host source checkout (with \(marker)); pass --sdk-path /path/to/connector-host or set CONNECTOR_HOST_SOURCE"
            )
        }
        return found
    }
}
