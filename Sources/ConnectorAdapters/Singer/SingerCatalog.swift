import ConnectorProtocol

/// The catalog a Singer tap discovered, the tables its streams become, and the same catalog with
/// the streams to sync selected.
///
/// A stream's table is named after its `stream` (the name its RECORD messages carry); its primary
/// key is the stream metadata's `table-key-properties` (or the older `key_properties`); its
/// columns come from its `schema` (``JSONSchemaTypes``).
struct SingerCatalog {
    struct Stream {
        var name: String
        var table: StreamTable
    }

    /// The discovered catalog with every synced stream and its fields selected.
    var selected: JSONValue
    var streams: [Stream]
    /// The document `--discover` printed, for ``only(_:)``.
    private let discovered: JSONValue

    /// Reads a discovered catalog (the JSON document `--discover` prints).
    /// - Parameter only: stream names (or `tap_stream_id`s) to sync (`--tables`), or `nil` for all.
    /// - Throws: ``AdapterError`` when the document is not a catalog or `only` names an unknown stream.
    init(discovered: JSONValue, only: [String]?) throws(AdapterError) {
        guard let entries = discovered["streams"]?.arrayValue else {
            throw AdapterError(.source, "the tap's --discover printed JSON without a \"streams\" array, which is not a Singer catalog")
        }
        var selectedEntries: [JSONValue] = []
        var streams: [Stream] = []
        var known: [String] = []
        for entry in entries {
            guard var object = entry.objectValue, let name = object["stream"]?.stringValue ?? object["tap_stream_id"]?.stringValue else {
                throw AdapterError(.source, "the tap's catalog has a stream without a name: \(JSONWriter.string(entry).prefix(200))")
            }
            known.append(name)
            let identifier = object["tap_stream_id"]?.stringValue ?? name
            if let only, !only.contains(name) && !only.contains(identifier) {
                selectedEntries.append(entry)
                continue
            }
            var metadata = object["metadata"]?.arrayValue ?? []
            let streamIndex = metadata.firstIndex { $0["breadcrumb"] == .array([]) }
            let streamMetadata = streamIndex.flatMap { metadata[$0]["metadata"]?.objectValue } ?? [:]
            let keyValue = streamMetadata["table-key-properties"] ?? object["key_properties"]
            let primaryKey = keyValue?.arrayValue?.compactMap(\.stringValue) ?? []
            metadata = metadata.map(Self.selecting)
            if streamIndex == nil { metadata.append(["breadcrumb": [], "metadata": ["selected": true]]) }
            object["metadata"] = .array(metadata)
            // Taps older than the metadata convention read selection from the stream's schema.
            if var schema = object["schema"]?.objectValue {
                schema["selected"] = true
                object["schema"] = .object(schema)
            }
            selectedEntries.append(.object(object))
            streams.append(Stream(name: name, table: StreamTable(name: name, schema: object["schema"] ?? [:], primaryKey: primaryKey)))
        }
        if let only,
            let missing = only.first(where: { name in
                !known.contains(name) && !entries.contains { $0["tap_stream_id"]?.stringValue == name }
            })
        {
            throw AdapterError(
                .configuration,
                "--tables names the stream \"\(missing)\", which the tap does not have; its streams: \(known.joined(separator: ", "))")
        }
        var catalog = discovered.objectValue ?? [:]
        catalog["streams"] = .array(selectedEntries)
        selected = .object(catalog)
        self.streams = streams
        self.discovered = discovered
    }

    /// The same catalog with only the streams among `names` selected (`run --tables`).
    func only(_ names: [String]) throws(AdapterError) -> SingerCatalog {
        try SingerCatalog(discovered: discovered, only: streams.map(\.name).filter(names.contains))
    }

    /// A metadata entry with `selected: true`, unless its inclusion is `unsupported`.
    private static func selecting(_ entry: JSONValue) -> JSONValue {
        guard var object = entry.objectValue, var metadata = object["metadata"]?.objectValue,
            metadata["inclusion"]?.stringValue != "unsupported"
        else { return entry }
        metadata["selected"] = true
        object["metadata"] = .object(metadata)
        return .object(object)
    }
}
