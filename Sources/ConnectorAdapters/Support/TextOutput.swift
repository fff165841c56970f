import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a line to the adapter's stderr, which the host shows as the connector's log.
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    bytes.append(0x0A)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// A log sink for the time before `initialize` is answered, when `log` messages are not yet allowed.
func writeLogToStandardError(_ level: LogLevel, _ message: String) {
    writeStandardError("[\(level.rawValue)] \(message)")
}

/// The start of a line as printable text, for error messages.
enum Preview {
    static func of(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int = 160) -> String {
        let shown = bytes.prefix(limit).map { byte -> String in
            if byte >= 0x20 && byte < 0x7F { return String(UnicodeScalar(byte)) }
            return "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }.joined()
        return "\"\(shown)\"" + (bytes.count > limit ? "… (\(bytes.count) bytes)" : "")
    }
}
