import ConnectorProtocol
import Foundation

/// Keeps secrets out of the console, logs and error messages: which keys and values look secret.
/// ``Redactor`` masks them in text, before any cut.
public enum Redaction {
    /// The mask shown instead of a secret.
    public static let mask = "********"

    /// Fragments of a key (lower-cased, letters and digits only) that mark its value as secret when
    /// the configuration does not say otherwise: `apiKey`, `api_key` and `API-KEY` all contain "apikey".
    static let secretKeyFragments = [
        "password", "passwd", "passphrase", "passcode", "pwd", "secret", "token", "apikey", "privatekey", "accesskey",
        "signingkey", "encryptionkey", "clientkey", "sshkey", "credential", "auth", "cookie", "bearer", "jwt",
        "connectionstring", "sessionid", "sessionkey",
    ]

    /// Whole words of a key (split at `_`, `-`, `.`, spaces and camelCase) that mark it secret:
    /// `DB_PASS`, `GH_PAT`, `SENTRY_DSN`, `dbPw`. (As fragments they would hit `compass`, `path`.)
    static let secretWords: Set<String> = ["pass", "pw", "pat", "dsn", "otp", "salt", "hmac", "sas", "creds", "cred"]

    /// Words before (or after) a word `key` that make it a name of data, not a secret: `primary_key`,
    /// `sort_key`, `LastEvaluatedKey`, `key_column`. Any other `key` word (`OPENAI_KEY`,
    /// `stripe_key`, `key`) marks the key secret.
    static let keyQualifiers: Set<String> = [
        "primary", "sort", "partition", "foreign", "join", "cluster", "clustering", "distribution", "dist", "shard",
        "sharding", "dedup", "dedupe", "unique", "natural", "surrogate", "composite", "compound", "candidate", "alternate",
        "cursor", "order", "group", "grouping", "public", "pub", "row", "record", "lookup", "cache", "idempotency", "routing",
        "hash", "index", "object", "bucket", "s3", "map", "merge", "match", "business", "parent", "child", "reference", "ref",
        "upsert", "replication", "incremental", "last", "next", "start", "end", "page", "resume", "continuation", "evaluated",
        "offset", "checkpoint", "message", "event", "entity", "table", "column", "field", "dedupe", "deduplication",
    ]
    static let keyFollowers: Set<String> = ["column", "columns", "field", "fields", "name", "names", "prefix", "type", "path"]

    /// Whether a key names a secret (`password`, `api_token`, `clientSecret`, `AWS_ACCESS_KEY_ID`,
    /// `DB_PASS`, `OPENAI_KEY`, `GH_PAT`, `key`, ...).
    public static func looksSecret(_ key: String) -> Bool {
        let normalized = String(key.lowercased().filter { $0.isLetter || $0.isNumber })
        if normalized == "key" || secretKeyFragments.contains(where: normalized.contains) { return true }
        let parts = words(key)
        for (index, word) in parts.enumerated() {
            if secretWords.contains(word) { return true }
            guard word == "key" else { continue }
            let before = index > 0 ? parts[index - 1] : nil
            let after = index + 1 < parts.count ? parts[index + 1] : nil
            if before.map(keyQualifiers.contains) != true, after.map(keyFollowers.contains) != true { return true }
        }
        return false
    }

    /// A key's words, lower-cased: split at anything but letters and digits, and at camelCase
    /// boundaries (`OpenAIKey` is open, ai, key).
    static func words(_ key: String) -> [String] {
        var result: [String] = []
        var current = ""
        let characters = Array(key)
        for (index, character) in characters.enumerated() {
            guard character.isLetter || character.isNumber else {
                if !current.isEmpty { result.append(current) }
                current = ""
                continue
            }
            if let previous = current.last, character.isUppercase {
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
                    result.append(current)
                    current = ""
                }
            }
            current.append(character)
        }
        if !current.isEmpty { result.append(current) }
        return result.map { $0.lowercased() }
    }

    /// Secrets inside a value whatever its key: the password of a URL (`postgres://app:pw@host/db`,
    /// with the whole URL), and the values of secret-looking parameters in query strings and
    /// connection strings (`?password=x&`, `Server=db;Password=x;`, `PWD={x;y}`).
    static func embeddedSecrets(in value: String) -> [String] {
        var found: [String] = []
        // scheme://user:password@host
        var searchStart = value.startIndex
        while let scheme = value.range(of: "://", range: searchStart..<value.endIndex) {
            let rest = value[scheme.upperBound...]
            let authority = rest.prefix { !"/?#".contains($0) && !$0.isWhitespace }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                let password = String(authority[authority.index(after: colon)..<at])
                if !password.isEmpty {
                    found.append(password)
                    if let decoded = password.removingPercentEncoding, decoded != password { found.append(decoded) }
                    // The URL as a whole too (up to the next space), so a short password still hides.
                    let urlStart =
                        value[..<scheme.lowerBound].lastIndex(where: { $0.isWhitespace || "\"'<(=".contains($0) })
                        .map { value.index(after: $0) } ?? value.startIndex
                    let urlEnd = value[scheme.upperBound...].firstIndex(where: \.isWhitespace) ?? value.endIndex
                    found.append(String(value[urlStart..<urlEnd]))
                }
            }
            searchStart = scheme.upperBound
        }
        // name=value in query strings (& ? separated) and connection strings (; separated).
        var index = value.startIndex
        while let equals = value[index...].firstIndex(of: "=") {
            let nameStart =
                value[..<equals].lastIndex(where: { "?&;, \t\n\"'".contains($0) }).map { value.index(after: $0) } ?? value.startIndex
            let name = value[nameStart..<equals].trimmingCharacters(in: .whitespaces)
            var valueStart = value.index(after: equals)
            var valueEnd: String.Index
            if valueStart < value.endIndex, value[valueStart] == "{", let close = value[valueStart...].firstIndex(of: "}") {
                valueStart = value.index(after: valueStart)
                valueEnd = close
            } else {
                valueEnd = value[valueStart...].firstIndex(where: { "&;, \t\n\"'#".contains($0) }) ?? value.endIndex
            }
            if !name.isEmpty, looksSecret(name), valueStart < valueEnd {
                let secret = String(value[valueStart..<valueEnd])
                found.append(secret)
                if let decoded = secret.removingPercentEncoding, decoded != secret { found.append(decoded) }
            }
            index = max(value.index(after: equals), min(valueEnd, value.endIndex))
            if index >= value.endIndex { break }
        }
        return found
    }

    /// The configuration's secret values, to mask wherever they would be shown: every string or
    /// number under a secret-looking key or a key listed in the configuration's optional
    /// `"__secrets"` array, at any depth (a secret-looking key holding an object makes all of it
    /// secret), and secrets embedded in any string value (``embeddedSecrets(in:)``). Values shorter
    /// than 3 characters are left alone: masking them would garble every message.
    public static func secretValues(in configuration: JSONObject) -> [String] {
        secretValues(in: configuration, additionalKeys: [])
    }

    /// The configuration's secret values (``secretValues(in:)``), with `additionalKeys` treated like
    /// those of `"__secrets"`: a connector's `secretKeys` (see ``SecretMask``).
    public static func secretValues(in configuration: JSONObject, additionalKeys: [String]) -> [String] {
        let declared = Set((configuration["__secrets"]?.arrayValue?.compactMap(\.stringValue) ?? []) + additionalKeys)
        var values: [String] = []
        func collect(_ value: JSONValue, secret: Bool) {
            switch value {
            case .object(let object):
                for (key, member) in object where key != "__secrets" {
                    collect(member, secret: secret || declared.contains(key) || looksSecret(key))
                }
            case .array(let elements): for element in elements { collect(element, secret: secret) }
            case .string(let text):
                if secret { values.append(text) }
                values += embeddedSecrets(in: text)
            case .number(let number) where secret: values.append(number.literal)
            default: break
            }
        }
        collect(.object(configuration), secret: false)
        return Redactor(secrets: values).secrets
    }

    /// `text` with every occurrence of each secret replaced by the mask.
    public static func redact(_ text: String, secrets: [String]) -> String {
        Redactor(exactly: secrets).mask(text)
    }

    /// JSON text (a stored state, say) with the values under secret-looking keys masked and every
    /// value in `secrets` replaced; text that is not JSON is only redacted.
    public static func maskedJSON(_ text: String, secrets: [String] = []) -> String {
        Redactor(exactly: secrets).maskedJSON(text)
    }

    /// `value` with every value under a secret-looking key replaced by the mask (at any depth), each
    /// string masked with `redactor`, then strings longer than `limit` characters cut.
    static func masked(_ value: JSONValue, by redactor: Redactor, cuttingStringsAt limit: Int = .max) -> JSONValue {
        switch value {
        case .object(let object):
            return .object(
                JSONObject(
                    object.members.map { member in
                        (
                            key: redactor.mask(member.key),
                            value: looksSecret(member.key) && !member.value.isNull
                                ? .string(mask) : masked(member.value, by: redactor, cuttingStringsAt: limit)
                        )
                    }))
        case .array(let elements): return .array(elements.map { masked($0, by: redactor, cuttingStringsAt: limit) })
        case .string(let text):
            let shown = redactor.mask(text)
            return .string(shown.count > limit ? String(shown.prefix(limit)) + "…" : shown)
        default: return value
        }
    }
}

/// Masks a configuration's secrets in text the host shows.
///
/// Every cut of shown text (a line's first 100 bytes, an operation's first 300 characters, a long
/// stderr line) goes through it, and it masks before it cuts: a secret that straddles a cut is
/// never shown in part. Matching is byte for byte on UTF-8 (so a combining mark after a secret does
/// not hide it), and each secret is also looked for in its other spellings: NFC and NFD, JSON
/// escaped (`\"`, `\u00e4`, `\/`) and percent-encoded.
public struct Redactor: Sendable {
    /// The values masked (their spellings included), longest first.
    public let secrets: [String]
    private let secretBytes: [[UInt8]]

    /// Masks nothing.
    public static let none = Redactor(exactly: [])

    /// The secrets of a configuration (``Redaction/secretValues(in:)``).
    public init(configuration: JSONObject) {
        self.init(exactly: Redaction.secretValues(in: configuration))
    }

    /// Masks `values` (at least 3 characters each) and their other spellings.
    public init(secrets values: [String]) {
        var all: Set<String> = []
        for value in values where value.count >= 3 { all.formUnion(Self.spellings(of: value)) }
        self.init(exactly: Array(all))
    }

    /// Masks exactly these strings.
    init(exactly values: [String]) {
        // Longest first, so a secret that contains another is masked whole.
        secrets = Array(Set(values.filter { !$0.isEmpty })).sorted {
            $0.utf8.count > $1.utf8.count || ($0.utf8.count == $1.utf8.count && $0 < $1)
        }
        secretBytes = secrets.map { Array($0.utf8) }
    }

    /// A secret as it may appear in text the host shows.
    static func spellings(of value: String) -> Set<String> {
        var forms: Set<String> = [value, value.precomposedStringWithCanonicalMapping, value.decomposedStringWithCanonicalMapping]
        for form in Array(forms) {
            let escaped = String(JSONWriter.string(.string(form)).dropFirst().dropLast())
            forms.insert(escaped)
            forms.insert(escaped.replacingOccurrences(of: "/", with: "\\/"))
            if form.unicodeScalars.contains(where: { !$0.isASCII }) {
                for uppercase in [false, true] { forms.insert(asciiEscaped(escaped, uppercase: uppercase)) }
            }
            if let encoded = form.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) {
                forms.insert(encoded)
            }
        }
        return forms
    }

    /// JSON text with every non-ASCII scalar as `\uXXXX` (surrogate pairs beyond the BMP), as
    /// ASCII-only JSON writers (Python's json.dumps) send it.
    private static func asciiEscaped(_ text: String, uppercase: Bool) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            guard !scalar.isASCII else {
                result.unicodeScalars.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                let hex = String(unit, radix: 16, uppercase: uppercase)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return result
    }

    /// Whether there is anything to mask.
    public var isEmpty: Bool { secrets.isEmpty }

    /// `text` with every secret replaced by the mask.
    public func mask(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        let bytes = Array(text.utf8)
        let masked = mask(bytes)
        return masked.count == bytes.count && masked == bytes ? text : String(decoding: masked, as: UTF8.self)
    }

    /// `bytes` with every secret's UTF-8 replaced by the mask.
    func mask(_ bytes: [UInt8]) -> [UInt8] {
        var result = bytes
        for secret in secretBytes where secret.count <= result.count {
            guard let first = Self.firstIndex(of: secret, in: result, from: 0) else { continue }
            var output: [UInt8] = Array(result[..<first])
            output.reserveCapacity(result.count)
            var position = first
            while let match = Self.firstIndex(of: secret, in: result, from: position) {
                output += result[position..<match]
                output += Array(Redaction.mask.utf8)
                position = match + secret.count
            }
            output += result[position...]
            result = output
        }
        return result
    }

    /// Where `needle` first occurs in `haystack` at or after `start` (memchr for its first byte, then memcmp).
    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let head = needle.first, haystack.count - start >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { hay in
            needle.withUnsafeBufferPointer { pin in
                let base = hay.baseAddress!
                var position = start
                let last = hay.count - pin.count
                while position <= last {
                    guard let found = memchr(base + position, Int32(head), last - position + 1) else { return nil }
                    let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + index, pin.baseAddress!, pin.count) == 0 { return index }
                    position = index + 1
                }
                return nil
            }
        }
    }

    /// Raw bytes (a stdout line) for a message: secrets masked, then the first `limit` bytes as a
    /// quoted string with every byte outside printable ASCII as `\xNN`, and the total length when cut.
    func preview<Bytes: Collection<UInt8>>(_ bytes: Bytes, limit: Int = 100) -> String {
        let total = bytes.count
        let masked = mask(Array(bytes))
        let shown = masked.prefix(limit).map { byte -> String in
            if byte >= 0x20 && byte < 0x7F { return String(UnicodeScalar(byte)) }
            return "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
        }.joined()
        return "\"\(shown)\"" + (masked.count > limit ? "… (\(total) bytes)" : "")
    }

    /// Text from outside the host (a log message, a stderr line, an error message, a name) for the
    /// console or a message: secrets masked, then cut to `limit` characters, then control characters
    /// escaped (``HumanText/escapingControls(_:)``).
    func show(_ text: String, limit: Int) -> String {
        let masked = mask(text)
        guard masked.unicodeScalars.count > limit else { return HumanText.escapingControls(masked) }
        var cut = String.UnicodeScalarView()
        cut.append(contentsOf: masked.unicodeScalars.prefix(limit))
        return HumanText.escapingControls(String(cut)) + "… (cut at \(limit) of \(masked.unicodeScalars.count) characters)"
    }

    /// A JSON excerpt for an error message (an operation): values of secret-looking keys and every
    /// secret masked, strings cut after 120 characters, the whole cut to `limit` characters.
    func excerpt(ofJSON json: String, limit: Int = 300) -> String {
        var text = mask(json)
        if let value = try? JSONParser.parse(json) {
            text = mask(JSONWriter.string(Redaction.masked(value, by: self, cuttingStringsAt: 120)))
        }
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    /// JSON text (a stored state) with the values under secret-looking keys masked and every secret
    /// replaced; text that is not JSON is only masked.
    func maskedJSON(_ text: String) -> String {
        guard let value = try? JSONParser.parse(text) else { return mask(text) }
        return mask(JSONWriter.string(Redaction.masked(value, by: self)))
    }
}
