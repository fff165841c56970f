extension JSONValue {
    /// A JSON number from an integer that is not a literal: `["id": .integer(id)]`.
    public static func integer(_ value: some BinaryInteger) -> JSONValue { .number(JSONNumber(literal: String(value))) }

    /// A JSON number from a double (shortest round-tripping form; non-finite values become `0`, as JSON has no NaN).
    public static func double(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
}
