/// A method of the protocol, as a type: its name, and how its params (and, for a request, its
/// result) read from and write to JSON. One type per message of protocol/schemas, listed in
/// ``ProtocolMessages``.
///
/// The structs decode from a `JSONValue` already parsed by the control path; `records` batches
/// never take this path (the host's record scanner reads them byte by byte).
public protocol ProtocolMethod: Sendable {
    /// The JSON-RPC method name.
    static var method: String { get }
    /// Reads the params of a message of this method.
    /// - Throws: ``InvalidParams`` naming the member that is missing or of the wrong type.
    init(params: JSONValue) throws(InvalidParams)
    /// The params, as sent on the wire.
    var params: JSONValue { get }
}

/// A request: answered by exactly one response carrying a ``Result``.
public protocol ProtocolRequest: ProtocolMethod {
    associatedtype Result: ProtocolResult
}

/// A notification: never answered.
public protocol ProtocolNotification: ProtocolMethod {}

/// The result of a request.
public protocol ProtocolResult: Sendable {
    /// Reads a result.
    /// - Throws: ``InvalidParams`` naming the member that is missing or of the wrong type.
    init(json: JSONValue) throws(InvalidParams)
    /// The result, as sent on the wire.
    var json: JSONValue { get }
}

/// Params or a result that do not have the shape their method requires: answered with -32602
/// (invalid params) when a request's params are wrong.
public struct InvalidParams: Error, Sendable, Equatable, CustomStringConvertible {
    /// The method whose params are wrong, when the sentence starts with it.
    public let method: String?
    /// What is wrong, naming the member, without the method (`has no params.state`).
    public let problem: String

    public init(_ reason: String) {
        method = nil
        problem = reason
    }

    public init(method: String, _ problem: String) {
        self.method = method
        self.problem = problem
    }

    /// The whole sentence (`checkpoint has no params.state`).
    public var reason: String { method.map { "\($0) \(problem)" } ?? problem }
    public var description: String { reason }
}

/// A request whose params are only the configuration (`schema`, `test`).
public protocol ConfigurationRequest: ProtocolRequest {
    var configuration: JSONObject { get }
    init(configuration: JSONObject)
}

extension ConfigurationRequest {
    public init(params: JSONValue) throws(InvalidParams) {
        self.init(configuration: try params.objectMember("configuration", of: Self.method))
    }

    public var params: JSONValue { ["configuration": .object(configuration)] }
}

/// The empty object that several methods take or answer (`shutdown`'s params, `checkpoint`'s result).
public struct EmptyResult: ProtocolResult, Equatable {
    public init() {}
    public init(json: JSONValue) throws(InvalidParams) {}
    public var json: JSONValue { [:] }
}

/// A peer's name and version, as `initialize` carries them (`host` in the params, `connector` in the result).
public struct PeerInfo: Sendable, Equatable {
    public var name: String
    public var version: String
    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    /// Reads `{"name": ..., "version": ...}`; `nil` unless both are strings.
    public init?(json: JSONValue?) {
        guard let name = json?["name"]?.stringValue, let version = json?["version"]?.stringValue else { return nil }
        self.init(name: name, version: version)
    }

    public var json: JSONValue { ["name": .string(name), "version": .string(version)] }
}

extension JSONValue {
    /// The params member `name` as an object, `[:]` when absent.
    func objectMember(_ name: String, of method: String) throws(InvalidParams) -> JSONObject {
        guard let value = self[name] else { return [:] }
        guard let object = value.objectValue else {
            throw InvalidParams("the \(method) params' \"\(name)\" must be a JSON object, not a \(value.kindName)")
        }
        return object
    }
}
