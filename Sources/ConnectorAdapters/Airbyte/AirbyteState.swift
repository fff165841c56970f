import ConnectorProtocol

/// The state of an Airbyte source, merged from its STATE messages into the one object a checkpoint
/// stores, and given back to the source on the next run in the form it reads.
///
/// Airbyte sources send one of three shapes: per-stream (`"type": "STREAM"`, one message per
/// stream, each replacing that stream's previous one), global (`"type": "GLOBAL"`, shared state
/// plus every stream's, replacing the previous global one) and legacy (`"type": "LEGACY"` or no
/// type, a `data` object replacing everything). The checkpoint stores the latest message of each,
/// without their statistics, as `{"airbyte": [message, ...]}`; `--state` gets that array, or the
/// legacy `data` object alone for a source that only ever sent legacy state.
struct AirbyteState: Equatable {
    /// The latest STREAM message per stream descriptor, in first-seen order.
    private(set) var streams: [(key: String, message: JSONValue)] = []
    private(set) var global: JSONValue?
    private(set) var legacy: JSONValue?

    /// The member of the checkpoint state that holds the messages.
    static let storedKey = "airbyte"

    init() {}

    /// The state of a checkpoint; `{}` (a first run) is the empty state.
    /// - Throws: ``AdapterError`` when the stored state is not one this adapter wrote.
    init(stored: JSONObject) throws(AdapterError) {
        guard !stored.isEmpty else { return }
        guard let messages = stored[Self.storedKey]?.arrayValue else {
            throw AdapterError(
                .configuration,
                "the stored state is not an Airbyte state (expected {\"\(Self.storedKey)\": [state messages]}); reset the connector's state or fix state.json"
            )
        }
        for message in messages { try merge(message) }
    }

    static func == (lhs: AirbyteState, rhs: AirbyteState) -> Bool { lhs.stored == rhs.stored }

    /// Merges the `state` member of one STATE message.
    mutating func merge(_ message: JSONValue) throws(AdapterError) {
        guard let object = message.objectValue else {
            throw AdapterError(
                .source, "the source sent a STATE message whose state is not an object: \(JSONWriter.string(message).prefix(200))")
        }
        switch object["type"]?.stringValue {
        case "STREAM":
            guard let stream = object["stream"], let descriptor = stream["stream_descriptor"], let name = descriptor["name"]?.stringValue
            else {
                throw AdapterError(.source, "the source sent a STREAM state without stream.stream_descriptor.name")
            }
            let key = (descriptor["namespace"]?.stringValue.map { $0 + "." } ?? "") + name
            let kept: JSONValue = ["type": "STREAM", "stream": stream]
            if let index = streams.firstIndex(where: { $0.key == key }) {
                streams[index].message = kept
            } else {
                streams.append((key, kept))
            }
        case "GLOBAL":
            guard let shared = object["global"], shared.objectValue != nil else {
                throw AdapterError(.source, "the source sent a GLOBAL state without a global object")
            }
            global = ["type": "GLOBAL", "global": shared]
        case "LEGACY", nil:
            guard let data = object["data"] else {
                throw AdapterError(.source, "the source sent a STATE message with neither a type nor data")
            }
            legacy = ["type": "LEGACY", "data": data]
        case let other?:
            throw AdapterError(.source, "the source sent a state of unknown type \"\(other)\"")
        }
    }

    /// Forgets the state of the stream `name` (a full refresh that completed).
    mutating func removeStream(named name: String) {
        streams.removeAll { $0.message["stream"]?["stream_descriptor"]?["name"]?.stringValue == name }
    }

    /// Whether a state for the stream `name` is held (per-stream or in the global state).
    func hasState(forStream name: String) -> Bool {
        if streams.contains(where: { $0.message["stream"]?["stream_descriptor"]?["name"]?.stringValue == name }) { return true }
        let globalStreams = global?["global"]?["stream_states"]?.arrayValue ?? []
        return globalStreams.contains { $0["stream_descriptor"]?["name"]?.stringValue == name }
    }

    var isEmpty: Bool { streams.isEmpty && global == nil && legacy == nil }

    /// The messages, in the order they are stored and given back: streams, global, legacy.
    private var messages: [JSONValue] { streams.map(\.message) + [global, legacy].compactMap { $0 } }

    /// The checkpoint state.
    var stored: JSONValue { .object([Self.storedKey: .array(messages)]) }

    /// The content of the `--state` file, or `nil` when there is no state to give.
    var sourceArgument: JSONValue? {
        if isEmpty { return nil }
        if streams.isEmpty, global == nil, let data = legacy?["data"] { return data }
        return .array(messages)
    }
}
