/// The id of a JSON-RPC request: an integer or a string.
public enum RequestID: Sendable, Hashable, CustomStringConvertible {
    case number(Int64)
    case string(String)

    /// The id as JSON.
    public var json: JSONValue {
        switch self {
        case .number(let value): .number(JSONNumber(value))
        case .string(let value): .string(value)
        }
    }

    /// Reads an id; only integers and strings are ids.
    public init?(json: JSONValue) {
        switch json {
        case .string(let value): self = .string(value)
        case .number(let number):
            guard let value = number.int64Value else { return nil }
            self = .number(value)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .number(let value): String(value)
        case .string(let value): "\"\(value)\""
        }
    }
}

/// A JSON-RPC error code. An open set: unknown codes round-trip unchanged.
public struct RPCErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The line was not valid JSON.
    public static let parseError = RPCErrorCode(rawValue: -32700)
    /// The JSON was not a valid JSON-RPC 2.0 object.
    public static let invalidRequest = RPCErrorCode(rawValue: -32600)
    /// The method is not known to the receiver.
    public static let methodNotFound = RPCErrorCode(rawValue: -32601)
    /// The params do not fit the method.
    public static let invalidParams = RPCErrorCode(rawValue: -32602)
    /// The receiver failed internally.
    public static let internalError = RPCErrorCode(rawValue: -32603)
    /// A request arrived before `initialize`.
    public static let notInitialized = RPCErrorCode(rawValue: -32002)
    /// The connector's schema is invalid.
    public static let schemaInvalid = RPCErrorCode(rawValue: -32010)
    /// An operation sent by the connector is invalid.
    public static let operationInvalid = RPCErrorCode(rawValue: -32011)
    /// The configuration is wrong (missing key, bad value).
    public static let configurationError = RPCErrorCode(rawValue: -32012)
    /// The connector's source failed (network, API, database).
    public static let sourceError = RPCErrorCode(rawValue: -32013)
    /// The work was cancelled.
    public static let cancelled = RPCErrorCode(rawValue: -32014)
    /// The requested protocol version is not spoken.
    public static let unsupportedVersion = RPCErrorCode(rawValue: -32015)

    public var description: String {
        let name: String? =
            switch self {
            case .parseError: "parse error"
            case .invalidRequest: "invalid request"
            case .methodNotFound: "method not found"
            case .invalidParams: "invalid params"
            case .internalError: "internal error"
            case .notInitialized: "not initialized"
            case .schemaInvalid: "schema invalid"
            case .operationInvalid: "operation invalid"
            case .configurationError: "configuration error"
            case .sourceError: "source error"
            case .cancelled: "cancelled"
            case .unsupportedVersion: "unsupported protocol version"
            default: nil
            }
        return name.map { "\(rawValue) (\($0))" } ?? String(rawValue)
    }
}

/// A JSON-RPC error object, as sent in an error response.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: RPCErrorCode
    public var message: String
    public var data: JSONValue?

    public init(_ code: RPCErrorCode, _ message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// The error object as JSON.
    public var json: JSONValue {
        var object: JSONObject = ["code": .number(JSONNumber(code.rawValue)), "message": .string(message)]
        if let data { object["data"] = data }
        return .object(object)
    }

    public var description: String { "\(message) [code \(code)]" }
}

/// Why a JSON value is not a JSON-RPC 2.0 message.
public struct MessageShapeError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    /// The id, when the malformed message carried one (so an error response can keep it).
    public let id: RequestID?
    public var description: String { reason }
}

/// One JSON-RPC 2.0 message.
public enum Message: Sendable, Hashable {
    case request(id: RequestID, method: String, params: JSONValue)
    case notification(method: String, params: JSONValue)
    case response(id: RequestID, result: JSONValue)
    case errorResponse(id: RequestID?, error: RPCError)

    /// The members of the envelope, which may each appear once.
    static let envelopeMembers: Set<String> = ["jsonrpc", "id", "method", "params", "result", "error"]

    /// Classifies a decoded JSON value, checking the JSON-RPC 2.0 envelope rules.
    /// - Throws: ``MessageShapeError`` that says which rule was broken.
    public init(json: JSONValue) throws(MessageShapeError) {
        guard case .object(let object) = json else {
            throw MessageShapeError(reason: "expected a JSON-RPC object, got a JSON \(json.kindName)", id: nil)
        }
        let idValue = object["id"]
        let id = idValue.flatMap(RequestID.init(json:))
        // A member twice has no defined meaning (readers disagree on which one wins): refuse it.
        var seen: Set<String> = []
        for key in object.keys where Self.envelopeMembers.contains(key) {
            guard seen.insert(key).inserted else { throw MessageShapeError(reason: "the member \"\(key)\" appears twice", id: nil) }
        }
        guard object["jsonrpc"] == .string("2.0") else {
            throw MessageShapeError(reason: "missing \"jsonrpc\":\"2.0\"", id: id)
        }
        if let idValue, id == nil, !idValue.isNull {
            throw MessageShapeError(reason: "\"id\" must be an integer or a string", id: nil)
        }
        if let methodValue = object["method"] {
            guard case .string(let method) = methodValue else {
                throw MessageShapeError(reason: "\"method\" must be a string", id: id)
            }
            // Always an object in this protocol (PROTOCOL.md section 3), never JSON-RPC's by-position array.
            let params = object["params"] ?? .object([:])
            guard params.objectValue != nil else {
                throw MessageShapeError(reason: "\"params\" must be an object", id: id)
            }
            if let id {
                self = .request(id: id, method: method, params: params)
            } else {
                self = .notification(method: method, params: params)
            }
            return
        }
        if let error = object["error"] {
            guard let code = error["code"]?.int64Value, let message = error["message"]?.stringValue else {
                throw MessageShapeError(reason: "an error response needs an integer \"code\" and a string \"message\"", id: id)
            }
            self = .errorResponse(id: id, error: RPCError(RPCErrorCode(rawValue: Int(code)), message, data: error["data"]))
            return
        }
        if let result = object["result"] {
            guard let id else { throw MessageShapeError(reason: "a response needs the \"id\" of its request", id: nil) }
            self = .response(id: id, result: result)
            return
        }
        throw MessageShapeError(reason: "a message needs \"method\", \"result\" or \"error\"", id: id)
    }

    /// The message as a JSON object, members in the order the protocol recommends (method before params).
    public var json: JSONValue {
        var object: JSONObject = ["jsonrpc": "2.0"]
        switch self {
        case .request(let id, let method, let params):
            object["id"] = id.json
            object["method"] = .string(method)
            object["params"] = params
        case .notification(let method, let params):
            object["method"] = .string(method)
            object["params"] = params
        case .response(let id, let result):
            object["id"] = id.json
            object["result"] = result
        case .errorResponse(let id, let error):
            object["id"] = id?.json ?? .null
            object["error"] = error.json
        }
        return .object(object)
    }

    /// The message as one protocol line, newline included.
    public var line: [UInt8] {
        var writer = JSONWriter()
        writer.write(json)
        writer.bytes.append(0x0A)
        return writer.bytes
    }

    /// Parses one line (without its newline) into a message.
    public static func decode(line: UnsafeBufferPointer<UInt8>) throws -> Message {
        try Message(json: JSONParser.parse(line))
    }
}
