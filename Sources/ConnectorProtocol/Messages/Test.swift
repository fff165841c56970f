/// `test`, host to connector: a connection test (when the connector announces the `test` capability).
public struct TestRequest: ConfigurationRequest, Equatable {
    public typealias Result = TestResult
    public static let method = "test"

    public var configuration: JSONObject

    public init(configuration: JSONObject) { self.configuration = configuration }
}

/// The answer to `test`.
public struct TestResult: ProtocolResult, Equatable {
    public var ok: Bool
    public var message: String

    public init(ok: Bool, message: String) {
        self.ok = ok
        self.message = message
    }

    public init(json: JSONValue) throws(InvalidParams) {
        guard let ok = json["ok"]?.boolValue else { throw InvalidParams("the test result has no boolean \"ok\"") }
        self.ok = ok
        message = json["message"]?.stringValue ?? ""
    }

    public var json: JSONValue { ["ok": .bool(ok), "message": .string(message)] }
}
