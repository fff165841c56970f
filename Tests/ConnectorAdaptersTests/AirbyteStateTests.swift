import ConnectorProtocol
import Testing

@testable import ConnectorAdapters

@Suite("Airbyte state: STATE messages merged into one checkpoint and given back")
struct AirbyteStateTests {
    func stream(_ name: String, _ cursor: Int, namespace: String? = nil) -> JSONValue {
        var descriptor: JSONObject = ["name": .string(name)]
        if let namespace { descriptor["namespace"] = .string(namespace) }
        return [
            "type": "STREAM",
            "stream": ["stream_descriptor": .object(descriptor), "stream_state": ["cursor": .number(JSONNumber(cursor))]],
            "sourceStats": ["recordCount": 1.0],
        ]
    }

    @Test("per-stream states replace that stream's previous one, keep first-seen order and lose their statistics")
    func perStream() throws {
        var state = AirbyteState()
        try state.merge(stream("users", 1))
        try state.merge(stream("orders", 5))
        try state.merge(stream("users", 2))
        try state.merge(stream("users", 9, namespace: "eu"))
        #expect(
            JSONWriter.string(state.stored)
                == #"{"airbyte":[{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"cursor":2}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"orders"},"stream_state":{"cursor":5}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"users","namespace":"eu"},"stream_state":{"cursor":9}}}]}"#
        )
        #expect(state.sourceArgument == state.stored["airbyte"])
        let reread = try AirbyteState(stored: state.stored.objectValue!)
        #expect(reread == state)
        state.removeStream(named: "orders")
        #expect(state.hasState(forStream: "users") && !state.hasState(forStream: "orders"))
    }

    @Test("a global state replaces the previous one; its streams count as having state")
    func global() throws {
        var state = AirbyteState()
        try state.merge(["type": "GLOBAL", "global": ["shared_state": ["lsn": 1], "stream_states": []]])
        try state.merge([
            "type": "GLOBAL",
            "global": ["shared_state": ["lsn": 2], "stream_states": [["stream_descriptor": ["name": "t"], "stream_state": ["c": 1]]]],
        ])
        #expect(
            JSONWriter.string(state.sourceArgument!)
                == #"[{"type":"GLOBAL","global":{"shared_state":{"lsn":2},"stream_states":[{"stream_descriptor":{"name":"t"},"stream_state":{"c":1}}]}}]"#
        )
        #expect(state.hasState(forStream: "t"))
    }

    @Test("a legacy state (typed or untyped) is given back as its data object alone")
    func legacy() throws {
        var state = AirbyteState()
        try state.merge(["data": ["users": ["cursor": 1]]])
        try state.merge(["type": "LEGACY", "data": ["users": ["cursor": 2]]])
        #expect(JSONWriter.string(state.sourceArgument!) == #"{"users":{"cursor":2}}"#)
        #expect(JSONWriter.string(state.stored) == #"{"airbyte":[{"type":"LEGACY","data":{"users":{"cursor":2}}}]}"#)
    }

    @Test("an empty state gives no --state; a stored state that is not the adapter's is a configuration error")
    func emptyAndForeign() throws {
        #expect(try AirbyteState(stored: [:]).sourceArgument == nil)
        #expect {
            try AirbyteState(stored: ["cursor": 3])
        } throws: { error in
            (error as? AdapterError)?.message
                == #"the stored state is not an Airbyte state (expected {"airbyte": [state messages]}); reset the connector's state or fix state.json"#
        }
        var state = AirbyteState()
        #expect {
            try state.merge(["type": "STREAM", "stream": [:]])
        } throws: { error in
            (error as? AdapterError)?.message == "the source sent a STREAM state without stream.stream_descriptor.name"
        }
    }
}
