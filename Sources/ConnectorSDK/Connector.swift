public import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A data connector: declares its tables and streams their rows to the host.
///
/// Conform a type to this protocol and mark it `@main`; the SDK's `main` speaks the protocol on
/// stdin/stdout. Everything the connector prints with `print` goes to stderr, where the host shows it
/// as the connector's log, so it can never corrupt the protocol stream.
///
/// ```swift
/// @main struct Hello: Connector {
///     func schema(configuration: Configuration) throws -> [TableDefinition] {
///         [TableDefinition(name: "greeting", primaryKey: ["id"], columns: [("id", ColumnType(.long))])]
///     }
///     func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
///         try operations.upsert("greeting", ["id": 1, "message": "hello"])
///         try operations.checkpoint(["cursor": 1])
///     }
/// }
/// ```
public protocol Connector: Sendable {
    /// The connector's name, reported in the handshake (defaults to the executable's name).
    var name: String { get }
    /// The connector's version, reported in the handshake.
    var version: String { get }

    /// Creates the connector; `main` calls it once per process.
    init()

    /// The tables this connector writes, with primary keys and (optionally) column types.
    func schema(configuration: Configuration) async throws -> [TableDefinition]

    /// Reads the source from `state` onwards and sends its changes through `operations`.
    ///
    /// Call ``Operations/checkpoint(_:)`` whenever the data sent so far and the new state form a
    /// consistent point to resume from; it returns once the host has stored both durably.
    func update(configuration: Configuration, state: JSONValue, operations: Operations) async throws

    /// Whether ``test(configuration:)`` is implemented (announced as the `test` capability). Default `false`.
    var hasConnectionTest: Bool { get }
    /// Whether `update` reads ``Operations/selectedTables`` and sends operations only for those
    /// tables (`run --tables`): declared to the host as the `selectTables` capability. A connector
    /// that does not (the default) gets every table to sync, and the host skips the others.
    var selectsTables: Bool { get }

    /// Configuration keys whose values are secret although their names do not say so (the host
    /// masks keys like `password` or `apiKey` anyway); sent as `secretKeys` in the `initialize`
    /// result. Default `[]`.
    var secretKeys: [String] { get }

    /// Checks that the configuration can reach the source. Return `nil` (the default) when the
    /// connector has no connection test; set ``hasConnectionTest`` when you implement it.
    func test(configuration: Configuration) async throws -> ConnectionTestResult?
}

/// The outcome of a connection test.
public struct ConnectionTestResult: Sendable, Equatable {
    public var ok: Bool
    public var message: String
    public init(ok: Bool, message: String) {
        self.ok = ok
        self.message = message
    }
}

extension Connector {
    public var name: String {
        CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? Substring($0)) } ?? "connector"
    }
    public var version: String { "0.0.0" }
    public var hasConnectionTest: Bool { false }
    public var selectsTables: Bool { false }
    public var secretKeys: [String] { [] }
    public func test(configuration: Configuration) async throws -> ConnectionTestResult? { nil }

    /// Runs the protocol loop on the process's stdin and stdout, then exits.
    public static func main() async {
        let status = await ConnectorRuntime.runOnStandardStreams(Self())
        exit(status)
    }
}

/// An error a connector throws to report a precise failure with a protocol error code.
public struct ConnectorError: Error, Sendable, CustomStringConvertible {
    public var code: RPCErrorCode
    public var message: String

    public init(_ code: RPCErrorCode = .sourceError, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A configuration problem (-32012).
    public static func configuration(_ message: String) -> ConnectorError { ConnectorError(.configurationError, message) }

    public var description: String { message }
}
