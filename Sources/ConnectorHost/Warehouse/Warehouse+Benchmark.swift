/// The warehouse's own upsert statement for a table, for the benchmark's floor: the same SQL, the same
/// connection settings and the same statement wrapper as a sync, without the protocol in front.
package struct BenchmarkUpsert {
    /// The cached statement a sync would use for upserts into the table.
    package let statement: SQLiteStatement
    /// The table's columns in parameter order: column i binds to parameter i + 1.
    package let columns: [String]
    /// The parameter of `_connector_synced`.
    package let syncedParameter: Int
}

extension Warehouse {
    /// The upsert statement of table `name` (declared by ``apply(schema:)`` first).
    package func benchmarkUpsert(table name: String) throws -> BenchmarkUpsert {
        guard let table = tables[name] else { throw SQLiteError(code: 1, message: "no table \(name)", sql: nil) }
        return BenchmarkUpsert(
            statement: try statement(.upsert, of: table), columns: table.columns.map(\.name), syncedParameter: table.columns.count + 1)
    }
}
