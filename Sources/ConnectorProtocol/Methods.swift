/// The method names of protocol v1.
public enum Method {
    public static let initialize = "initialize"
    public static let schema = "schema"
    public static let test = "test"
    public static let update = "update"
    public static let shutdown = "shutdown"
    public static let cancel = "cancel"
    public static let records = "records"
    public static let checkpoint = "checkpoint"
    public static let log = "log"
}

/// The protocol versions, as integers (the major version).
public enum ProtocolVersion {
    /// The version this module implements.
    public static let current = 1
    /// Every version this module speaks.
    public static let supported: Set<Int> = [1]
}
