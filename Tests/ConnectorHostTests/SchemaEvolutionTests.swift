import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// One declared type changed between two runs: the values of the first run and how they read after.
struct WideningStep: Sendable, CustomTestStringConvertible {
    let from: JSONValue
    let to: JSONValue
    let sent: [JSONValue]
    let readBack: [SQLiteValue]
    let change: String
    var testDescription: String { "\(SchemaEvolutionTests.name(from)) -> \(SchemaEvolutionTests.name(to))" }

    static let all: [WideningStep] = [
        WideningStep(
            from: "BOOLEAN", to: "SHORT", sent: [true, false], readBack: [.integer(1), .integer(0)],
            change: "t.v: widened from BOOLEAN to SHORT (declared)"),
        WideningStep(
            from: "SHORT", to: "INT", sent: [-32768, 32767], readBack: [.integer(-32768), .integer(32767)],
            change: "t.v: widened from SHORT to INT (declared)"),
        WideningStep(
            from: "INT", to: "LONG", sent: [2_147_483_647], readBack: [.integer(2_147_483_647)],
            change: "t.v: widened from INT to LONG (declared)"),
        WideningStep(
            from: "LONG", to: "FLOAT", sent: [42, -1], readBack: [.real(42), .real(-1)],
            change: "t.v: widened from LONG to FLOAT (declared)"),
        WideningStep(
            from: "FLOAT", to: "DOUBLE", sent: [0.1], readBack: [.real(0.1)], change: "t.v: widened from FLOAT to DOUBLE (declared)"),
        WideningStep(
            from: "NAIVE_DATE", to: "NAIVE_DATETIME", sent: ["2024-05-01"], readBack: [.text("2024-05-01T00:00:00")],
            change: "t.v: widened from NAIVE_DATE to NAIVE_DATETIME (declared)"),
        WideningStep(
            from: "NAIVE_DATETIME", to: "UTC_DATETIME", sent: ["2024-05-01T13:45:00.5"], readBack: [.text("2024-05-01T13:45:00.5Z")],
            change: "t.v: widened from NAIVE_DATETIME to UTC_DATETIME (declared)"),
        WideningStep(
            from: "NAIVE_DATE", to: "UTC_DATETIME", sent: ["2024-05-01"], readBack: [.text("2024-05-01T00:00:00Z")],
            change: "t.v: widened from NAIVE_DATE to UTC_DATETIME (declared)"),
        WideningStep(
            from: ["type": "DECIMAL", "precision": 10, "scale": 2], to: ["type": "DECIMAL", "precision": 12, "scale": 4],
            sent: ["1.5", "-12345678.99"], readBack: [.text("1.5000"), .text("-12345678.9900")],
            change: "t.v: widened from DECIMAL(10,2) to DECIMAL(12,4) (declared)"),
        WideningStep(
            from: ["type": "DECIMAL", "precision": 5, "scale": 0], to: ["type": "DECIMAL", "precision": 7, "scale": 2],
            sent: ["12345"], readBack: [.text("12345.00")], change: "t.v: widened from DECIMAL(5,0) to DECIMAL(7,2) (declared)"),
        // Any other mix becomes STRING; the existing values become the text a connector would have sent.
        WideningStep(
            from: "BOOLEAN", to: "STRING", sent: [true, false], readBack: [.text("true"), .text("false")],
            change: "t.v: widened from BOOLEAN to STRING (declared)"),
        WideningStep(
            from: "LONG", to: "STRING", sent: ["9223372036854775807"], readBack: [.text("9223372036854775807")],
            change: "t.v: widened from LONG to STRING (declared)"),
        WideningStep(
            from: "DOUBLE", to: "STRING", sent: [0.1, .number(JSONNumber(literal: "1e308")), 0.5],
            readBack: [.text("0.1"), .text("1e+308"), .text("0.5")], change: "t.v: widened from DOUBLE to STRING (declared)"),
        WideningStep(
            from: "BINARY", to: "STRING", sent: ["aGVsbG8="], readBack: [.text("aGVsbG8=")],
            change: "t.v: widened from BINARY to STRING (declared)"),
        WideningStep(
            from: "UTC_DATETIME", to: "STRING", sent: ["2024-05-01T12:00:00+02:00"], readBack: [.text("2024-05-01T10:00:00Z")],
            change: "t.v: widened from UTC_DATETIME to STRING (declared)"),
        WideningStep(
            from: ["type": "DECIMAL", "precision": 10, "scale": 2], to: "STRING", sent: ["3.5"], readBack: [.text("3.50")],
            change: "t.v: widened from DECIMAL(10,2) to STRING (declared)"),
        WideningStep(
            from: "XML", to: "STRING", sent: ["<a/>"], readBack: [.text("<a/>")], change: "t.v: widened from XML to STRING (declared)"),
    ]
}

@Suite("Schema evolution: inference and widening")
struct SchemaEvolutionTests {
    static func name(_ type: JSONValue) -> String {
        if let name = type.stringValue { return name }
        return "DECIMAL(\(type["precision"]?.int64Value ?? 0),\(type["scale"]?.int64Value ?? 0))"
    }

    private func rows(_ values: [JSONValue], from first: Int = 0) -> [JSONValue] {
        values.enumerated().map { index, value in
            ["upsert": ["table": "t", "data": ["id": .number(JSONNumber(first + index)), "v": value]]]
        }
    }

    @Test("a declared type widened between runs keeps every stored value readable, converted", arguments: WideningStep.all, Backend.all)
    func declaredWidening(_ step: WideningStep, _ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": step.from])],
            steps: rows(step.sent) + [["checkpoint": [:]]], backend: backend)
        #expect(fixture.sync().0.failure == nil)
        try fixture.script(schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": step.to])], steps: [])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(report.schemaChanges == [step.change])
        #expect(report.counts.schemaChanges == 1)
        #expect(try fixture.column(#"SELECT "v" FROM "t" ORDER BY "id""#) == step.readBack)
        let declared = try fixture.values(#"SELECT "type", "declared" FROM "_connector_columns" WHERE "column_name" = 'v'"#)
        #expect(declared == [[.text(Self.name(step.to).hasPrefix("DECIMAL") ? "DECIMAL" : Self.name(step.to)), .integer(1)]])
    }

    @Test(
        "undeclared columns are inferred: true/false BOOLEAN, integer LONG, other number DOUBLE, string STRING, object/array JSON",
        arguments: Backend.all)
    func inference(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG"])],
            steps: [
                [
                    "upsert": [
                        "table": "t",
                        "data": [
                            "id": 1, "flag": true, "count": 7, "ratio": 0.5, "big": 1e300, "name": "x", "doc": ["a": 1], "list": [1],
                            "none": nil,
                        ],
                    ]
                ],
                ["checkpoint": [:]],
            ], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        let columns = try fixture.values(
            #"SELECT "column_name", "type", "declared" FROM "_connector_columns" WHERE "table_name" = 't' ORDER BY "position""#)
        #expect(
            columns == [
                [.text("id"), .text("LONG"), .integer(1)], [.text("flag"), .text("BOOLEAN"), .integer(0)],
                [.text("count"), .text("LONG"), .integer(0)], [.text("ratio"), .text("DOUBLE"), .integer(0)],
                [.text("big"), .text("DOUBLE"), .integer(0)], [.text("name"), .text("STRING"), .integer(0)],
                [.text("doc"), .text("JSON"), .integer(0)], [.text("list"), .text("JSON"), .integer(0)],
            ])
        #expect(
            try fixture.values(#"SELECT "flag", "count", "ratio", "name", "doc", "list" FROM "t""#) == [
                [.integer(1), .integer(7), .real(0.5), .text("x"), .text(#"{"a":1}"#), .text("[1]")]
            ])
        #expect(
            report.schemaChanges == [
                "t: table created with 1 column, primary key (id)", "t.flag: column added as BOOLEAN (inferred)",
                "t.count: column added as LONG (inferred)", "t.ratio: column added as DOUBLE (inferred)",
                "t.big: column added as DOUBLE (inferred)", "t.name: column added as STRING (inferred)",
                "t.doc: column added as JSON (inferred)", "t.list: column added as JSON (inferred)",
            ])
    }

    @Test("null gives no type yet: the column appears with the first non-null value", arguments: Backend.all)
    func nullHasNoType(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG"])],
            steps: [
                ["upsert": ["table": "t", "data": ["id": 1, "later": nil]]],
                ["upsert": ["table": "t", "data": ["id": 2, "later": 2.5]]],
                ["checkpoint": [:]],
            ], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        #expect(try fixture.values(#"SELECT "id", "later" FROM "t" ORDER BY "id""#) == [[.integer(1), .null], [.integer(2), .real(2.5)]])
        #expect(report.schemaChanges.last == "t.later: column added as DOUBLE (inferred)")
    }

    @Test("an undeclared primary-key column takes its type from its first value", arguments: Backend.all)
    func undeclaredKey(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["code"])],
            steps: [["upsert": ["table": "t", "data": ["code": "A-1"]]], ["checkpoint": [:]]], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        #expect(
            report.schemaChanges == [
                "t: table created with 1 column, primary key (code)", "t.code: typed STRING from its first value (inferred)",
            ])
    }

    @Test("an inferred column widens within a run: BOOLEAN, then LONG, then DOUBLE, then STRING", arguments: Backend.all)
    func widenWithinRun(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG"])],
            steps: rows([true, 2, 2.5, "x"]) + [["checkpoint": [:]]], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            report.schemaChanges == [
                "t: table created with 1 column, primary key (id)", "t.v: column added as BOOLEAN (inferred)",
                "t.v: widened from BOOLEAN to LONG (inferred)", "t.v: widened from LONG to DOUBLE (inferred)",
                "t.v: widened from DOUBLE to STRING (inferred)",
            ])
        #expect(report.counts.schemaChanges == 5)
        #expect(try fixture.column(#"SELECT "v" FROM "t" ORDER BY "id""#) == [.text("1.0"), .text("2.0"), .text("2.5"), .text("x")])
    }

    @Test(
        "records naming the same keys resolve them table by table, and follow the columns each one gains and widens",
        arguments: Backend.all)
    func sameKeysInTwoTables(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [
                table("a", primaryKey: ["id"], columns: ["id": "LONG"]),
                table("b", primaryKey: ["id"], columns: ["id": "LONG", "v": "STRING"]),
            ],
            steps: [
                ["upsert": ["table": "a", "data": ["id": 1, "v": nil]]],
                ["upsert": ["table": "b", "data": ["id": 1, "v": "x"]]],
                ["upsert": ["table": "a", "data": ["id": 2, "v": 2]]],
                ["upsert": ["table": "b", "data": ["id": 2, "v": "y"]]],
                ["upsert": ["table": "a", "data": ["id": 3, "v": 2.5]]],
                ["upsert": ["table": "a", "data": ["id": 4, "v": nil]]],
                ["upsert": ["table": "b", "data": ["id": 3, "v": nil]]],
                ["upsert": ["table": "a", "data": ["id": 5, "v": 7]]],
                ["checkpoint": [:]],
            ], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(
            try fixture.values(#"SELECT "id", "v" FROM "a" ORDER BY "id""#) == [
                [.integer(1), .null], [.integer(2), .real(2)], [.integer(3), .real(2.5)], [.integer(4), .null], [.integer(5), .real(7)],
            ])
        #expect(
            try fixture.values(#"SELECT "id", "v" FROM "b" ORDER BY "id""#) == [
                [.integer(1), .text("x")], [.integer(2), .text("y")], [.integer(3), .null],
            ])
        #expect(
            report.schemaChanges.filter { $0.hasPrefix("a.") } == [
                "a.v: column added as LONG (inferred)", "a.v: widened from LONG to DOUBLE (inferred)",
            ])
    }

    @Test("an inferred column widens between runs, and the counts table reports it as a schema change", arguments: Backend.all)
    func widenBetweenRuns(_ backend: Backend) throws {
        let schema = [table("t", primaryKey: ["id"], columns: ["id": "LONG"])]
        let fixture = try ConnectorFixture(schema: schema, steps: rows([1, 2]) + [["checkpoint": [:]]], backend: backend)
        #expect(fixture.sync().0.failure == nil)
        try fixture.script(schema: schema, steps: rows([0.25], from: 2) + [["checkpoint": [:]]])
        let result = try runCLI(["run", fixture.path] + fixture.destinationArguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("schema changes  1\n  t.v: widened from LONG to DOUBLE (inferred)\ncheckpoints     1\n"))
        #expect(try fixture.column(#"SELECT "v" FROM "t" ORDER BY "id""#) == [.real(1), .real(2), .real(0.25)])
    }

    @Test("JSON stays JSON: a later number or string is stored as JSON text", arguments: Backend.all)
    func jsonStaysJSON(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG"])],
            steps: rows([["a": 1], 5, "s", true]) + [["checkpoint": [:]]], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        #expect(report.schemaChanges.last == "t.v: column added as JSON (inferred)")
        #expect(
            try fixture.column(#"SELECT "v" FROM "t" ORDER BY "id""#) == [.text(#"{"a":1}"#), .text("5"), .text(#""s""#), .text("true")])
    }

    @Test("a scalar column that meets an object becomes STRING and stores the object as JSON text", arguments: Backend.all)
    func scalarThenObject(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG"])], steps: rows([7, ["a": [1, 2]]]) + [["checkpoint": [:]]],
            backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        #expect(report.schemaChanges.last == "t.v: widened from LONG to STRING (inferred)")
        #expect(try fixture.column(#"SELECT "v" FROM "t" ORDER BY "id""#) == [.text("7"), .text(#"{"a":[1,2]}"#)])
    }

    @Test("a declared type that is not a widening of the stored one is refused with what to declare", arguments: Backend.all)
    func narrowingRefused(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": "LONG"])], steps: rows([1]) + [["checkpoint": [:]]],
            backend: backend)
        #expect(fixture.sync().0.failure == nil)
        try fixture.script(schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": "INT"])], steps: [])
        let failure = try #require(fixture.sync().0.failure)
        #expect(failure.kind == .invalidSchema)
        #expect(
            failure.message
                == #"the schema does not fit the warehouse: table "t": column "v" is LONG in the warehouse, and INT is not a widening of it (the order is BOOLEAN < SHORT < INT < LONG < FLOAT < DOUBLE, NAIVE_DATE < NAIVE_DATETIME < UTC_DATETIME, anything < STRING). Declare LONG, or run `connector-host reset` to start over"#
        )
    }

    @Test("a DECIMAL with fewer integer digits than stored is refused, naming the DECIMAL that holds both", arguments: Backend.all)
    func decimalNarrowingRefused(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": ["type": "DECIMAL", "precision": 10, "scale": 2]])],
            steps: [], backend: backend)
        #expect(fixture.sync().0.failure == nil)
        try fixture.script(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": ["type": "DECIMAL", "precision": 10, "scale": 4]])],
            steps: [])
        let failure = try #require(fixture.sync().0.failure)
        #expect(failure.message.contains(#"column "v" is DECIMAL(10,2) in the warehouse, and DECIMAL(10,4) is not a widening of it"#))
        #expect(failure.message.contains("Declare DECIMAL(12,4), or run `connector-host reset` to start over"))
    }

    @Test("a changed primary key between runs is an error that says what changed", arguments: Backend.all)
    func changedPrimaryKey(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": "STRING"])], steps: [], backend: backend)
        #expect(fixture.sync().0.failure == nil)
        try fixture.script(schema: [table("t", primaryKey: ["id", "v"], columns: ["id": "LONG", "v": "STRING"])], steps: [])
        let failure = try #require(fixture.sync().0.failure)
        #expect(failure.kind == .invalidSchema)
        #expect(
            failure.message
                == "the schema does not fit the warehouse: table \"t\": the primary key changed from (id) to (id, v); the warehouse keeps rows by the old key. Restore the old key, or run `connector-host reset` to start over"
        )
        try fixture.script(schema: [table("t", columns: ["id": "LONG", "v": "STRING"])], steps: [])
        #expect(
            fixture.sync().0.failure?.message
                == "the schema does not fit the warehouse: table \"t\": the primary key changed from (id) to none (row hash); the warehouse keeps rows by the old key. Restore the old key, or run `connector-host reset` to start over"
        )
    }

    @Test(
        "an inferred primary-key column widens like any inferred column, to another storage class too, keeping its rows",
        arguments: Backend.all)
    func inferredKeyWidens(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["v": "STRING"])],
            steps: [
                ["upsert": ["table": "t", "data": ["id": 1, "v": "one"]]], ["upsert": ["table": "t", "data": ["id": 2, "v": "two"]]],
                ["upsert": ["table": "t", "data": ["id": "b", "v": "bee"]]], ["update": ["table": "t", "data": ["id": "1", "v": "uno"]]],
            ], backend: backend)
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(report.schemaChanges.contains("t.id: typed LONG from its first value (inferred)"), "\(report.schemaChanges)")
        #expect(report.schemaChanges.contains("t.id: widened from LONG to STRING (inferred)"), "\(report.schemaChanges)")
        #expect(
            try fixture.values(#"SELECT "id", "v", "_connector_deleted" FROM "t" ORDER BY "id""#) == [
                [.text("1"), .text("uno"), .integer(0)], [.text("2"), .text("two"), .integer(0)], [.text("b"), .text("bee"), .integer(0)],
            ])
        #expect(try fixture.rows(#"SELECT "type" FROM "_connector_columns" WHERE "column_name" = 'id'"#) == [["STRING"]])
    }

    @Test("a declared primary-key column declared wider in a later run is rebuilt into its new storage class", arguments: Backend.all)
    func declaredKeyWidensAcrossRuns(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG"])], steps: [["upsert": ["table": "t", "data": ["id": 7]]]],
            backend: backend)
        #expect(fixture.sync().0.failure == nil)
        try fixture.script(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "STRING"])], steps: [["upsert": ["table": "t", "data": ["id": "x"]]]])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(report.schemaChanges == ["t.id: widened from LONG to STRING (declared)"])
        #expect(try fixture.values(#"SELECT "id" FROM "t" ORDER BY "id""#) == [[.text("7")], [.text("x")]])
    }
}
