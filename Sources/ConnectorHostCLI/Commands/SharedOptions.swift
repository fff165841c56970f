import ConnectorHost

/// Which connector to start and how: shared by `run` and `conformance`.
struct ConnectorOptions: ParsableArguments {
    var configuration: String?
    var noBuild = false

    static var configuration: Argument<Self> {
        .option(
            "configuration", "FILE", \.configuration, .text, help: "configuration JSON object (default: DIR/configuration.json if present)")
    }
    static var noBuild: Argument<Self> {
        .flag(
            "no-build", \.noBuild, help: "skip the manifest's build step and run the existing executable")
    }

    static var arguments: [Argument<Self>] { [configuration, noBuild] }
}

/// Where a connector's warehouse and state live: shared by `run`, `reset` and `inspect`.
struct FileOptions: ParsableArguments {
    var warehouse: String?
    var state: String?

    static var warehouse: Argument<Self> {
        .option(
            "warehouse", "FILE", \.warehouse, .text, help: "the SQLite warehouse (default: DIR/files/warehouse.db)")
    }
    static var state: Argument<Self> {
        .option(
            "state", "FILE", \.state, .text, help: "the state mirror (default: DIR/files/state.json)")
    }

    static var arguments: [Argument<Self>] { [warehouse, state] }

    /// The files of the connector in `directory` (absolute).
    func workspace(directory: String) -> WorkspaceFiles {
        WorkspaceFiles(directory: directory, warehouse: warehouse, state: state)
    }
}
