/// The method names of protocol v1, as the message types declare them (``ProtocolMessages``).
public enum Method {
    public static let initialize = InitializeRequest.method
    public static let schema = SchemaRequest.method
    public static let test = TestRequest.method
    public static let update = UpdateRequest.method
    public static let shutdown = ShutdownRequest.method
    public static let cancel = CancelNotification.method
    public static let records = RecordsNotification.method
    public static let checkpoint = CheckpointRequest.method
    public static let log = LogNotification.method
    public static let warning = WarningNotification.method
    public static let configurationForm = ConfigurationFormRequest.method
}

/// The protocol versions, as integers (the major version).
public enum ProtocolVersion {
    /// The version this module implements.
    public static let current = 1
    /// Every version this module speaks.
    public static let supported: Set<Int> = [1]
}
