import ConnectorProtocol

/// Keeps secrets out of the console, logs and error messages.
public enum Redaction {
    /// The mask shown instead of a secret.
    public static let mask = "********"

    /// Fragments of a key (lower-cased, letters and digits only) that mark its value as secret when
    /// the configuration does not say otherwise: `apiKey`, `api_key` and `API-KEY` all contain "apikey".
    static let secretKeyFragments = [
        "password", "passwd", "passphrase", "pwd", "secret", "token", "apikey", "privatekey", "accesskey", "signingkey",
        "encryptionkey", "clientkey", "sshkey", "credential", "auth", "cookie", "bearer", "jwt", "connectionstring",
    ]

    /// Whether a key names a secret (`password`, `api_token`, `clientSecret`, `AWS_ACCESS_KEY_ID`, `key`, ...).
    public static func looksSecret(_ key: String) -> Bool {
        let normalized = String(key.lowercased().filter { $0.isLetter || $0.isNumber })
        return normalized == "key" || secretKeyFragments.contains { normalized.contains($0) }
    }

    /// The configuration's secret values, to mask wherever they would be shown: every string or
    /// number under a secret-looking key or a key listed in the configuration's optional
    /// `"__secrets"` array, at any depth (a secret-looking key holding an object makes all of it secret).
    /// Values shorter than 3 characters are left alone: masking them would garble every message.
    public static func secretValues(in configuration: JSONObject) -> [String] {
        let declared = Set(configuration["__secrets"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        var values: [String] = []
        func collect(_ value: JSONValue, secret: Bool) {
            switch value {
            case .object(let object):
                for (key, member) in object where key != "__secrets" {
                    collect(member, secret: secret || declared.contains(key) || looksSecret(key))
                }
            case .array(let elements): for element in elements { collect(element, secret: secret) }
            case .string(let text) where secret: values.append(text)
            case .number(let number) where secret: values.append(number.literal)
            default: break
            }
        }
        collect(.object(configuration), secret: false)
        var secrets: [String] = []
        for value in values where value.count >= 3 {
            secrets.append(value)
            // Messages quote JSON too (an operation, a state): mask the escaped form as well.
            let escaped = String(JSONWriter.string(.string(value)).dropFirst().dropLast())
            if escaped != value { secrets.append(escaped) }
        }
        // Longest first, so a secret that contains another is masked whole.
        return Array(Set(secrets)).sorted { $0.count > $1.count || ($0.count == $1.count && $0 < $1) }
    }

    /// `text` with every occurrence of each secret replaced by the mask.
    public static func redact(_ text: String, secrets: [String]) -> String {
        var result = text
        for secret in secrets where result.contains(secret) { result = result.replacing(secret, with: mask) }
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
