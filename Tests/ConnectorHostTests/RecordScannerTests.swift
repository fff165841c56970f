import ConnectorProtocol
import Testing

@testable import ConnectorHost

@Suite("Record scanner")
struct RecordScannerTests {
    /// The keys of each operation's payload, decoded, after scanning `lines` in order with one scanner state.
    private func payloadKeys(_ lines: [String]) throws -> [[String]] {
        var records = ScannedRecords()
        var keys: [[String]] = []
        for line in lines {
            let bytes = Array(line.utf8)
            try bytes.withUnsafeBufferPointer { buffer in
                #expect(try RecordScanner.scan(buffer, into: &records))
                #expect(records.syntaxError == nil)
                let source = RecordSource(bytes: buffer)
                for operation in records.operations {
                    guard case .fields(let range) = operation.payload else { continue }
                    keys.append(try records.fields[range].map { try source.string($0.key) })
                }
            }
        }
        return keys
    }

    private func line(_ payloads: String...) -> String {
        #"{"jsonrpc":"2.0","method":"records","params":{"ops":["#
            + payloads.map { #"{"op":"upsert","table":"t","data":\#($0)}"# }.joined(separator: ",") + "]}}"
    }

    @Test("keys are read right whether or not they repeat the last payload's keys, across lines")
    func recentKeys() throws {
        let keys = try payloadKeys([
            line(#"{"id":1,"name":"a"}"#, #"{"id":2,"name":"b"}"#, #"{ "id" :3, "name":"c"}"#),
            line(#"{"id":4,"name2":"d"}"#, #"{"id":5,"nam":"e"}"#, #"{"name":"f","id":6}"#),
            line(#"{"i\u0064":7,"name":"g"}"#, #"{"id":8,"name":"h"}"#, #"{"é":9,"id":10}"#, #"{"é":11,"id":12}"#),
            line(#"{"id":13}"#, #"{"id":14,"name":"i","extra":true}"#, #"{}"#, #"{"id":15,"name":"j"}"#),
        ])
        #expect(
            keys == [
                ["id", "name"], ["id", "name"], ["id", "name"],
                ["id", "name2"], ["id", "nam"], ["name", "id"],
                ["id", "name"], ["id", "name"], ["é", "id"], ["é", "id"],
                ["id"], ["id", "name", "extra"], [], ["id", "name"],
            ])
    }

    /// The key shape of each operation's payload, after scanning `lines` in order with one scanner state.
    private func keyShapes(_ lines: [String]) throws -> [UInt64] {
        var records = ScannedRecords()
        var shapes: [UInt64] = []
        for line in lines {
            let bytes = Array(line.utf8)
            let isRecords = try bytes.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in
                try RecordScanner.scan(buffer, into: &records)
            }
            #expect(isRecords)
            shapes += records.operations.map(\.keyShape)
        }
        return shapes
    }

    @Test("payloads naming the same keys in the same order share a key shape across lines; other keys, escaped keys and {} do not")
    func sameKeysSameShape() throws {
        let shapes = try keyShapes([
            line(#"{"id":1,"name":"a"}"#, #"{"id":2,"name":"b"}"#),
            line(#"{"id":3,"name":"c"}"#, #"{"id":4,"nbme":"d"}"#, #"{"id":5,"name":"e"}"#, #"{"id":6}"#),
            line(#"{"i\u0064":7,"name":"f"}"#, #"{}"#, #"{"id":8,"name":"g","x":1}"#),
        ])
        #expect(shapes.count == 9)
        #expect(shapes[0] != 0 && shapes[1] == shapes[0] && shapes[2] == shapes[0])
        #expect(Set([shapes[0], shapes[3], shapes[4], shapes[5], shapes[8]]).count == 5)
        #expect(!shapes.indices.contains { shapes[$0] == 0 && ![6, 7].contains($0) })
        #expect(shapes[6] == 0 && shapes[7] == 0)
    }

    @Test("a key is taken for the last payload's only when every byte matches, whatever its length")
    func recentKeysOfEveryLength() throws {
        for length in 1...20 {
            let key = String(repeating: "k", count: length)
            var changed = Array(key.utf8)
            for position in [0, length / 2, length - 1] {
                changed[position] = UInt8(ascii: "j")
                let other = String(decoding: changed, as: UTF8.self)
                changed[position] = UInt8(ascii: "k")
                let keys = try payloadKeys([line(#"{"\#(key)":1}"#, #"{"\#(other)":2}"#, #"{"\#(key)":3}"#)])
                #expect(keys == [[key], [other], [key]], "length \(length), byte \(position)")
            }
        }
    }

    @Test("a key matching the last payload's bytes must still be followed by a colon")
    func recentKeyThenGarbage() throws {
        var records = ScannedRecords()
        for text in [line(#"{"id":1}"#), line(#"{"id" 1}"#)] {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBufferPointer { buffer in _ = try? RecordScanner.scan(buffer, into: &records) }
        }
        #expect(records.syntaxError?.reason == "expected ':' after an object key, found '1'")
    }
}
