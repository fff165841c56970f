import ConnectorHost
import ConnectorProtocol
import Foundation

/// Helpers for the data-type, widening and validation suites.
extension ConnectorFixture {
    /// A directory whose connector is `Tests/Connectors/RawProtocolConnector/raw_connector.py`: it
    /// answers `schema` with `schema` verbatim and sends `steps` as they are (see the script).
    /// `configuration` adds members to the configuration (e.g. a secret).
    convenience init(rawSchema schema: JSONValue, steps: [JSONValue], configuration: JSONObject = [:], backend: Backend = .sqlite) throws {
        let script = packageRoot.appendingPathComponent("Tests/Connectors/RawProtocolConnector/raw_connector.py").path
        var object = configuration
        object["schema"] = schema
        object["steps"] = .array(steps)
        try self.init(command: ["python3", script], configuration: .object(object), backend: backend)
    }

    /// A directory whose connector is the operations test connector, scripted by `schema` and `steps`.
    convenience init(schema: [JSONValue], steps: [JSONValue], backend: Backend = .sqlite) throws {
        try self.init(
            product: "operations-test-connector", configuration: ["schema": .array(schema), "steps": .array(steps)], backend: backend)
    }

    /// Replaces the scripted schema and steps for the next run against the same warehouse.
    func script(schema: [JSONValue], steps: [JSONValue]) throws {
        try write("configuration.json", JSONWriter.string(["schema": .array(schema), "steps": .array(steps)]))
    }

    /// Rows of a query against the warehouse, with SQLite's own value types (on PostgreSQL, the values
    /// SQLite would hold: ``PostgresValues``).
    func values(_ sql: String) throws -> [[SQLiteValue]] {
        if let schema { return try schema.values(sql) }
        return try SQLiteDatabase(readOnlyPath: warehousePath).query(sql)
    }

    /// One column of a query, with SQLite's own value types.
    func column(_ sql: String) throws -> [SQLiteValue] {
        try values(sql).map { $0[0] }
    }
}
