/// Why a registry command could not do what was asked: one message that says what, where, and
/// how to fix it.
public struct RegistryError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The package or connection asked for does not exist.
        case notFound
        /// The request conflicts with the registry's state (a package in use, a name taken).
        case conflict
        /// The package file no longer has its recorded hash.
        case tampered
        /// Another process is syncing the connection.
        case busy
        /// Anything else: a file, SQLite, a malformed package.
        case failed
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
