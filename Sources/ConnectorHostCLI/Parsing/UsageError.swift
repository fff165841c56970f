/// A usage mistake: what is wrong and what to type instead. The command line exits with code 2.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    /// One sentence: what is wrong, then what to type.
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
