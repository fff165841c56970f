import ConnectorProtocol
import Synchronization

/// The secrets a session masks in everything it shows or records: those of the configuration
/// (``Redaction/secretValues(in:additionalKeys:)``), and, once the connector has answered
/// `initialize`, the values under the configuration keys it declares secret there (`secretKeys`,
/// PROTOCOL.md 5.1; the Singer and Airbyte adapters fill it from the tap's or source's spec).
///
/// Sendable: shared by the session's thread, the console and the thread that reads the connector's
/// stderr; the current ``Redactor`` sits behind a `Mutex`.
public final class SecretMask: Sendable {
    private let state = Mutex<(configuration: JSONObject, keys: [String], extra: [String], redactor: Redactor)>(([:], [], [], .none))

    /// Masks nothing until ``use(configuration:)``.
    public init() {}

    /// Masks the secrets of `configuration`.
    public convenience init(configuration: JSONObject) {
        self.init()
        use(configuration: configuration)
    }

    /// Masks the secrets of `configuration` (and of the keys accepted so far).
    public func use(configuration: JSONObject) {
        state.withLock { state in
            state.configuration = configuration
            state.redactor = Self.redactor(of: state)
        }
    }

    /// Masks `secrets` too (a destination's password, say), whatever the configuration says.
    public func add(secrets: [String]) {
        state.withLock { state in
            state.extra += secrets
            state.redactor = Self.redactor(of: state)
        }
    }

    /// The redactor of the secrets known now.
    public var redactor: Redactor { state.withLock { $0.redactor } }

    /// Adds the `secretKeys` of an `initialize` result.
    /// - Returns: a note for the user when the member is there but is not an array of strings (it
    ///   is then ignored: declaring secrets wrongly must not fail a sync), else `nil`.
    @discardableResult
    public func accept(initializeResult result: JSONValue) -> String? {
        guard let member = result[InitializeResult.Member.secretKeys] else { return nil }
        guard let keys = InitializeResult.secretKeys(member) else {
            return "warning: the connector's initialize result has a secretKeys that is not an array of strings; it was ignored"
        }
        state.withLock { state in
            let added = keys.filter { !state.keys.contains($0) }
            guard !added.isEmpty else { return }
            state.keys += added
            state.redactor = Self.redactor(of: state)
        }
        return nil
    }

    /// The redactor of everything known: the configuration's secrets (by the heuristics and the
    /// accepted keys) and the secrets added directly.
    private static func redactor(of state: (configuration: JSONObject, keys: [String], extra: [String], redactor: Redactor)) -> Redactor {
        Redactor(secrets: Redaction.secretValues(in: state.configuration, additionalKeys: state.keys) + state.extra)
    }
}
