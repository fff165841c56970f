/// `initialize`, host to connector: the first request of every session.
public struct InitializeRequest: ProtocolRequest, Equatable {
    public typealias Result = InitializeResult
    public static let method = "initialize"

    /// The protocol version the host asks for.
    public var protocolVersion: Int64
    /// The host's name and version (`nil` when the host sent none).
    public var host: PeerInfo?
    public var configuration: JSONObject

    public init(protocolVersion: Int64 = Int64(ProtocolVersion.current), host: PeerInfo?, configuration: JSONObject) {
        self.protocolVersion = protocolVersion
        self.host = host
        self.configuration = configuration
    }

    public init(params: JSONValue) throws(InvalidParams) {
        guard let version = params[InitializeResult.Member.protocolVersion]?.int64Value else {
            throw InvalidParams(method: Self.method, "needs an integer protocolVersion")
        }
        protocolVersion = version
        host = PeerInfo(json: params["host"])
        configuration = try params.objectMember("configuration", of: Self.method)
    }

    public var params: JSONValue {
        var object: JSONObject = [InitializeResult.Member.protocolVersion: .number(JSONNumber(protocolVersion))]
        if let host { object["host"] = host.json }
        object["configuration"] = .object(configuration)
        return .object(object)
    }
}

/// The answer to `initialize`: the version both sides speak, the connector's name and version, its capabilities.
public struct InitializeResult: ProtocolResult, Equatable {
    /// The member names, for a tool that judges a malformed result member by member (conformance).
    public enum Member {
        public static let protocolVersion = "protocolVersion"
        public static let connector = "connector"
        public static let capabilities = "capabilities"
        public static let secretKeys = "secretKeys"
    }

    public var protocolVersion: Int64
    /// `nil` when the connector sent no `{"name", "version"}` strings.
    public var connector: PeerInfo?
    /// `[:]` when absent.
    public var capabilities: JSONObject
    /// Configuration keys whose values the host masks (PROTOCOL.md 5.1); `nil` when absent or not
    /// an array of strings (which the host ignores, with a note).
    public var secretKeys: [String]?

    public init(protocolVersion: Int64, connector: PeerInfo?, capabilities: JSONObject, secretKeys: [String]? = nil) {
        self.protocolVersion = protocolVersion
        self.connector = connector
        self.capabilities = capabilities
        self.secretKeys = secretKeys
    }

    /// The names of a `secretKeys` member, or `nil` when it is not an array of strings.
    public static func secretKeys(_ member: JSONValue) -> [String]? {
        guard let elements = member.arrayValue else { return nil }
        let keys = elements.compactMap(\.stringValue)
        return keys.count == elements.count ? keys : nil
    }

    public init(json: JSONValue) throws(InvalidParams) {
        guard let version = json[Member.protocolVersion]?.int64Value else {
            throw InvalidParams("the initialize result has no integer protocolVersion")
        }
        protocolVersion = version
        connector = PeerInfo(json: json[Member.connector])
        capabilities = json[Member.capabilities]?.objectValue ?? [:]
        secretKeys = json[Member.secretKeys].flatMap(Self.secretKeys)
    }

    public var json: JSONValue {
        var object: JSONObject = [Member.protocolVersion: .number(JSONNumber(protocolVersion))]
        if let connector { object[Member.connector] = connector.json }
        object[Member.capabilities] = .object(capabilities)
        if let secretKeys { object[Member.secretKeys] = .array(secretKeys.map(JSONValue.string)) }
        return .object(object)
    }
}

/// The names of the capabilities a connector may declare in its `initialize` result.
public enum Capability {
    /// The connector answers `test`.
    public static let test = "test"
    /// The connector reads `update`'s `tables` and sends operations only for those tables.
    public static let selectTables = "selectTables"
    /// The connector answers `operationSite`: where its code made a refused operation.
    public static let operationSites = "operationSites"
    /// The connector answers `configurationForm`: the fields `connector-host configuration` asks for.
    public static let configurationForm = "configurationForm"
}

extension InitializeResult {
    /// Whether the connector declared `capability` as `true`.
    public func declares(_ capability: String) -> Bool { capabilities[capability]?.boolValue == true }
}
