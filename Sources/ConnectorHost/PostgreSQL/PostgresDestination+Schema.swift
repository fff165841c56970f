import ConnectorProtocol

/// The PostgreSQL storage of the catalog (``DestinationCatalog``): DDL in the destination's schema and
/// the `_connector_tables` and `_connector_columns` rows, in the sync's transaction (PostgreSQL's
/// DDL is transactional: a rollback undoes it, as in SQLite). Each change first sends the current
/// run, whose rows were encoded for the columns as they were.
extension PostgresDestination {
    func apply(schema: [TableDefinition]) throws { try applySchema(schema) }

    func destinationNameProblem(_ name: String, what: String) -> String? { PostgresNames.problem(name, what: what) }

    func storeNewTable(_ table: WarehouseTable) throws {
        for name in [table.name] + table.columns.map(\.name) {
            if let problem = PostgresNames.problem(name, what: name == table.name ? "table" : "column") {
                throw SchemaConflict(table: table.name, reason: problem)
            }
        }
        try flush()
        var definitions: [String] = []
        if !table.hasPrimaryKey { definitions.append("\(quoteIdentifier(table.system.rowID)) text PRIMARY KEY") }
        for column in table.columns {
            definitions.append("\(quoteIdentifier(column.name)) \(PostgresTypes.sqlType(column.type))")
        }
        definitions.append("\(quoteIdentifier(table.system.synced)) timestamptz NOT NULL")
        definitions.append("\(quoteIdentifier(table.system.deleted)) boolean NOT NULL DEFAULT false")
        if table.hasPrimaryKey { definitions.append("PRIMARY KEY (\(table.primaryKey.map(quoteIdentifier).joined(separator: ", ")))") }
        try connection.execute("CREATE TABLE \(qualified(table.name)) (\(definitions.joined(separator: ", ")))")
        let keyJSON = JSONWriter.string(.array(table.primaryKey.map(JSONValue.string)))
        try connection.run(
            #"INSERT INTO \#(schema)."_connector_tables" ("name", "primary_key", "created_at", "schema") VALUES ($1, $2, now(), $3)"#,
            [table.name, keyJSON, table.schema])
        for (position, column) in table.columns.enumerated() { try saveColumn(table: table.name, column, position: position) }
    }

    func storeAddedColumn(of table: WarehouseTable) throws {
        let column = table.columns[table.columns.count - 1]
        if let problem = PostgresNames.problem(column.name, what: "column") { throw SchemaConflict(table: table.name, reason: problem) }
        try flush()
        try dropStagingTables(of: table)
        try connection.execute(
            "ALTER TABLE \(qualified(table.name)) ADD COLUMN \(quoteIdentifier(column.name)) \(PostgresTypes.sqlType(column.type))")
        try saveColumn(table: table.name, column, position: table.columns.count - 1)
    }

    func storeColumnType(of table: WarehouseTable, _ index: Int, previous: ColumnType?) throws {
        let column = table.columns[index]
        let type = PostgresTypes.sqlType(column.type)
        if PostgresTypes.sqlType(previous) != type {
            // A first type for a column that has held no value (an undeclared key of an empty table).
            try flush()
            try dropStagingTables(of: table)
            let quoted = quoteIdentifier(column.name)
            try connection.execute("ALTER TABLE \(qualified(table.name)) ALTER COLUMN \(quoted) TYPE \(type) USING \(quoted)::\(type)")
        }
        try saveColumn(table: table.name, column, position: index)
    }

    func storeWidening(_ table: WarehouseTable, _ index: Int, from oldType: ColumnType, to type: ColumnType, declared: Bool) throws {
        try flush()
        try dropStagingTables(of: table)
        let column = quoteIdentifier(table.columns[index].name)
        let target = qualified(table.name)
        if [.float, .double].contains(oldType.dataType), type.dataType == .string {
            try widenDoublesToText(table, column)
        } else if let conversion = PostgresTypes.conversion(from: oldType, to: type) {
            try connection.execute(
                "ALTER TABLE \(target) ALTER COLUMN \(column) TYPE \(PostgresTypes.sqlType(type)) USING \(conversion.replacingOccurrences(of: "{}", with: column))"
            )
        }
        table.setType(type, declared: declared, ofColumn: index)
        try saveColumn(table: table.name, table.columns[index], position: index)
    }

    /// DOUBLE (or FLOAT) to STRING: the text of each value is the one SQLite stores, Swift's shortest
    /// form (`1.0`, `1e+16`), not PostgreSQL's (`1`). The column becomes text in PostgreSQL's form,
    /// then the values whose forms differ are rewritten through a temporary map, one per distinct value.
    private func widenDoublesToText(_ table: WarehouseTable, _ column: String) throws(PostgresError) {
        let target = qualified(table.name)
        try connection.execute("ALTER TABLE \(target) ALTER COLUMN \(column) TYPE text USING \(column)::text")
        var map = PostgresCopyBuffer()
        for row in try connection.query("SELECT DISTINCT \(column) FROM \(target) WHERE \(column) IS NOT NULL") {
            guard let text = row[0], let value = Double(text) else { continue }
            let swiftText = value.description
            guard swiftText != text else { continue }
            map.appendText(text)
            map.appendText(swiftText)
            map.endRow()
        }
        guard !map.isEmpty else { return }
        try connection.execute(
            "CREATE TEMPORARY TABLE pg_temp.\"_connector_double_text\" (\"stored\" text PRIMARY KEY, \"shortest\" text) ON COMMIT DROP")
        try connection.beginCopy("COPY pg_temp.\"_connector_double_text\" FROM STDIN")
        do { try map.send(on: connection) } catch {
            connection.abortCopy()
            throw error
        }
        try connection.endCopy()
        try connection.run(
            "UPDATE \(target) AS t SET \(column) = m.\"shortest\" FROM pg_temp.\"_connector_double_text\" AS m WHERE t.\(column) = m.\"stored\""
        )
        try connection.execute("DROP TABLE pg_temp.\"_connector_double_text\"")
    }

    private func saveColumn(table: String, _ column: WarehouseColumn, position: Int) throws(PostgresError) {
        try connection.run(
            #"INSERT INTO \#(schema)."_connector_columns" ("table_name", "column_name", "position", "type", "precision", "scale", "declared") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT ("table_name", "column_name") DO UPDATE SET "type" = excluded."type", "precision" = excluded."precision", "scale" = excluded."scale", "declared" = excluded."declared""#,
            [
                table, column.name, String(position), column.type.map(\.dataType.rawValue), column.type?.precision.map(String.init),
                column.type?.scale.map(String.init), column.declared ? "t" : "f",
            ])
    }
}
