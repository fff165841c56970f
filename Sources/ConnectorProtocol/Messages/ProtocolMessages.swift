/// Every method of the protocol, by direction and kind: the registry that protocol/schemas is
/// checked against (one `NAME.request`/`NAME.notification` schema per entry).
public enum ProtocolMessages {
    /// Requests the host sends.
    public static let hostRequests: [any ProtocolRequest.Type] = [
        InitializeRequest.self, SchemaRequest.self, TestRequest.self, UpdateRequest.self, ShutdownRequest.self,
        ConfigurationFormRequest.self, OperationSiteRequest.self,
    ]
    /// Requests the connector sends.
    public static let connectorRequests: [any ProtocolRequest.Type] = [CheckpointRequest.self]
    /// Notifications the host sends.
    public static let hostNotifications: [any ProtocolNotification.Type] = [CancelNotification.self]
    /// Notifications the connector sends.
    public static let connectorNotifications: [any ProtocolNotification.Type] = [
        RecordsNotification.self, LogNotification.self, WarningNotification.self,
    ]

    /// Every request type.
    public static var requests: [any ProtocolRequest.Type] { hostRequests + connectorRequests }
    /// Every notification type.
    public static var notifications: [any ProtocolNotification.Type] { hostNotifications + connectorNotifications }

    /// The type of the method called `name`, if the protocol has one.
    public static func type(forMethod name: String) -> (any ProtocolMethod.Type)? {
        let all: [any ProtocolMethod.Type] = requests + notifications
        return all.first { $0.method == name }
    }
}

extension Message {
    /// A request of a typed method.
    public static func request<Request: ProtocolRequest>(id: RequestID, _ request: Request) -> Message {
        .request(id: id, method: Request.method, params: request.params)
    }

    /// A notification of a typed method.
    public static func notification<Notification: ProtocolNotification>(_ notification: Notification) -> Message {
        .notification(method: Notification.method, params: notification.params)
    }
}
