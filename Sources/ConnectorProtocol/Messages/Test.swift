/// `test`, host to connector: a connection test (when the connector announces the `test` capability).
public struct TestRequest: ConfigurationRequest, Equatable {
    public typealias Result = TestResult
    public static let method = "test"

    public var configuration: JSONObject

    public init(configuration: JSONObject) { self.configuration = configuration }
}

/// The answer to `test`: the verdict and, for a connector with several setup tests (Fivetran's
/// `ConfigurationForm.add_test`), one outcome per test (PROTOCOL.md section 5.3).
public struct TestResult: ProtocolResult, Equatable {
    /// One setup test's outcome.
    public struct SetupTest: Sendable, Equatable {
        public var label: String
        public var ok: Bool
        public var message: String

        public init(label: String, ok: Bool, message: String = "") {
            self.label = label
            self.ok = ok
            self.message = message
        }
    }

    /// Whether the source is reachable (with setup tests: whether every one passed).
    public var ok: Bool
    /// One sentence for the user (with setup tests: a summary).
    public var message: String
    /// The setup tests, in order; empty for a connector with one connection test.
    public var tests: [SetupTest]

    public init(ok: Bool, message: String, tests: [SetupTest] = []) {
        self.ok = ok
        self.message = message
        self.tests = tests
    }

    public init(json: JSONValue) throws(InvalidParams) {
        guard let ok = json["ok"]?.boolValue else { throw InvalidParams("the test result has no boolean \"ok\"") }
        self.ok = ok
        message = json["message"]?.stringValue ?? ""
        tests = []
        switch json["tests"] {
        case nil, .null?: break
        case .array(let entries)?:
            for (index, entry) in entries.enumerated() {
                guard let label = entry["label"]?.stringValue, let passed = entry["ok"]?.boolValue else {
                    throw InvalidParams("the test result has tests[\(index)] without a string \"label\" and a boolean \"ok\"")
                }
                tests.append(SetupTest(label: label, ok: passed, message: entry["message"]?.stringValue ?? ""))
            }
        default:
            throw InvalidParams("the test result has \"tests\" that is not an array of {\"label\", \"ok\", \"message\"}")
        }
    }

    public var json: JSONValue {
        var object: JSONObject = ["ok": .bool(ok), "message": .string(message)]
        if !tests.isEmpty {
            object["tests"] = .array(tests.map { ["label": .string($0.label), "ok": .bool($0.ok), "message": .string($0.message)] })
        }
        return .object(object)
    }
}
