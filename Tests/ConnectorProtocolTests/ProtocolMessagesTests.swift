import Foundation
import Testing

@testable import ConnectorProtocol

/// protocol/schemas, next to this package's Tests folder.
private let schemasFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("protocol/schemas")

/// The schema file `NAME.KIND.schema.json`, parsed.
private func schema(_ name: String, _ kind: String) throws -> JSONValue {
    let data = try Data(contentsOf: schemasFolder.appendingPathComponent("\(name).\(kind).schema.json"))
    return try JSONParser.parse(Array(data))
}

/// The names of the schemas of one kind (`request`, `notification`, `result`).
private func schemaNames(_ kind: String) throws -> Set<String> {
    let suffix = ".\(kind).schema.json"
    return Set(
        try FileManager.default.contentsOfDirectory(atPath: schemasFolder.path).filter { $0.hasSuffix(suffix) }.map {
            String($0.dropLast(suffix.count))
        })
}

/// The members `required` lists for `member` ("params" or "result") of a message schema.
private func requiredMembers(_ schema: JSONValue, of member: String) -> Set<String> {
    Set(schema["properties"]?[member]?["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
}

/// One instance of every message type, as its sender would build it.
private let sampleParams: [String: JSONValue] = [
    InitializeRequest.method: InitializeRequest(host: PeerInfo(name: "host", version: "1"), configuration: [:]).params,
    SchemaRequest.method: SchemaRequest(configuration: [:]).params,
    TestRequest.method: TestRequest(configuration: [:]).params,
    UpdateRequest.method: UpdateRequest(
        configuration: [:], state: [:], tables: [TableIdentity(table: "orders"), TableIdentity(table: "items", schema: "sales")]
    ).params,
    ShutdownRequest.method: ShutdownRequest().params,
    OperationSiteRequest.method: OperationSiteRequest(operationIndex: 57).params,
    CheckpointRequest.method: CheckpointRequest(state: ["cursor": 1]).params,
    RecordsNotification.method: RecordsNotification(operations: []).params,
    LogNotification.method: LogNotification(level: .info, message: "m").params,
    CancelNotification.method: CancelNotification(reason: "r").params,
    WarningNotification.method: WarningNotification(message: "w").params,
    ConfigurationFormRequest.method: ConfigurationFormRequest().params,
]

private let sampleResults: [String: JSONValue] = [
    InitializeRequest.method: InitializeResult(protocolVersion: 1, connector: PeerInfo(name: "c", version: "1"), capabilities: [:]).json,
    SchemaRequest.method: SchemaResult(tables: []).json,
    TestRequest.method: TestResult(
        ok: false, message: "1 of 2 failed", tests: [.init(label: "a", ok: true), .init(label: "b", ok: false, message: "no")]
    ).json,
    UpdateRequest.method: UpdateResult().json,
    ShutdownRequest.method: EmptyResult().json,
    OperationSiteRequest.method: OperationSiteResult(file: "/src/connector.py", line: 42, function: "update").json,
    CheckpointRequest.method: EmptyResult().json,
    ConfigurationFormRequest.method: ConfigurationFormResult(
        fields: [
            .init(name: "api_key", label: "API key", kind: .password, required: true),
            .init(name: "region", kind: .dropdown, defaultValue: "eu", options: [.init(value: "eu", label: "Europe", description: "EU")]),
        ], tests: ["Connection"]
    ).json,
]

/// `json` read as the result of `Request` and written back.
private func resultRoundTrip<Request: ProtocolRequest>(_: Request.Type, _ json: JSONValue) throws -> JSONValue {
    try Request.Result(json: json).json
}

@Suite("Protocol message types")
struct ProtocolMessagesTests {
    @Test(
        "the message types are exactly the methods of protocol/schemas: one request or notification schema each, a result schema per request"
    )
    func registryMatchesSchemas() throws {
        #expect(Set(ProtocolMessages.requests.map { $0.method }) == (try schemaNames("request")))
        #expect(Set(ProtocolMessages.notifications.map { $0.method }) == (try schemaNames("notification")))
        #expect(Set(ProtocolMessages.requests.map { $0.method }) == (try schemaNames("result")))
        for type in ProtocolMessages.requests {
            #expect(try schema(type.method, "request")["properties"]?["method"]?["const"]?.stringValue == type.method)
        }
        for type in ProtocolMessages.notifications {
            #expect(try schema(type.method, "notification")["properties"]?["method"]?["const"]?.stringValue == type.method)
        }
        #expect(ProtocolMessages.type(forMethod: "checkpoint") == CheckpointRequest.self)
        #expect(ProtocolMessages.type(forMethod: "frobnicate") == nil)
    }

    @Test("every type writes the members its schema requires, and reads back what it wrote")
    func membersMatchSchemas() throws {
        let all: [any ProtocolMethod.Type] = ProtocolMessages.requests + ProtocolMessages.notifications
        for type in all {
            let isRequest = type is any ProtocolRequest.Type
            let params = try #require(sampleParams[type.method], "no sample params for \(type.method)")
            let required = requiredMembers(try schema(type.method, isRequest ? "request" : "notification"), of: "params")
            #expect(required.isSubset(of: Set(params.objectValue?.keys ?? [])), "\(type.method) params lack \(required)")
            #expect(try type.init(params: params).params == params)
        }
        for type in ProtocolMessages.requests {
            let result = try #require(sampleResults[type.method], "no sample result for \(type.method)")
            let required = requiredMembers(try schema(type.method, "result"), of: "result")
            #expect(required.isSubset(of: Set(result.objectValue?.keys ?? [])), "\(type.method) result lacks \(required)")
            #expect(try resultRoundTrip(type, result) == result)
        }
    }

    @Test("params of the wrong shape are refused naming the member, as -32602 answers say")
    func invalidParams() throws {
        #expect(throws: InvalidParams(method: "initialize", "needs an integer protocolVersion")) {
            try InitializeRequest(params: ["protocolVersion": "1"])
        }
        #expect(throws: InvalidParams(method: "checkpoint", "has no params.state")) { try CheckpointRequest(params: [:]) }
        #expect(throws: InvalidParams(method: "checkpoint", "has a params.state that is a JSON array, not an object")) {
            try CheckpointRequest(params: ["state": [1]])
        }
        #expect(throws: InvalidParams(#"the update params' "configuration" must be a JSON object, not a string"#)) {
            try UpdateRequest(params: ["configuration": "x"])
        }
        #expect(throws: InvalidParams(method: "update", "has a tables element without a \"table\" string")) {
            try UpdateRequest(params: ["configuration": [:], "tables": [["schema": "s"]]])
        }
        let selected = try UpdateRequest(params: ["configuration": [:], "tables": [["table": "a"], ["table": "b", "schema": "s"]]])
        #expect(selected.tables == [TableIdentity(table: "a"), TableIdentity(table: "b", schema: "s")])
        #expect(try UpdateRequest(params: ["configuration": [:]]).tables == nil)
        #expect(throws: InvalidParams("the initialize result has no integer protocolVersion")) {
            try InitializeResult(json: ["protocolVersion": 1.5])
        }
    }
}
