import ConnectorHost
import ConnectorPackaging
import ConnectorProtocol
import Foundation

/// `connector-host package [DIR]`: a deterministic zip of a connector folder, with its SHA-256.
struct PackageOptions: ParsableArguments {
    var directory: String?
    var output: String?
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "DIR", \.directory, noun: "the connector folder", example: "connectors/hello",
                help: "the connector folder (default: the current folder)"),
            .option("output", "FILE", \.output, .text, help: "where to write the zip (default: DIR/files/FOLDER.zip)"),
            .flag("json", \.json, help: "print one JSON object instead of text"),
        ]
    }
}

/// `package create [DIR]`.
struct PackageCreateOptions: ParsableArguments {
    var directory: String?
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "DIR", \.directory, noun: "the connector folder", example: "connectors/hello",
                help: "the connector folder (default: the current folder)"),
            .flag("json", \.json, help: "print the package as a JSON object (the REST resource's fields)"),
        ]
    }
}

/// `package show|delete ID`.
struct PackageIDOptions: ParsableArguments {
    var id = ""
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional(
                "ID", \.id, noun: "a package id", example: "pkg_0123456789abcdef", help: "the package's id (package list shows them)"),
            .flag("json", \.json, help: "print a JSON object instead of text"),
        ]
    }
}

/// `package update ID [DIR]`.
struct PackageUpdateOptions: ParsableArguments {
    var id = ""
    var directory: String?
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional("ID", \.id, noun: "a package id", example: "pkg_0123456789abcdef DIR", help: "the package's id"),
            .positional(
                "DIR", \.directory, noun: "the connector folder", example: "pkg_0123456789abcdef connectors/hello",
                help: "the connector folder with the new code (default: the current folder)"),
            .flag("json", \.json, help: "print the package as a JSON object"),
        ]
    }
}

/// `package download ID --output FILE`.
struct PackageDownloadOptions: ParsableArguments {
    var id = ""
    var output: String?
    var json = false

    static var arguments: [Argument<Self>] {
        [
            .positional("ID", \.id, noun: "a package id", example: "pkg_0123456789abcdef --output hello.zip", help: "the package's id"),
            .option("output", "FILE", \.output, .text, help: "where to write the package's zip (required)"),
            .flag("json", \.json, help: "print the package as a JSON object"),
        ]
    }

    func validate(command: String) throws(UsageError) {
        guard output != nil else {
            throw UsageError("`\(command)` needs --output FILE: connector-host \(command) \(id.isEmpty ? "ID" : id) --output package.zip")
        }
    }
}

/// `package list`.
struct PackageListOptions: ParsableArguments {
    var json = false

    static var arguments: [Argument<Self>] {
        [.flag("json", \.json, help: "print {\"items\": [...]} with each package's REST fields")]
    }
}

extension CommandLineInterface {
    /// Opens the registry of `$CONNECTOR_HOST_HOME` (default ~/.connector-host).
    static func openRegistry() throws(RegistryError) -> ConnectorRegistry {
        try ConnectorRegistry(home: ConnectorHostHome())
    }

    /// Runs `body` against the registry; a ``RegistryError`` is printed and exits 1.
    static func withRegistry(_ body: (ConnectorRegistry) throws(RegistryError) -> Int32) -> Int32 {
        do throws(RegistryError) {
            return try body(try openRegistry())
        } catch {
            writeError("error: \(error.message)")
            return error.kind == .busy ? 75 : 1
        }
    }

    static var packageCommand: CommandGroup {
        CommandGroup(
            name: "package", summary: "Package a connector folder; store, list and manage packages in the local registry.",
            commands: [
                packageCreateCommand, packageListCommand, packageShowCommand, packageUpdateCommand, packageDeleteCommand,
                packageDownloadCommand,
            ],
            defaultCommand: packageZipCommand)
    }

    static var packageZipCommand: Command<PackageOptions> {
        Command(
            name: "package", summary: "Package a connector folder into a deterministic zip and print its SHA-256.",
            details: """
                Writes a zip of DIR (protocol/PACKAGE.md): its files in sorted order with fixed dates and
                modes, plus connector-package.json (protocol version, language, start command, SDK version).
                The same folder gives the same bytes, and the same SHA-256, on any machine. Left out: every
                configuration.json and destination.json, files/, virtual environments, __pycache__, .git,
                hidden files, and whatever DIR's .gitignore files exclude (nested ones and ! negations
                included). Prints the zip's path and its SHA-256 (what sha256sum prints). To store it in the
                local registry, use `package create`.
                """,
            synopsis: "[DIR] [--output FILE] [--json]"
        ) { options in
            let directory = FilePaths.absolute(options.directory ?? ".")
            let name = URL(fileURLWithPath: directory).lastPathComponent
            let output = options.output ?? directory + "/files/\(name.isEmpty ? "package" : name).zip"
            do throws(PackagingError) {
                let built = try PackageBuilder.build(
                    directory: directory, output: output, sdkVersion: SyncRunner.hostInfo["version"]?.stringValue ?? "0.1.0")
                print(options.json ? RegistryFormatter.json(built) : RegistryFormatter.text(built))
                return 0
            } catch {
                writeError("error: \(error.message)")
                return 1
            }
        }
    }

    static var packageCreateCommand: Command<PackageCreateOptions> {
        Command(
            name: "create", summary: "Package a connector folder and store it in the local registry.",
            details: """
                Packages DIR as `connector-host package` does and stores the zip in $CONNECTOR_HOST_HOME
                (default ~/.connector-host) under its SHA-256. Prints the new package: its id (pkg_...),
                hash and times. Bind it to a configuration with `connection create NAME --package ID`.
                """
        ) { options in
            withRegistry { registry throws(RegistryError) in
                let package = try registry.createPackage(from: options.directory ?? ".")
                print(options.json ? RegistryFormatter.json(package) : RegistryFormatter.text(package))
                return 0
            }
        }
    }

    static var packageListCommand: Command<PackageListOptions> {
        Command(name: "list", summary: "List the packages of the local registry.") { options in
            withRegistry { registry throws(RegistryError) in
                let packages = try registry.packages()
                print(options.json ? RegistryFormatter.json(packages) : RegistryFormatter.text(packages))
                return 0
            }
        }
    }

    static var packageShowCommand: Command<PackageIDOptions> {
        Command(name: "show", summary: "Show a package: its hash, times, metadata and the connections that use it.") { options in
            withRegistry { registry throws(RegistryError) in
                let package = try registry.package(options.id)
                print(options.json ? RegistryFormatter.json(package) : RegistryFormatter.text(package))
                return 0
            }
        }
    }

    static var packageUpdateCommand: Command<PackageUpdateOptions> {
        Command(
            name: "update", summary: "Replace a package's code with a new package of a folder.",
            details: """
                Packages DIR and makes it the code of package ID (a new SHA-256, updated_at and
                last_updated_by). Every connection that uses the package runs the new code from its next sync.
                """
        ) { options in
            withRegistry { registry throws(RegistryError) in
                let before = try registry.package(options.id)
                let package = try registry.updatePackage(options.id, from: options.directory ?? ".")
                if options.json {
                    print(RegistryFormatter.json(package))
                } else {
                    print(RegistryFormatter.text(package))
                    if before.sha256 == package.sha256 { print("(the code did not change: same SHA-256)") }
                    if package.connectionIDs.count > 1 {
                        print("shared by \(package.connectionIDs.count) connections: each runs the new code from its next sync")
                    }
                }
                return 0
            }
        }
    }

    static var packageDeleteCommand: Command<PackageIDOptions> {
        Command(
            name: "delete", summary: "Delete a package (refused while a connection uses it).",
            details:
                "Deletes package ID and, unless another package has the same content, its file. Refused while a connection uses the package; the message names them."
        ) { options in
            withRegistry { registry throws(RegistryError) in
                let package = try registry.package(options.id)
                try registry.deletePackage(options.id)
                print(
                    options.json
                        ? JSONWriter.string(["id": .string(package.id), "deleted": .bool(true)]) : "deleted package \(package.id)")
                return 0
            }
        }
    }

    static var packageDownloadCommand: Command<PackageDownloadOptions> {
        Command(
            name: "download", summary: "Write a package's zip to a file, after checking its SHA-256.",
            synopsis: "ID --output FILE [--json]"
        ) { options in
            withRegistry { registry throws(RegistryError) in
                let package = try registry.downloadPackage(options.id, to: options.output ?? "")
                if options.json {
                    print(RegistryFormatter.json(package))
                } else {
                    print(FilePaths.absolute(options.output ?? ""))
                    print("sha256: \(package.sha256)")
                }
                return 0
            }
        }
    }
}
