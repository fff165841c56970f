import ConnectorProtocol
import Testing

@testable import ConnectorAdapters

@Suite("The adapter's record path")
struct RecordPathTests {
    func repaired(_ text: String) -> String? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { TimestampRepair.repaired(UnsafeBufferPointer($0)) }.map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    @Test("timestamps taps commonly send without a zone, or with +HHMM, are made RFC 3339; others are left alone")
    func timestamps() {
        #expect(repaired("2024-05-01T12:00:00") == "2024-05-01T12:00:00Z")
        #expect(repaired("2024-05-01 12:00:00.123456") == "2024-05-01 12:00:00.123456Z")
        #expect(repaired("2024-05-01") == "2024-05-01T00:00:00Z")
        #expect(repaired("2024-05-01T12:00:00+0200") == "2024-05-01T12:00:00+02:00")
        #expect(repaired("2024-05-01T12:00:00.5-05") == "2024-05-01T12:00:00.5-05:00")
        #expect(repaired("2024-05-01T12:00:00Z") == nil)
        #expect(repaired("2024-05-01T12:00:00+02:00") == nil)
        #expect(repaired("yesterday") == nil)
        #expect(repaired("2024-05-01T12:00") == nil)
    }

    @Test("a row is rewritten only where a timestamp column needs it, byte for byte elsewhere")
    func rowRewrite() throws {
        let line = Array(#"{"a": "2024-05-01T12:00:00", "b":"2024-05-01T12:00:00","c":{"a":"x"},"at":"2024-05-02"}"#.utf8)
        try line.withUnsafeBufferPointer { bytes in
            let row = try TimestampRepair.repairedRow(bytes, data: 0..<bytes.count, columns: [Array("a".utf8), Array("at".utf8)])
            #expect(
                row.map { String(decoding: $0, as: UTF8.self) }
                    == #"{"a": "2024-05-01T12:00:00Z", "b":"2024-05-01T12:00:00","c":{"a":"x"},"at":"2024-05-02T00:00:00Z"}"#)
            #expect(try TimestampRepair.repairedRow(bytes, data: 0..<bytes.count, columns: [Array("b2".utf8)]) == nil)
        }
    }

    @Test("member ranges are found in any order, the whole line is validated, and a chosen member twice is refused")
    func members() throws {
        let line = Array(#" {"record": {"x": [1, {"y": null}]}, "extra": "}", "type": "RECORD"} "#.utf8)
        try line.withUnsafeBufferPointer { bytes in
            let found = try MemberScanner.members(of: bytes, names: ["type", "record", "stream"], wholeInput: true)
            #expect(MemberScanner.isString(bytes, found[0], "RECORD"))
            #expect(found[1].map { String(decoding: bytes[$0], as: UTF8.self) } == #"{"x": [1, {"y": null}]}"#)
            #expect(found[2] == nil)
        }
        for bad in [#"{"type": "RECORD", "type": "STATE"}"#, #"{"type": "RECORD"} x"#, #"{"type": NaN}"#] {
            let bytes = Array(bad.utf8)
            #expect(throws: JSONSyntaxError.self) {
                try bytes.withUnsafeBufferPointer { try MemberScanner.members(of: $0, names: ["type"], wholeInput: true) }
            }
        }
    }

    @Test("the display name of a command is its script when the executable is an interpreter")
    func displayName() {
        #expect(SourceProcess.displayName(of: ["/usr/bin/python3", "/x/tap.py", "--flag"]) == "tap.py")
        #expect(SourceProcess.displayName(of: ["/venv/bin/source-faker"]) == "source-faker")
        #expect(SourceProcess.displayName(of: ["python3.11", "-u", "tap.py"]) == "tap.py")
    }

    @Test("the secret properties of a spec are found at any depth, in oneOf branches and array items")
    func secretKeys() {
        let spec: JSONValue = [
            "type": "object",
            "properties": [
                "api_key": ["type": "string", "airbyte_secret": true],
                "region": ["type": "string"],
                "credentials": ["oneOf": [["properties": ["client_secret": ["airbyte_secret": true]]], ["properties": ["user": [:]]]]],
                "tunnels": [
                    "type": "array", "items": ["properties": ["ssh_key": ["airbyte_secret": true], "api_key": ["airbyte_secret": true]]],
                ],
            ],
        ]
        #expect(AirbyteSpec.secretKeys(in: spec) == ["api_key", "client_secret", "ssh_key"])
    }
}
