import ConnectorProtocol

/// The `connector-package.json` entry of a package: what it is and how to start it.
///
/// Written by the packager from the folder alone (never from the machine), as compact JSON with
/// sorted keys and a final newline, so that it is as deterministic as the rest of the archive.
public struct PackageMetadata: Sendable, Equatable {
    /// The entry's path in the archive.
    public static let fileName = "connector-package.json"
    /// The version of the package format this module writes and reads.
    public static let currentFormatVersion = 1

    public var formatVersion: Int = currentFormatVersion
    /// The connector protocol version the package's connector speaks.
    public var protocolVersion: Int = ProtocolVersion.current
    /// `python`, `node`, `swift` or `executable`; informative.
    public var language: String
    /// How the host starts the connector, relative to the unpacked folder: the manifest's command,
    /// or, for a `connector.py` without manifest, the Python SDK's runner.
    public var command: [String]
    /// The version of the connector-host SDKs the packager shipped with.
    public var sdkVersion: String
    /// The manifest's `name`, when it has one (the folder's name is not used: it differs between checkouts).
    public var name: String?

    public init(language: String, command: [String], sdkVersion: String, name: String? = nil) {
        self.language = language
        self.command = command
        self.sdkVersion = sdkVersion
        self.name = name
    }

    /// The entry's bytes.
    public func encoded() -> [UInt8] {
        var object: JSONObject = [
            "command": .array(command.map(JSONValue.string)), "formatVersion": .number(JSONNumber(formatVersion)),
            "language": .string(language), "protocolVersion": .number(JSONNumber(protocolVersion)), "sdkVersion": .string(sdkVersion),
        ]
        if let name { object["name"] = .string(name) }
        return Array((JSONWriter.string(.object(object), sortedKeys: true) + "\n").utf8)
    }

    /// Reads the entry of a package.
    /// - Throws: ``PackagingError`` when it is not valid JSON, misses a field, or has a format or
    ///   protocol version this host does not speak.
    public init(decoding bytes: [UInt8], archive: String) throws(PackagingError) {
        let place = "\(archive): \(Self.fileName)"
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw PackagingError("\(place) is not valid JSON: \(error)") }
        guard value.objectValue != nil else { throw PackagingError("\(place) must hold a JSON object") }
        guard let format = value["formatVersion"]?.int64Value.map({ Int($0) }) else {
            throw PackagingError("\(place) has no \"formatVersion\" number")
        }
        guard format == Self.currentFormatVersion else {
            throw PackagingError(
                "\(place) has format version \(format); this connector-host reads version \(Self.currentFormatVersion). Package the connector again with this connector-host, or upgrade it"
            )
        }
        guard let protocolVersion = value["protocolVersion"]?.int64Value.map({ Int($0) }) else {
            throw PackagingError("\(place) has no \"protocolVersion\" number")
        }
        guard ProtocolVersion.supported.contains(protocolVersion) else {
            throw PackagingError(
                "\(place) says the connector speaks protocol version \(protocolVersion); this connector-host speaks \(ProtocolVersion.supported.sorted().map(String.init).joined(separator: ", "))"
            )
        }
        guard let language = value["language"]?.stringValue else { throw PackagingError("\(place) has no \"language\" string") }
        guard let commandValues = value["command"]?.arrayValue, !commandValues.isEmpty,
            case let command = commandValues.compactMap(\.stringValue), command.count == commandValues.count
        else { throw PackagingError("\(place) needs \"command\": a non-empty array of strings") }
        guard let sdkVersion = value["sdkVersion"]?.stringValue else { throw PackagingError("\(place) has no \"sdkVersion\" string") }
        self.init(language: language, command: command, sdkVersion: sdkVersion, name: value["name"]?.stringValue)
        self.formatVersion = format
        self.protocolVersion = protocolVersion
    }

    /// Works out the metadata from a connector folder's `connector.json` or `connector.py`.
    /// - Throws: ``PackagingError`` when the folder has neither, or when its manifest starts a
    ///   program outside the folder that a package cannot carry.
    public static func detect(directory: String, sdkVersion: String) throws(PackagingError) -> PackageMetadata {
        let manifestPath = directory + "/connector.json"
        if FileInput.isRegularFile(manifestPath) {
            return try fromManifest(try FileInput.contents(of: manifestPath), path: manifestPath, sdkVersion: sdkVersion)
        }
        if FileInput.isRegularFile(directory + "/connector.py") {
            return PackageMetadata(
                language: "python", command: ["python3", "-m", "connector_host_sdk.run", "connector.py"], sdkVersion: sdkVersion)
        }
        throw PackagingError(
            "\(directory) has neither connector.json nor connector.py, so the package could not start; package the folder that holds the connector"
        )
    }

    private static func fromManifest(_ bytes: [UInt8], path: String, sdkVersion: String) throws(PackagingError) -> PackageMetadata {
        let manifest: JSONValue
        do { manifest = try JSONParser.parse(bytes) } catch { throw PackagingError("\(path) is not valid JSON: \(error)") }
        guard manifest.objectValue != nil else { throw PackagingError("\(path) must hold a JSON object") }
        if manifest["swiftProduct"] != nil {
            throw PackagingError(
                "\(path) uses \"swiftProduct\", which builds a product of the Swift package around the folder; a package holds the folder alone. Give the folder its own Package.swift and use \"build\" and \"command\" (protocol/PACKAGE.md)"
            )
        }
        guard let values = manifest["command"]?.arrayValue, !values.isEmpty,
            case let command = values.compactMap(\.stringValue), command.count == values.count
        else {
            throw PackagingError("\(path) needs \"command\": an array of strings, e.g. [\"node\", \"connector.js\"]")
        }
        // A relative executable must stay inside the folder, or the unpacked package cannot find it.
        let executable = command[0]
        if executable.contains("/") && !executable.hasPrefix("/") {
            let components = executable.split(separator: "/")
            var depth = 0
            for component in components {
                if component == ".." { depth -= 1 } else if component != "." { depth += 1 }
                if depth < 0 {
                    throw PackagingError(
                        "\(path): the command \(executable) lies outside the connector folder, so a package of the folder could not start it; move the program into the folder (and build it with \"build\")"
                    )
                }
            }
        }
        let program = executable.split(separator: "/").last.map(String.init) ?? executable
        let build = manifest["build"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let language: String
        if program.hasPrefix("python") {
            language = "python"
        } else if program == "node" || program == "nodejs" {
            language = "node"
        } else if program == "swift" || build.first == "swift" {
            language = "swift"
        } else {
            language = "executable"
        }
        return PackageMetadata(language: language, command: command, sdkVersion: sdkVersion, name: manifest["name"]?.stringValue)
    }
}
