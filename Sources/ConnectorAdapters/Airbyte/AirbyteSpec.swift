import ConnectorProtocol

/// What the adapter reads from an Airbyte `spec`: the configuration keys that hold secrets.
enum AirbyteSpec {
    /// The names of every property marked `"airbyte_secret": true` in `connectionSpecification`, at
    /// any depth (nested objects, `oneOf`/`anyOf` branches, array items), in first-seen order.
    static func secretKeys(in specification: JSONValue) -> [String] { SecretProperties.names(in: specification, marker: "airbyte_secret") }
}

/// Finds the properties of a JSON Schema marked secret by a boolean keyword (`airbyte_secret` in
/// Airbyte specs, `secret` in Meltano SDK settings).
enum SecretProperties {
    static func names(in schema: JSONValue, marker: String) -> [String] {
        var names: [String] = []
        func visit(_ schema: JSONValue, depth: Int) {
            guard depth < 32, let object = schema.objectValue else { return }
            for (name, property) in object["properties"]?.objectValue ?? [:] {
                if property[marker] == .bool(true), !names.contains(name) { names.append(name) }
                visit(property, depth: depth + 1)
            }
            for keyword in ["oneOf", "anyOf", "allOf"] {
                for branch in object[keyword]?.arrayValue ?? [] { visit(branch, depth: depth + 1) }
            }
            if let items = object["items"] { visit(items, depth: depth + 1) }
        }
        visit(schema, depth: 0)
        return names
    }
}
