import ConnectorProtocol
import ConnectorSDK

/// A table keyed by two columns, with updates and deletes that name the whole key.
///
/// A row of `enrollment` is one student in one course: `(student_id, course)`. Updates and deletes
/// must carry every key column; student 1's grade in MATH101 changes without touching student 1's
/// other course.
@main
struct CompositePrimaryKey: Connector {
    var name: String { "composite-primary-key" }
    var version: String { "1.0.0" }

    /// The emulated source: the registrar's changes, one batch per sync.
    enum Change {
        case enrolled(student: Int, course: String, term: String)
        case graded(student: Int, course: String, grade: String)
        case dropped(student: Int, course: String)
    }

    static let batches: [[Change]] = [
        [
            .enrolled(student: 1, course: "MATH101", term: "2024-fall"),
            .enrolled(student: 1, course: "PHYS201", term: "2024-fall"),
            .enrolled(student: 2, course: "MATH101", term: "2024-fall"),
        ],
        [
            .graded(student: 1, course: "MATH101", grade: "A"),
            .dropped(student: 2, course: "MATH101"),
            .enrolled(student: 2, course: "CHEM110", term: "2024-fall"),
        ],
    ]

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        [
            TableDefinition(
                name: "enrollment", primaryKey: ["student_id", "course"],
                columns: [
                    ("student_id", ColumnType(.long)), ("course", ColumnType(.string)), ("term", ColumnType(.string)),
                    ("grade", ColumnType(.string)),
                ])
        ]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let batch = Int(state["next_batch"]?.int64Value ?? 0)
        guard batch < Self.batches.count else {
            Log.info("the registrar has no new changes")
            return
        }
        for change in Self.batches[batch] {
            switch change {
            case .enrolled(let student, let course, let term):
                try operations.upsert("enrollment", ["student_id": .integer(student), "course": .string(course), "term": .string(term)])
            case .graded(let student, let course, let grade):
                try operations.update("enrollment", ["student_id": .integer(student), "course": .string(course), "grade": .string(grade)])
            case .dropped(let student, let course):
                try operations.delete("enrollment", keys: ["student_id": .integer(student), "course": .string(course)])
            }
        }
        try operations.checkpoint(["next_batch": .integer(batch + 1)])
    }
}
