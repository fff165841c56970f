import ConnectorProtocol

/// Keeps secrets out of the console, logs and error messages.
public enum Redaction {
    /// The mask shown instead of a secret.
    public static let mask = "********"

    /// Key fragments that mark a value as secret when a configuration does not say otherwise.
    static let secretKeyFragments = [
        "password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "private_key", "privatekey", "credential", "auth",
    ]

    /// Whether a key names a secret (`password`, `api_token`, `clientSecret`, ...).
    public static func looksSecret(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return secretKeyFragments.contains { lowered.contains($0) }
    }

    /// The configuration's secret values: those under secret-looking keys, plus the keys listed in
    /// its optional `"__secrets"` array.
    public static func secretValues(in configuration: JSONObject) -> [String] {
        let declared = Set(configuration["__secrets"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        var values: [String] = []
        for (key, value) in configuration where declared.contains(key) || looksSecret(key) {
            switch value {
            case .string(let text) where !text.isEmpty: values.append(text)
            case .number(let number): values.append(number.literal)
            default: continue
            }
        }
        return values.filter { $0.count >= 3 }
    }

    /// `text` with every occurrence of each secret replaced by the mask.
    public static func redact(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where result.contains(secret) { result = result.replacingOccurrences(of: secret, with: mask) }
        return result
    }

    /// A JSON excerpt for an error message: values of secret-looking keys masked, strings cut after
    /// 120 characters, the whole cut to `limit` characters.
    static func excerpt(of json: String, limit: Int = 300) -> String {
        var text = json
        if let value = try? JSONParser.parse(json) {
            text = JSONWriter.string(masked(value, cuttingStringsAt: 120))
        }
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    /// JSON text (a stored state, say) with the values under secret-looking keys masked and every
    /// value in `secrets` replaced; text that is not JSON is only redacted.
    public static func maskedJSON(_ text: String, secrets: [String] = []) -> String {
        guard let value = try? JSONParser.parse(text) else { return redact(text, secrets: secrets) }
        return redact(JSONWriter.string(masked(value)), secrets: secrets)
    }

    /// `value` with every value under a secret-looking key replaced by the mask (at any depth), and
    /// strings longer than `limit` characters cut.
    static func masked(_ value: JSONValue, cuttingStringsAt limit: Int = .max) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(
                JSONObject(
                    object.members.map { member in
                        (
                            key: member.key,
                            value: looksSecret(member.key) && !member.value.isNull
                                ? .string(mask) : masked(member.value, cuttingStringsAt: limit)
                        )
                    }))
        case .array(let elements): return .array(elements.map { masked($0, cuttingStringsAt: limit) })
        case .string(let text) where text.count > limit: return .string(String(text.prefix(limit)) + "…")
        default: return value
        }
    }
}
