/// `shutdown`, host to connector: the session is over; the host closes stdin next.
public struct ShutdownRequest: ProtocolRequest, Equatable {
    public typealias Result = EmptyResult
    public static let method = "shutdown"

    public init() {}
    public init(params: JSONValue) throws(InvalidParams) {}
    public var params: JSONValue { [:] }
}
