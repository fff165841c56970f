/// An invalid operation: where it is and what is wrong with it.
public struct InvalidOperation: Error, Sendable {
    /// The 1-based index of the operation within the sync.
    public let operationIndex: Int
    /// The 1-based line number on the connector's stdout.
    public let line: Int
    public let table: String?
    public let column: String?
    public let reason: String
    /// The operation's JSON, cut and with secret-looking values masked.
    public let excerpt: String

    /// Where the operation is, for a message: `operation #4 (stdout line 5), table "items", column "id"`
    /// (names quoted as JSON: a name the operation is refused for may hold control characters).
    var location: String {
        var location = "operation #\(operationIndex) (stdout line \(line))"
        if let table { location += ", table \(HumanText.quoted(table))" }
        if let column { location += ", column \(HumanText.quoted(column))" }
        return location
    }
}
