import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// A value that does not fit its declared column type, and the exact reason the host gives.
struct InvalidValueCase: Sendable, CustomTestStringConvertible {
    let type: JSONValue
    let value: JSONValue
    let reason: String
    var testDescription: String { "\(type.stringValue ?? JSONWriter.string(type)) ← \(JSONWriter.string(value))" }

    static let decimal52: JSONValue = ["type": "DECIMAL", "precision": 5, "scale": 2]
    static let integerHint = #"send an integer like 42 or "42""#
    static let doubleHint = "send a JSON number like 1.5 (or a string holding one)"

    static let all: [InvalidValueCase] = [
        InvalidValueCase(type: "BOOLEAN", value: "true", reason: #""true" is not a valid BOOLEAN: send true or false"#),
        InvalidValueCase(type: "BOOLEAN", value: 1, reason: "1 is not a valid BOOLEAN: send true or false"),
        InvalidValueCase(type: "SHORT", value: 32768, reason: "32768 is out of range for SHORT (-32768 to 32767)"),
        InvalidValueCase(type: "INT", value: .number(JSONNumber(literal: "42.0")), reason: "42.0 is not a valid INT: \(integerHint)"),
        InvalidValueCase(type: "INT", value: " 42", reason: #"" 42" is not a valid INT: "# + integerHint),
        InvalidValueCase(type: "INT", value: "+42", reason: #""+42" is not a valid INT: "# + integerHint),
        InvalidValueCase(type: "INT", value: ["a": 1], reason: #"{"a":1} is not a valid INT: "# + integerHint),
        InvalidValueCase(
            type: "LONG", value: "9223372036854775808",
            reason: #""9223372036854775808" is out of range for LONG (-9223372036854775808 to 9223372036854775807)"#),
        InvalidValueCase(type: "LONG", value: .number(JSONNumber(literal: "1e19")), reason: "1e19 is not a valid LONG: \(integerHint)"),
        InvalidValueCase(
            type: decimal52, value: "999.995",
            reason: #""999.995" does not fit DECIMAL(5,2): at most 3 digits before the point (after rounding to 2 decimals)"#),
        InvalidValueCase(
            type: decimal52, value: "12,50",
            reason: #""12,50" is not a valid DECIMAL(5,2): send a decimal string like "12.34" (or a JSON number)"#),
        InvalidValueCase(
            type: decimal52, value: "1.5e2",
            reason: #""1.5e2" is not a valid DECIMAL(5,2): send a decimal string like "12.34" (or a JSON number)"#),
        InvalidValueCase(
            type: "DOUBLE", value: .number(JSONNumber(literal: "1e400")),
            reason: "1e400 is out of range for DOUBLE (at most ±1.7976931348623157e308; send null for infinity)"),
        InvalidValueCase(type: "DOUBLE", value: "NaN", reason: #""NaN" is not a valid DOUBLE: "# + doubleHint),
        InvalidValueCase(type: "FLOAT", value: true, reason: "true is not a valid FLOAT: \(doubleHint)"),
        InvalidValueCase(
            type: "NAIVE_DATE", value: "2023-02-29",
            reason: #""2023-02-29" is not a valid NAIVE_DATE: send a date string like "2024-05-01""#),
        InvalidValueCase(
            type: "NAIVE_DATETIME", value: "2024-05-01T13:45:00Z",
            reason: #""2024-05-01T13:45:00Z" is not a valid NAIVE_DATETIME: send a string like "2024-05-01T12:00:00" (no offset)"#),
        InvalidValueCase(
            type: "UTC_DATETIME", value: "2024-05-01T13:45:00",
            reason:
                #""2024-05-01T13:45:00" is not a valid UTC_DATETIME: send an RFC 3339 string with Z or an offset, like "2024-05-01T12:00:00Z""#
        ),
        InvalidValueCase(
            type: "UTC_DATETIME", value: 1_714_571_100,
            reason: #"1714571100 is not a valid UTC_DATETIME: send an RFC 3339 string with Z or an offset, like "2024-05-01T12:00:00Z""#),
        InvalidValueCase(
            type: "UTC_DATETIME", value: "0000-01-01T00:30:00+01:00",
            reason:
                #""0000-01-01T00:30:00+01:00" is not a valid UTC_DATETIME: send an RFC 3339 string with Z or an offset, like "2024-05-01T12:00:00Z""#
        ),
        InvalidValueCase(
            type: "BINARY", value: "aGVsbG8",
            reason: #""aGVsbG8" is not a valid BINARY: send standard base64 with = padding, like "aGVsbG8=""#),
        InvalidValueCase(
            type: "BINARY", value: "_-8=", reason: #""_-8=" is not a valid BINARY: send standard base64 with = padding, like "aGVsbG8=""#),
        InvalidValueCase(type: "XML", value: 42, reason: "42 is not a valid XML: send the XML document as a string"),
        InvalidValueCase(
            type: "INT", value: .string(String(repeating: "9", count: 100) + "x"),
            reason: "\"\(String(repeating: "9", count: 79))… (103 bytes) is not a valid INT: \(integerHint)"),
    ]
}

@Suite("Operation validation names the op, its place and the fix")
struct OperationValidationTests {
    let users = table("users", primaryKey: ["id"], columns: ["id": "LONG", "name": "STRING", "age": "INT"])
    let events = table("events", columns: ["kind": "STRING"])
    let footer = "\n  Nothing after the last checkpoint was kept; fix the connector and run again."

    /// Runs the raw connector with one `records` message holding `ops`, and returns the failure.
    func failure(_ ops: [JSONValue], before: [JSONValue] = [], configuration: JSONObject = [:], _ backend: Backend) throws
        -> SyncFailure
    {
        let fixture = try ConnectorFixture(
            rawSchema: ["tables": [users, events]], steps: before + [.array(ops)], configuration: configuration, backend: backend)
        let (report, _) = fixture.sync()
        let failure = try #require(report.failure)
        #expect(failure.kind == .invalidOperation)
        return failure
    }

    @Test(
        "a value that does not fit its declared type names table, column, op index and the value", arguments: InvalidValueCase.all,
        Backend.all)
    func invalidValue(_ testCase: InvalidValueCase, _ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            schema: [table("t", primaryKey: ["id"], columns: ["id": "LONG", "v": testCase.type])],
            steps: [["upsert": ["table": "t", "data": ["id": 1, "v": testCase.value]]]], backend: backend)
        let failure = try #require(fixture.sync().0.failure)
        #expect(failure.kind == .invalidOperation)
        #expect(
            failure.message.hasPrefix(#"invalid operation: operation #1 (stdout line 3), table "t", column "v": "# + testCase.reason + "\n")
        )
        #expect(failure.details == ["operationIndex": "1", "line": "3", "table": "t", "column": "v"])
    }

    @Test("an unknown op", arguments: Backend.all)
    func unknownOp(_ backend: Backend) throws {
        let op: JSONValue = ["op": "insert", "table": "users", "data": ["id": 1]]
        #expect(
            try failure([op], backend).message
                == #"invalid operation: operation #1 (stdout line 3): unknown op "insert"; use upsert, update, delete or truncate"#
                + "\n  the operation: " + JSONWriter.string(op) + footer)
    }

    @Test("an op without op, an op that is not an object", arguments: Backend.all)
    func malformedOps(_ backend: Backend) throws {
        #expect(
            try failure([["table": "users", "data": ["id": 1]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3): the operation has no "op" string; use upsert, update, delete or truncate"#
            ))
        #expect(
            try failure([42], backend).message
                == "invalid operation: operation #1 (stdout line 3): an operation must be a JSON object\n  the operation: 42" + footer)
    }

    @Test("the op index counts every op of the sync from 1; the line is the stdout line of its records message", arguments: Backend.all)
    func indexAcrossMessages(_ backend: Backend) throws {
        let good: [JSONValue] = [
            ["op": "upsert", "table": "users", "data": ["id": 1]], ["op": "upsert", "table": "users", "data": ["id": 2]],
        ]
        let fixture = try ConnectorFixture(
            rawSchema: ["tables": [users]],
            steps: [.array(good), ["checkpoint": [:]], [good[0], ["op": "upsert", "table": "users", "data": ["id": 3, "age": "x"]]]],
            backend: backend)
        let failure = try #require(fixture.sync().0.failure)
        #expect(
            failure.message.hasPrefix(
                #"invalid operation: operation #4 (stdout line 5), table "users", column "age": "x" is not a valid INT"#))
        #expect(failure.details["operationIndex"] == "4")
        #expect(try fixture.rows(#"SELECT "id" FROM "users" ORDER BY "id""#) == [["1"], ["2"]])
    }

    @Test("a missing table, a missing data object, data that is not an object, an empty data object", arguments: Backend.all)
    func missingMembers(_ backend: Backend) throws {
        #expect(
            try failure([["op": "upsert", "data": ["id": 1]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3): the upsert has no "table" string"#))
        #expect(
            try failure([["op": "update", "table": "users"]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users": the update has no "data" object"#))
        #expect(
            try failure([["op": "upsert", "table": "users", "data": [1, 2]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users": "data" must be a JSON object, not [1,2]"#))
        #expect(
            try failure([["op": "delete", "table": "users", "data": ["id": 1]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users": a delete carries "keys", not "data""#))
        #expect(
            try failure([["op": "upsert", "table": "users", "data": [:]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users": "data" is empty; it must carry the primary key "id""#))
    }

    @Test("upsert, update and delete without the full primary key, and a null primary-key value", arguments: Backend.all)
    func primaryKeyRules(_ backend: Backend) throws {
        #expect(
            try failure([["op": "upsert", "table": "users", "data": ["name": "Ada"]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users", column "id": the primary-key column "id" is missing; every upsert must carry the full primary key (id)"#
            ))
        #expect(
            try failure([["op": "update", "table": "users", "data": ["name": "Ada"]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users", column "id": the primary-key column "id" is missing; update and delete must name the row by its full primary key (id)"#
            ))
        #expect(
            try failure([["op": "delete", "table": "users", "keys": ["name": "Ada"]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users", column "id": the primary-key column "id" is missing; update and delete must name the row by its full primary key (id)"#
            ))
        #expect(
            try failure([["op": "upsert", "table": "users", "data": ["id": nil, "name": "Ada"]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users", column "id": the primary-key column "id" is null"#))
        #expect(
            try failure([["op": "delete", "table": "users", "keys": ["id": nil]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users", column "id": the primary-key column "id" is null"#))
    }

    @Test("update on a table without primary key is refused; delete there needs the full row", arguments: Backend.all)
    func tableWithoutKey(_ backend: Backend) throws {
        #expect(
            try failure([["op": "update", "table": "events", "data": ["kind": "a"]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "events": table "events" has no primary key, so rows cannot be updated by key; use upsert (or declare a primary key)"#
            ))
    }

    @Test("a column or table name that differs from an existing one only in letter case is refused", arguments: Backend.all)
    func caseCollisions(_ backend: Backend) throws {
        #expect(
            try failure([["op": "upsert", "table": "users", "data": ["id": 1, "NAME": "Ada"]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users", column "NAME": column "NAME" differs from the existing column "name" only in letter case; SQLite names are case-insensitive, so use "name" everywhere"#
            ))
        #expect(
            try failure([["op": "upsert", "table": "Users", "data": ["id": 1]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "Users": table "Users" differs from the existing table "users" only in letter case; SQLite names are case-insensitive, so use "users" everywhere"#
            ))
    }

    @Test("reserved and empty names in operations are refused", arguments: Backend.all)
    func badNames(_ backend: Backend) throws {
        #expect(
            try failure([["op": "upsert", "table": "users", "data": ["id": 1, "_Connector_deleted": 1]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "users", column "_Connector_deleted": column name "_Connector_deleted" uses the reserved prefix _connector_ (in any letter case)"#
            ))
        #expect(
            try failure([["op": "upsert", "table": "", "data": ["id": 1]]], backend).message.hasPrefix(
                #"invalid operation: operation #1 (stdout line 3), table "": empty table name"#))
    }

    @Test("the operation shown in the message masks secrets and cuts long values", arguments: Backend.all)
    func excerptMasksSecrets(_ backend: Backend) throws {
        let op: JSONValue = [
            "op": "upsert", "table": "users",
            "data": ["id": 1, "age": "s3cr3t-config-value", "password": "hunter2", "bio": .string(String(repeating: "b", count: 200))],
        ]
        let message = try failure([op], configuration: ["apiToken": "s3cr3t-config-value"], backend).message
        #expect(
            message
                == #"invalid operation: operation #1 (stdout line 3), table "users", column "age": "********" is not a valid INT: send an integer like 42 or "42""#
                + "\n  the operation: "
                + #"{"op":"upsert","table":"users","data":{"id":1,"age":"********","password":"********","bio":""#
                + String(repeating: "b", count: 120) + #"…"}}"# + footer)
        #expect(!message.contains("hunter2") && !message.contains("s3cr3t"))
    }

    @Test("a table missing from the schema is created on first sight, without primary key, and reported", arguments: Backend.all)
    func undeclaredTable(_ backend: Backend) throws {
        let fixture = try ConnectorFixture(
            rawSchema: ["tables": [users]],
            steps: [[["op": "upsert", "table": "audit", "data": ["at": "2024-05-01", "n": 1]]], ["checkpoint": [:]]], backend: backend)
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(report.schemaChanges.contains("audit: table created (not in the schema: no primary key, columns inferred)"))
        #expect(
            console.all.contains(
                #"warning: table "audit" was not in the schema; it was created without a primary key, with inferred column types"#))
        #expect(try fixture.rows(#"SELECT "at", "n", length("_connector_id") FROM "audit""#) == [["2024-05-01", "1", "32"]])
    }
}
