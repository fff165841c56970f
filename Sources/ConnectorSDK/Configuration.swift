public import ConnectorProtocol

/// The connector's configuration, with typed accessors that fail with a precise message.
///
/// Values usually arrive as strings (as in `configuration.json`); the accessors convert them.
public struct Configuration: Sendable, Equatable {
    /// The raw configuration object.
    public let values: JSONObject

    public init(_ values: JSONObject = [:]) { self.values = values }

    /// The raw value of `key`, if present.
    public subscript(key: String) -> JSONValue? { values[key] }

    /// The string at `key`, or `defaultValue` when absent.
    public func string(_ key: String, default defaultValue: String? = nil) throws(ConnectorError) -> String {
        switch values[key] {
        case .string(let text)?: return text
        case .number(let number)?: return number.literal
        case .bool(let flag)?: return flag ? "true" : "false"
        case nil, .null?:
            if let defaultValue { return defaultValue }
            throw .configuration("configuration key \"\(key)\" is missing; add it to configuration.json")
        case let other?:
            throw .configuration("configuration key \"\(key)\" must be a string, got a JSON \(other.kindName)")
        }
    }

    /// The integer at `key` (a JSON integer or a string of one).
    public func int(_ key: String, default defaultValue: Int? = nil) throws(ConnectorError) -> Int {
        if values[key] == nil || values[key] == .null, let defaultValue { return defaultValue }
        let text = try string(key)
        guard let value = Int(text.trimmingSpaces) else {
            throw .configuration("configuration key \"\(key)\" must be an integer, got \"\(text)\"")
        }
        return value
    }

    /// The boolean at `key` (`true`/`false`, also as strings, case-insensitive).
    public func bool(_ key: String, default defaultValue: Bool? = nil) throws(ConnectorError) -> Bool {
        if values[key] == nil || values[key] == .null, let defaultValue { return defaultValue }
        if case .bool(let flag)? = values[key] { return flag }
        let text = try string(key)
        switch text.trimmingSpaces.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw .configuration("configuration key \"\(key)\" must be true or false, got \"\(text)\"")
        }
    }

    /// A list at `key`: a JSON array of strings, or a comma-separated string.
    public func list(_ key: String, default defaultValue: [String]? = nil) throws(ConnectorError) -> [String] {
        if values[key] == nil || values[key] == .null, let defaultValue { return defaultValue }
        if case .array(let elements)? = values[key] {
            return elements.map { $0.stringValue ?? JSONWriter.string($0) }
        }
        return try string(key).split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
    }

    /// A JSON object at `key`: an object, or a string holding one.
    public func object(_ key: String) throws(ConnectorError) -> JSONObject {
        if case .object(let object)? = values[key] { return object }
        let text = try string(key)
        guard let parsed = try? JSONParser.parse(text), let object = parsed.objectValue else {
            throw .configuration("configuration key \"\(key)\" must hold a JSON object, got \"\(text)\"")
        }
        return object
    }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
