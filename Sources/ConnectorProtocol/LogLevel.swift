/// The severity of a `log` message.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    case debug, info, warning, error

    /// Reads a level name, accepting the Fivetran aliases (`fine`, `severe`, `critical`, `warn`).
    public init?(wireName: String) {
        switch wireName.lowercased() {
        case "debug", "fine", "trace": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error", "severe", "critical": self = .error
        default: return nil
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
