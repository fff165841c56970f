/// Why a connector could not be prepared or started.
public struct LaunchError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// Whether the folder itself is wrong (missing, not a folder, no connector in it): a usage error.
    public let isUsageError: Bool
    public init(_ message: String, isUsageError: Bool = false) {
        self.message = message
        self.isUsageError = isUsageError
    }
    public var description: String { message }
}

/// How to start one connector: the result of reading its directory.
public struct LaunchPlan: Sendable, Equatable {
    /// The connector's name (the manifest's, else the directory's).
    public var name: String
    /// The connector directory, absolute.
    public var directory: String
    /// The command, with the executable resolved.
    public var arguments: [String]
    /// A build command to run first (in `directory`), if any.
    public var buildCommand: [String]?
    /// Extra environment variables for the connector.
    public var environment: [String: String]
    /// Variables of the host's environment to pass even though they look secret (the manifest's
    /// `"passEnvironment"`); see ``HostEnvironment``.
    public var passEnvironment: [String] = []
    /// Which kind of connector this is, for messages.
    public var kind: Kind
    /// A short description of the build step for the console, when the command itself is not one.
    public var buildSummary: String? = nil
    /// A file the build step writes only when it builds something (the executable, the virtual
    /// environment's record of what it installed): the build's output is shown when this file
    /// changed, and not when the build found nothing to do.
    public var buildArtifact: String? = nil
    /// The manifest's `"destination"`: a PostgreSQL URI to sync into instead of the SQLite warehouse.
    public var destination: String? = nil
    /// The manifest's `"schema"`: the PostgreSQL schema (default: the connector's name).
    public var destinationSchema: String? = nil

    public enum Kind: String, Sendable {
        /// Started from `connector.json`; started with the Python SDK; already running (`run --attach`).
        case manifest, python, attached
        /// A Singer tap or an Airbyte source behind `connector-host adapter`.
        case adapter
    }
}
