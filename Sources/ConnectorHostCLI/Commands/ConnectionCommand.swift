import ConnectorHost
import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `connection create NAME --package ID [--configuration FILE] [--every DURATION]`.
struct ConnectionCreateOptions: ParsableArguments {
    var name = ""
    var package: String?
    var configuration: String?
    var every: Double?
    var destination = DestinationOptions()
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "NAME", \.name, noun: "a name for the connection", example: "orders --package pkg_0123456789abcdef",
                help: "the connection's name (letters, digits, - _ .)"),
            .option("package", "ID", \.package, .text, help: "the package whose code it runs (required)"),
            .option(
                "configuration", "FILE", \.configuration, .text,
                help: "configuration JSON object, copied into the registry (0600); default {}"),
            .option(
                "every", "DURATION", \.every, .duration,
                help: "sync on this interval under `schedule` (30s, 15m, 6h, 1d); default: manual only"),
            .lifted(DestinationOptions.destination, into: \.destination)
                .withHelp("sync into PostgreSQL instead of the connection's SQLite file: postgresql://USER@HOST:PORT/DATABASE"),
            .lifted(DestinationOptions.schema, into: \.destination)
                .withHelp("with --destination: the schema of the connection's tables and state (default: the connection's name)"),
            .flag("json", \.json, help: "print the connection as a JSON object"),
        ]
    }

    func validate(command: String) throws(UsageError) {
        guard package != nil else {
            throw UsageError(
                "`\(command)` needs --package ID: connector-host \(command) \(name.isEmpty ? "NAME" : name) --package pkg_0123456789abcdef (package list shows the ids)"
            )
        }
        if let schema = destination.schema {
            if schema.isEmpty { throw UsageError("--schema needs a schema name") }
            if destination.destination == nil {
                throw UsageError("--schema names a PostgreSQL schema and goes with --destination postgresql://...")
            }
        }
        if let every, every < 1 || every != every.rounded() {
            throw UsageError("--every takes whole seconds, at least 1 (e.g. 30s, 15m), not \(every) s")
        }
    }
}

/// `connection show|pause|resume NAME`.
struct ConnectionNameOptions: ParsableArguments {
    var name = ""
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional("NAME", \.name, noun: "a connection name", example: "orders", help: "the connection's name"),
            .flag("json", \.json, help: "print the connection as a JSON object"),
        ]
    }
}

/// `connection delete NAME [--yes]`.
struct ConnectionDeleteOptions: ParsableArguments {
    var name = ""
    var yes = false
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional("NAME", \.name, noun: "a connection name", example: "orders --yes", help: "the connection's name"),
            .flag("yes", \.yes, help: "do not ask for confirmation"),
            .flag("json", \.json, help: "print a JSON object instead of text"),
        ]
    }
}

/// `connection list`.
struct ConnectionListOptions: ParsableArguments {
    var json = false

    static var arguments: [Argument<Self>] {
        [.flag("json", \.json, help: "print {\"items\": [...]}, one object per connection")]
    }
}

extension CommandLineInterface {
    static var connectionCommand: CommandGroup {
        CommandGroup(
            name: "connection", summary: "Bind packages to configurations; list, show, pause, resume and delete connections.",
            details: """
                A connection runs one package's code with its own configuration, warehouse and state (in
                $CONNECTOR_HOST_HOME/connections/). Sync it with `connector-host run --connection NAME`,
                or give it --every and let `connector-host schedule` run it.
                """,
            commands: [
                connectionCreateCommand, connectionListCommand, connectionShowCommand, connectionPauseCommand, connectionResumeCommand,
                connectionDeleteCommand,
            ])
    }

    static var connectionCreateCommand: Command<ConnectionCreateOptions> {
        Command(
            name: "create", summary: "Create a connection: a package, a configuration, optionally a schedule.",
            details: """
                The configuration file is copied into the registry, readable by you only (0600); its secret
                values are never printed. With --every the first scheduled sync is due at once. With
                --destination the connection syncs into PostgreSQL (the schema --schema, else the
                connection's name) instead of its own SQLite file; the URI is kept as privately as the
                configuration and shown without its password.
                """,
            synopsis: "NAME --package ID [--configuration FILE] [--every DURATION] [--destination URI [--schema NAME]] [--json]"
        ) { options in
            withRegistry { registry throws(RegistryError) in
                let connection = try registry.createConnection(
                    name: options.name, packageID: options.package ?? "", configurationPath: options.configuration,
                    intervalSeconds: options.every.map { Int64($0) },
                    destination: options.destination.destination.map { PostgresTarget(address: $0, schema: options.destination.schema) })
                let status = try registry.status(of: connection)
                print(options.json ? RegistryFormatter.json(status) : RegistryFormatter.text(status))
                return 0
            }
        }
    }

    static var connectionListCommand: Command<ConnectionListOptions> {
        Command(name: "list", summary: "List the connections with their schedule, state, last and next sync.") { options in
            withRegistry { registry throws(RegistryError) in
                let statuses = try registry.connections().map { connection throws(RegistryError) in
                    try registry.status(of: connection, recent: 1)
                }
                print(options.json ? RegistryFormatter.json(statuses) : RegistryFormatter.text(statuses))
                return 0
            }
        }
    }

    static var connectionShowCommand: Command<ConnectionNameOptions> {
        Command(
            name: "show", summary: "Show a connection: its package, schedule, last and next sync, files.",
            details: "The configuration is shown with the values of secret-looking keys (and of the keys __secrets lists) masked."
        ) { options in
            withRegistry { registry throws(RegistryError) in
                let status = try registry.status(of: options.name, recent: 5)
                print(options.json ? RegistryFormatter.json(status) : RegistryFormatter.text(status))
                return 0
            }
        }
    }

    static var connectionPauseCommand: Command<ConnectionNameOptions> {
        Command(name: "pause", summary: "Pause a connection's schedule (a running sync finishes).") { options in
            withRegistry { registry throws(RegistryError) in
                _ = try registry.setPaused(options.name, true)
                let status = try registry.status(of: options.name)
                print(options.json ? RegistryFormatter.json(status) : "paused \(options.name)")
                return 0
            }
        }
    }

    static var connectionResumeCommand: Command<ConnectionNameOptions> {
        Command(name: "resume", summary: "Resume a paused connection (a due time that passed syncs at once).") { options in
            withRegistry { registry throws(RegistryError) in
                _ = try registry.setPaused(options.name, false)
                let status = try registry.status(of: options.name)
                print(options.json ? RegistryFormatter.json(status) : "resumed \(options.name)")
                return 0
            }
        }
    }

    static var connectionDeleteCommand: Command<ConnectionDeleteOptions> {
        Command(
            name: "delete", summary: "Delete a connection with its configuration, warehouse, state and history.",
            details: "Refused while the connection syncs. Asks first unless --yes. The package stays.",
            synopsis: "NAME [--yes] [--json]"
        ) { options in
            if !options.yes && isatty(0) != 1 {
                throw UsageError(
                    "connection delete removes the configuration, warehouse, state and history of \(options.name); pass --yes to confirm when not on a terminal"
                )
            }
            return withRegistry { registry throws(RegistryError) in
                let status = try registry.status(of: options.name)
                if !options.yes {
                    print("Delete connection \(options.name), its configuration, warehouse and history? [y/N] ", terminator: "")
                    guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                        print("nothing deleted")
                        return 1
                    }
                }
                try registry.deleteConnection(options.name)
                print(
                    options.json
                        ? JSONWriter.string(["id": .string(status.connection.id), "name": .string(options.name), "deleted": .bool(true)])
                        : "deleted connection \(options.name)")
                return 0
            }
        }
    }
}
