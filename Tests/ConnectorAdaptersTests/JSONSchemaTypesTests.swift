import ConnectorProtocol
import Testing

@testable import ConnectorAdapters

@Suite("JSON Schema to column types")
struct JSONSchemaTypesTests {
    static let cases: [(schema: JSONValue, type: String?)] = [
        (["type": "integer"], "LONG"),
        (["type": ["null", "integer"]], "LONG"),
        (["type": "number", "airbyte_type": "integer"], "LONG"),
        (["type": "number"], "DOUBLE"),
        (["type": ["integer", "null", "number"]], "DOUBLE"),
        (["type": "boolean"], "BOOLEAN"),
        (["type": "string"], "STRING"),
        (["type": ["null", "string"], "format": "date-time"], "UTC_DATETIME"),
        (["type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"], "UTC_DATETIME"),
        (["type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"], "NAIVE_DATETIME"),
        (["type": "string", "format": "date"], "NAIVE_DATE"),
        (["type": "string", "format": "time"], "STRING"),
        (["type": "object", "properties": ["a": ["type": "integer"]]], "JSON"),
        (["type": ["array", "null"], "items": [:]], "JSON"),
        (["type": ["integer", "string"]], "STRING"),
        (["type": ["boolean", "object"]], "JSON"),
        (["anyOf": [["type": "integer"], ["type": "number"], ["type": "null"]]], "DOUBLE"),
        (["oneOf": [["type": "string", "format": "date"], ["type": "null"]]], "NAIVE_DATE"),
        (["anyOf": [["type": "string", "format": "date-time"], ["type": "string"]]], "STRING"),
        (["anyOf": [["type": "string"], [:]]], nil),
        ([:], nil),
        (["$ref": "#/definitions/thing"], nil),
        (["type": "null"], nil),
        (["type": "bigint"], nil),
    ]

    @Test("each property schema maps to its column type (or is left to inference)", arguments: cases.indices)
    func mapping(_ index: Int) {
        let (schema, expected) = Self.cases[index]
        #expect(JSONSchemaTypes.columnType(of: schema)?.description == expected, "\(JSONWriter.string(schema))")
    }

    @Test("a stream's table: properties in order, untyped ones left out, JSON and DOUBLE keys declared STRING")
    func streamTable() {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "id": ["type": "number"], "at": ["type": "string", "format": "date-time"], "blob": [:],
                "doc": ["type": "object"], "n": ["type": "integer"],
            ],
        ]
        let table = StreamTable(name: "s", schema: schema, primaryKey: ["id", "doc", "missing"])
        #expect(table.definition.primaryKey == ["id", "doc", "missing"])
        #expect(table.definition.columns.map(\.name) == ["id", "at", "doc", "n"])
        #expect(table.definition.columns.map(\.type.description) == ["STRING", "UTC_DATETIME", "STRING", "LONG"])
        #expect(table.timestampColumns == [Array("at".utf8)])
    }
}
