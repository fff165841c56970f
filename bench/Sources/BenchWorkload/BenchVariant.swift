/// The row shapes the benchmark sends: workload W itself, a 100-column row and a row with a 1 KiB
/// string. Every shape is derived from W's rows, so the Swift and Python connectors, the floor and
/// the checks all agree on the values.
public enum BenchVariant: String, CaseIterable, Sendable {
    /// Workload W's ten columns.
    case w
    /// `id` plus 99 columns: W's nine value columns repeated eleven times (`name_0` ... `note_10`).
    case wide100
    /// W's ten columns with `note` widened to 1,024 characters (the note and a space, repeated).
    case kibStrings = "kib-strings"

    /// A column's type name in the protocol.
    public enum ColumnType: String, Sendable {
        case long = "LONG"
        case string = "STRING"
        case double = "DOUBLE"
        case boolean = "BOOLEAN"
        case utcDateTime = "UTC_DATETIME"
    }

    /// The table every variant writes.
    public static let table = "items"

    /// W's columns and their types, in order.
    public static let wColumns: [(name: String, type: ColumnType)] = [
        ("id", .long), ("name", .string), ("email", .string), ("amount", .double), ("count", .long),
        ("active", .boolean), ("created_at", .utcDateTime), ("category", .string), ("score", .double), ("note", .string),
    ]

    /// The columns of this variant, in the order rows carry them.
    public var columns: [(name: String, type: ColumnType)] {
        switch self {
        case .w, .kibStrings: return Self.wColumns
        case .wide100:
            return [Self.wColumns[0]]
                + (0..<99).map { k in
                    let base = Self.wColumns[1 + k % 9]
                    return ("\(base.name)_\(k / 9)", base.type)
                }
        }
    }

    /// The length of the widened note of ``kibStrings``.
    public static let kibNoteLength = 1024

    /// Hands each value of `row` to `visitor`, with its column's position in ``columns``.
    @inlinable
    public func visit<Visitor: RowVisitor>(_ row: WorkloadW.Row, _ visitor: inout Visitor) {
        switch self {
        case .w:
            Self.visitW(row, &visitor, note: row.note)
        case .kibStrings:
            Self.visitW(row, &visitor, note: Self.kibNote(row.note))
        case .wide100:
            visitor.visit(0, row.id)
            for repetition in 0..<11 {
                let base = 1 + 9 * repetition
                visitor.visit(base, row.name)
                visitor.visit(base + 1, row.email)
                visitor.visit(base + 2, row.amount)
                visitor.visit(base + 3, row.count)
                visitor.visit(base + 4, row.active)
                visitor.visit(base + 5, row.createdAt)
                visitor.visit(base + 6, row.category)
                visitor.visit(base + 7, row.score)
                visitor.visit(base + 8, row.note)
            }
        }
    }

    @inlinable
    static func visitW<Visitor: RowVisitor>(_ row: WorkloadW.Row, _ visitor: inout Visitor, note: String) {
        visitor.visit(0, row.id)
        visitor.visit(1, row.name)
        visitor.visit(2, row.email)
        visitor.visit(3, row.amount)
        visitor.visit(4, row.count)
        visitor.visit(5, row.active)
        visitor.visit(6, row.createdAt)
        visitor.visit(7, row.category)
        visitor.visit(8, row.score)
        visitor.visit(9, note)
    }

    /// The note and a space, repeated to ``kibNoteLength`` characters.
    public static func kibNote(_ note: String) -> String {
        var text = String(repeating: note + " ", count: kibNoteLength / (note.utf8.count + 1) + 1)
        text.removeLast(text.utf8.count - kibNoteLength)
        return text
    }
}

/// Receives a row's values one by one (`column` indexes ``BenchVariant/columns``).
public protocol RowVisitor {
    mutating func visit(_ column: Int, _ value: Int64)
    mutating func visit(_ column: Int, _ value: Double)
    mutating func visit(_ column: Int, _ value: Bool)
    mutating func visit(_ column: Int, _ value: String)
}

/// The values of an update pass: row i's `amount`, `count` and `score` from W with seed 43.
public enum UpdatePass {
    /// The columns an update carries, key first.
    public static let columns = ["id", "amount", "count", "score"]
    /// The seed of the replacement values.
    public static let seed: UInt64 = 43
}
