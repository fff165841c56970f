#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a package could not be made, read or unpacked: one message that says what is wrong, where,
/// and how to fix it.
public struct PackagingError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// A failed system call on `path`, with the errno's text.
    static func system(_ action: String, _ path: String, errno code: Int32 = errno) -> PackagingError {
        PackagingError("cannot \(action) \(path): \(String(cString: strerror(code)))")
    }
}
