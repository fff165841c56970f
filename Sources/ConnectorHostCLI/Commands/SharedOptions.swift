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

/// A PostgreSQL destination instead of the SQLite warehouse: shared by `run`, `reset`, `inspect`, `diff` and `replay`.
struct DestinationOptions: ParsableArguments {
    var destination: PostgresAddress?
    var schema: String?

    static var destination: Argument<Self> {
        .option(
            "destination", "URI", \.destination, .postgresURI,
            help: "PostgreSQL instead of the SQLite warehouse: postgresql://USER@HOST:PORT/DATABASE (default: the manifest's)")
    }
    static var schema: Argument<Self> {
        .option(
            "schema", "NAME", \.schema, .text,
            help: "the PostgreSQL schema of the connector's tables (default: the manifest's, else the connector's name)")
    }

    static var arguments: [Argument<Self>] { [destination, schema] }

    /// `--warehouse` names an SQLite file: it and `--destination` exclude each other.
    func validate(command: String, files: FileOptions) throws(UsageError) {
        if destination != nil, files.warehouse != nil {
            throw UsageError(
                "`\(command)` takes --warehouse (an SQLite file) or --destination (PostgreSQL), not both")
        }
        if let schema, schema.isEmpty { throw UsageError("--schema needs a schema name") }
    }

    /// Puts the destination into the library's options.
    func apply(to options: inout SyncOptions) {
        if let destination { options.postgres = PostgresTarget(address: destination, schema: schema) }
        options.schema = schema
    }
}
