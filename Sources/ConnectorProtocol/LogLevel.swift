/// The severity of a `log` message.
///
/// The wire accepts Fivetran's seven levels: `fine` is `debug`, `severe` is `error`, and `critical`
/// is an error shown as `CRITICAL` (PROTOCOL.md section 5.7).
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    case debug, info, warning, error, critical

    /// Reads a level name, accepting the Fivetran aliases (`fine`, `severe`, `warn`).
    public init?(wireName: String) {
        switch wireName.lowercased() {
        case "debug", "fine", "trace": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error", "severe": self = .error
        case "critical": self = .critical
        default: return nil
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
