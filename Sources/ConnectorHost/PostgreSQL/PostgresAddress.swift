/// Where a PostgreSQL destination is: a libpq connection URI (`postgresql://user:password@host:port/db?...`).
///
/// The URI goes to libpq as given; everything shown to people is ``description``, which has no
/// password (neither the one in the user part nor a `password=` parameter), and ``secrets`` lists
/// the password in each form it may appear in, so messages can be masked.
public struct PostgresAddress: Sendable, Equatable, CustomStringConvertible {
    /// The URI as given, password included: for libpq only, never to be printed.
    let uri: String
    /// The URI with its password replaced by `***`.
    public let description: String
    /// The password as written and percent-decoded, for masking (empty when there is none).
    public let secrets: [String]

    /// Whether `text` names a PostgreSQL destination (rather than an SQLite file).
    public static func isPostgresURI(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Parses a `postgresql://` or `postgres://` URI.
    /// - Throws: a message saying what form is expected, without repeating the URI (it may hold a password).
    public init(_ uri: String) throws(PostgresAddressError) {
        guard Self.isPostgresURI(uri) else {
            throw PostgresAddressError(
                "a PostgreSQL destination is a URI that starts with postgresql:// (for example postgresql://user@localhost:5432/warehouse)")
        }
        guard !uri.utf8.contains(0) else { throw PostgresAddressError("the destination URI contains a NUL byte") }
        let schemeEnd = uri.range(of: "://")!.upperBound
        let rest = uri[schemeEnd...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var shownAuthority = String(authority)
        var secrets: [String] = []
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                let password = String(userInfo[userInfo.index(after: colon)...])
                if !password.isEmpty { secrets.append(password) }
                shownAuthority = String(userInfo[..<colon]) + ":***" + String(authority[at...])
            }
        }
        var shownRest = String(rest[authorityEnd...])
        if let question = shownRest.firstIndex(of: "?") {
            let path = shownRest[..<question]
            let query = shownRest[shownRest.index(after: question)...]
            var parameters: [String] = []
            for parameter in query.split(separator: "&", omittingEmptySubsequences: false) {
                if parameter.hasPrefix("password=") {
                    let value = String(parameter.dropFirst("password=".count))
                    if !value.isEmpty { secrets.append(value) }
                    parameters.append("password=***")
                } else {
                    parameters.append(String(parameter))
                }
            }
            shownRest = path + "?" + parameters.joined(separator: "&")
        }
        for secret in secrets {
            if let decoded = Self.percentDecoded(secret), decoded != secret { secrets.append(decoded) }
        }
        self.uri = uri
        self.secrets = secrets
        description = String(uri[..<schemeEnd]) + shownAuthority + shownRest
    }

    private static func percentDecoded(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// A destination URI that cannot be used; the message never repeats the URI.
public struct PostgresAddressError: Error, Sendable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
