import Testing

@testable import ConnectorProtocol

@Suite("JSON-RPC messages")
struct MessageTests {
    @Test("every message kind encodes to its golden line and decodes back")
    func goldenLines() throws {
        let cases: [(Message, String)] = [
            (
                .request(id: .number(1), method: "initialize", params: ["protocolVersion": 1, "configuration": [:]]),
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1,"configuration":{}}}"#
            ),
            (
                .notification(method: "records", params: ["ops": [["op": "truncate", "table": "t"]]]),
                #"{"jsonrpc":"2.0","method":"records","params":{"ops":[{"op":"truncate","table":"t"}]}}"#
            ),
            (.response(id: .string("c1"), result: [:]), #"{"jsonrpc":"2.0","id":"c1","result":{}}"#),
            (
                .errorResponse(id: .number(7), error: RPCError(.methodNotFound, "unknown method \"x\"")),
                #"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"unknown method \"x\""}}"#
            ),
            (
                .errorResponse(id: nil, error: RPCError(.parseError, "bad", data: ["line": 3])),
                #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":{"line":3}}}"#
            ),
        ]
        for (message, golden) in cases {
            #expect(String(decoding: message.line, as: UTF8.self) == golden + "\n")
            #expect(try Message(json: JSONParser.parse(golden)) == message)
        }
    }

    @Test("envelope violations are named, keeping the id when there is one")
    func shapeErrors() throws {
        let cases: [(String, String, RequestID?)] = [
            (#"[1]"#, "expected a JSON-RPC object, got a JSON array", nil),
            (#"{"id":1,"method":"x"}"#, #"missing "jsonrpc":"2.0""#, .number(1)),
            (#"{"jsonrpc":"2.0","id":1.5,"method":"x"}"#, #""id" must be an integer or a string"#, nil),
            (#"{"jsonrpc":"2.0","id":2,"method":3}"#, #""method" must be a string"#, .number(2)),
            (#"{"jsonrpc":"2.0","id":3,"method":"x","params":[1]}"#, #""params" must be an object"#, .number(3)),
            (#"{"jsonrpc":"2.0","method":"log","params":"hi"}"#, #""params" must be an object"#, nil),
            (#"{"jsonrpc":"2.0","result":{}}"#, #"a response needs the "id" of its request"#, nil),
            (#"{"jsonrpc":"2.0","id":4}"#, #"a message needs "method", "result" or "error""#, .number(4)),
        ]
        for (text, reason, id) in cases {
            #expect(throws: MessageShapeError(reason: reason, id: id)) { try Message(json: JSONParser.parse(text)) }
        }
    }

    @Test("unknown error codes round-trip unchanged")
    func openErrorCodes() throws {
        let message = try Message(json: JSONParser.parse(#"{"jsonrpc":"2.0","id":1,"error":{"code":-31999,"message":"custom"}}"#))
        #expect(message == .errorResponse(id: .number(1), error: RPCError(RPCErrorCode(rawValue: -31999), "custom")))
        #expect(RPCErrorCode.sourceError.description == "-32013 (source error)")
    }

    @Test("column types encode DECIMAL as an object and others as names")
    func columnTypes() {
        #expect(ColumnType(.decimal, precision: 10, scale: 2).json == ["type": "DECIMAL", "precision": 10, "scale": 2])
        #expect(ColumnType(.utcDateTime).json == "UTC_DATETIME")
        #expect(LogLevel(wireName: "severe") == .error)
        #expect(LogLevel(wireName: "fine") == .debug)
    }
}
