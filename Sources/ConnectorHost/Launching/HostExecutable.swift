import Foundation

/// The `connector-host` executable, which the launcher starts again as `connector-host adapter`
/// for Singer taps and Airbyte sources.
enum HostExecutable {
    /// `$CONNECTOR_HOST_EXECUTABLE` when set; else the running executable when it is connector-host;
    /// else a `connector-host` beside it (a test bundle or a tool embedding the library, built into
    /// the same folder).
    /// - Throws: ``LaunchError`` saying how to point the host at its executable.
    static func path(environment: [String: String]) throws(LaunchError) -> String {
        if let explicit = environment["CONNECTOR_HOST_EXECUTABLE"], !explicit.isEmpty { return FilePaths.absolute(explicit) }
        let running = runningExecutable()
        if let running, URL(fileURLWithPath: running).lastPathComponent == "connector-host" { return running }
        if let running {
            let sibling = URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("connector-host").path
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        throw LaunchError(
            "a Singer or Airbyte connector runs through the connector-host executable, which was not found beside \(running ?? "this program"); set CONNECTOR_HOST_EXECUTABLE to its path"
        )
    }

    private static func runningExecutable() -> String? {
        #if os(Linux)
            if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        #endif
        return Bundle.main.executablePath
    }
}
