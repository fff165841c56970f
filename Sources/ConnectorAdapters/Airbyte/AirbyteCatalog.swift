import ConnectorProtocol

/// The streams an Airbyte source discovered, the tables they become, and the configured catalog
/// the adapter reads them with.
///
/// Every stream is synced (or those named with `--tables`): incrementally when it supports it and
/// has a cursor (the source's own, or its default cursor field), with its source-defined primary
/// key (`append_dedup`, or `append` without a key); otherwise as a full refresh (`overwrite`).
struct AirbyteCatalog {
    struct Stream {
        var name: String
        /// The stream object of the discovered catalog, passed back unchanged in the configured catalog.
        var discovered: JSONValue
        var table: StreamTable
        var incremental: Bool
        var cursorField: [String]
    }

    var streams: [Stream]

    /// Reads the `catalog` member of a CATALOG message.
    /// - Parameters:
    ///   - selected: stream names to sync (`--tables`), or `nil` for every stream.
    ///   - log: receives a warning for each stream whose primary key cannot be a table's.
    /// - Throws: ``AdapterError`` when the catalog is malformed or `selected` names an unknown stream.
    init(catalog: JSONValue, selected: [String]?, log: LogSink) throws(AdapterError) {
        guard let discovered = catalog["streams"]?.arrayValue else {
            throw AdapterError(.source, "the source's discover answered a CATALOG without a \"streams\" array")
        }
        var streams: [Stream] = []
        for stream in discovered {
            guard let name = stream["name"]?.stringValue else {
                throw AdapterError(.source, "the source's catalog has a stream without a name: \(JSONWriter.string(stream).prefix(200))")
            }
            if let selected, !selected.contains(name) { continue }
            let paths = stream["source_defined_primary_key"]?.arrayValue ?? []
            var primaryKey = paths.compactMap { $0.arrayValue?.count == 1 ? $0.arrayValue?.first?.stringValue : nil }
            if primaryKey.count != paths.count {
                log(
                    .warning,
                    "stream \"\(name)\": its primary key \(JSONWriter.string(.array(paths))) names nested fields, which cannot be columns; the table has no primary key (rows are keyed by a hash of their values)"
                )
                primaryKey = []
            }
            let modes = stream["supported_sync_modes"]?.arrayValue?.compactMap(\.stringValue) ?? ["full_refresh"]
            let cursorField = stream["default_cursor_field"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let incremental = modes.contains("incremental") && (stream["source_defined_cursor"] == .bool(true) || !cursorField.isEmpty)
            streams.append(
                Stream(
                    name: name, discovered: stream,
                    table: StreamTable(name: name, schema: stream["json_schema"] ?? [:], primaryKey: primaryKey),
                    incremental: incremental, cursorField: cursorField))
        }
        if let selected {
            let known = discovered.compactMap { $0["name"]?.stringValue }
            if let missing = selected.first(where: { !known.contains($0) }) {
                throw AdapterError(
                    .configuration,
                    "--tables names the stream \"\(missing)\", which the source does not have; its streams: \(known.joined(separator: ", "))"
                )
            }
        }
        self.streams = streams
    }

    /// The configured catalog for `read`.
    var configured: JSONValue {
        .object([
            "streams": .array(
                streams.map { stream in
                    let keyed = !stream.table.definition.primaryKey.isEmpty
                    return .object([
                        "stream": stream.discovered,
                        "sync_mode": .string(stream.incremental ? "incremental" : "full_refresh"),
                        "destination_sync_mode": .string(stream.incremental ? (keyed ? "append_dedup" : "append") : "overwrite"),
                        "cursor_field": .array((stream.incremental ? stream.cursorField : []).map(JSONValue.string)),
                        "primary_key": stream.discovered["source_defined_primary_key"] ?? [],
                    ])
                })
        ])
    }
}
