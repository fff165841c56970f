/// `configurationForm`, host to connector (when the connector announces the `configurationForm`
/// capability): the fields `connector-host configuration` asks for, and the setup tests' labels.
public struct ConfigurationFormRequest: ProtocolRequest, Equatable {
    public typealias Result = ConfigurationFormResult
    public static let method = "configurationForm"

    public init() {}

    public init(params: JSONValue) throws(InvalidParams) {}

    public var params: JSONValue { [:] }
}

/// The answer to `configurationForm`: the form's fields, in order, and the labels of its setup tests
/// (PROTOCOL.md section 5.10).
public struct ConfigurationFormResult: ProtocolResult, Equatable {
    /// One field of the form.
    public struct Field: Sendable, Equatable {
        /// How the field is asked for.
        public enum Kind: String, Sendable, CaseIterable {
            /// Plain text, echoed.
            case text
            /// Text that is never echoed nor shown.
            case password
            /// One of ``Field/options``.
            case dropdown
            /// `"true"` or `"false"`.
            case toggle
        }

        /// A dropdown's choice.
        public struct Option: Sendable, Equatable {
            public var value: String
            public var label: String
            public var description: String?

            public init(value: String, label: String? = nil, description: String? = nil) {
                self.value = value
                self.label = label ?? value
                self.description = description
            }
        }

        /// The configuration key the value is written under.
        public var name: String
        public var label: String
        public var kind: Kind
        public var description: String?
        public var required: Bool
        public var placeholder: String?
        /// The value offered when nothing is typed (a toggle's is `"true"` or `"false"`).
        public var defaultValue: String?
        public var options: [Option]

        public init(
            name: String, label: String? = nil, kind: Kind = .text, description: String? = nil, required: Bool = false,
            placeholder: String? = nil, defaultValue: String? = nil, options: [Option] = []
        ) {
            self.name = name
            self.label = label ?? name
            self.kind = kind
            self.description = description
            self.required = required
            self.placeholder = placeholder
            self.defaultValue = defaultValue
            self.options = options
        }

        var json: JSONValue {
            var object: JSONObject = ["name": .string(name), "label": .string(label), "type": .string(kind.rawValue)]
            if let description { object["description"] = .string(description) }
            if required { object["required"] = true }
            if let placeholder { object["placeholder"] = .string(placeholder) }
            if let defaultValue { object["default"] = .string(defaultValue) }
            if !options.isEmpty {
                object["options"] = .array(
                    options.map { option in
                        var entry: JSONObject = ["value": .string(option.value), "label": .string(option.label)]
                        if let description = option.description { entry["description"] = .string(description) }
                        return .object(entry)
                    })
            }
            return .object(object)
        }
    }

    public var fields: [Field]
    /// The labels of the setup tests, in order.
    public var tests: [String]

    public init(fields: [Field], tests: [String] = []) {
        self.fields = fields
        self.tests = tests
    }

    /// Reads a result, checking every field.
    /// - Throws: ``InvalidParams`` naming the field and member that break the shape.
    public init(json: JSONValue) throws(InvalidParams) {
        guard let entries = json["fields"]?.arrayValue else { throw InvalidParams("the configurationForm result has no \"fields\" array") }
        fields = []
        var names: Set<String> = []
        for (index, entry) in entries.enumerated() {
            let at = "fields[\(index)]"
            guard entry.objectValue != nil else { throw InvalidParams("the configurationForm result has \(at) that is not an object") }
            guard let name = entry["name"]?.stringValue, !name.isEmpty else {
                throw InvalidParams("the configurationForm result has \(at) without a non-empty string \"name\"")
            }
            let field = "\(at) (\(name))"
            guard names.insert(name).inserted else {
                throw InvalidParams("the configurationForm result has two fields named \(name); names must be unique")
            }
            let kindName = entry["type"]?.stringValue ?? Field.Kind.text.rawValue
            guard let kind = Field.Kind(rawValue: kindName) else {
                throw InvalidParams(
                    "the configurationForm result has \(field) of type \"\(kindName)\"; use text, password, dropdown or toggle")
            }
            func text(_ member: String) throws(InvalidParams) -> String? {
                switch entry[member] {
                case nil, .null?: return nil
                case .string(let value)?: return value
                default: throw InvalidParams("the configurationForm result has \(field) whose \"\(member)\" is not a string")
                }
            }
            var options: [Field.Option] = []
            if let list = entry["options"] {
                guard let list = list.arrayValue else {
                    throw InvalidParams("the configurationForm result has \(field) whose \"options\" is not an array")
                }
                for (position, option) in list.enumerated() {
                    guard let value = option["value"]?.stringValue else {
                        throw InvalidParams("the configurationForm result has \(field) whose options[\(position)] has no string \"value\"")
                    }
                    guard !options.contains(where: { $0.value == value }) else {
                        throw InvalidParams(
                            "the configurationForm result has \(field) with the option \"\(value)\" twice; option values must be unique")
                    }
                    options.append(
                        Field.Option(value: value, label: option["label"]?.stringValue, description: option["description"]?.stringValue))
                }
            }
            if kind == .dropdown, options.isEmpty {
                throw InvalidParams("the configurationForm result has the dropdown \(field) without options")
            }
            let defaultValue: String?
            switch entry["default"] {
            case nil, .null?: defaultValue = nil
            case .string(let value)?: defaultValue = value
            case .bool(let flag)?: defaultValue = flag ? "true" : "false"
            default: throw InvalidParams("the configurationForm result has \(field) whose \"default\" is not a string")
            }
            let required: Bool
            switch entry["required"] {
            case nil, .null?: required = false
            case .bool(let flag)?: required = flag
            default: throw InvalidParams("the configurationForm result has \(field) whose \"required\" is not a boolean")
            }
            fields.append(
                Field(
                    name: name, label: try text("label"), kind: kind, description: try text("description"), required: required,
                    placeholder: try text("placeholder"), defaultValue: defaultValue, options: options))
        }
        switch json["tests"] {
        case nil, .null?: tests = []
        case .array(let labels)?:
            tests = []
            for (index, label) in labels.enumerated() {
                guard let label = label.stringValue else {
                    throw InvalidParams("the configurationForm result has tests[\(index)] that is not a string")
                }
                tests.append(label)
            }
        default: throw InvalidParams("the configurationForm result has \"tests\" that is not an array of labels")
        }
    }

    public var json: JSONValue {
        var object: JSONObject = ["fields": .array(fields.map(\.json))]
        if !tests.isEmpty { object["tests"] = .array(tests.map(JSONValue.string)) }
        return .object(object)
    }
}
