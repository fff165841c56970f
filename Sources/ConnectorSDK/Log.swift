public import ConnectorProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The channel of the running connector, for `Log`; `nil` outside a protocol session.
let activeChannel = Mutex<ProtocolChannel?>(nil)

/// Structured log messages, shown by the host with the connector's name and level.
///
/// Outside a protocol session (e.g. in unit tests) messages go to stderr.
public enum Log {
    /// The channel of the runtime whose task is running; preferred over `activeChannel`.
    @TaskLocal static var taskChannel: ProtocolChannel?

    public static func debug(_ message: String) { send(.debug, message) }
    public static func info(_ message: String) { send(.info, message) }
    public static func warning(_ message: String) { send(.warning, message) }
    public static func error(_ message: String) { send(.error, message) }
    /// An error the host shows as `CRITICAL` (Fivetran's `log.critical`); it does not fail the sync.
    public static func critical(_ message: String) { send(.critical, message) }

    /// Sends `message` at `level`.
    public static func send(_ level: LogLevel, _ message: String) {
        let channel = taskChannel ?? activeChannel.withLock { $0 }
        if let channel {
            try? channel.send(.notification(LogNotification(level: level, message: message)))
        } else {
            let line = Array("\(level.rawValue.uppercased()): \(message)\n".utf8)
            try? LineWriter(fileDescriptor: 2).write(line)
        }
    }
}
