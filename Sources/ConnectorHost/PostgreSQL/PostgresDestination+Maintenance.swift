import ConnectorProtocol

/// `inspect` and `reset` of a PostgreSQL destination.
extension PostgresDestination {
    /// Reads the connector's schema for `connector-host inspect`: the same ``Inspection`` as for an
    /// SQLite warehouse, read in a read-only transaction (it sees the last checkpoint, also while a
    /// sync runs).
    /// - Throws: ``InspectionError`` when the server cannot be reached or the schema holds no sync yet.
    package static func inspect(_ target: PostgresTarget, connector: String, secrets: [String], syncLimit: Int) throws(InspectionError)
        -> Inspection
    {
        let location = target.location(connector: connector)
        let schemaName = target.schemaName(connector: connector)
        let redactor = Redactor(exactly: secrets + target.address.secrets)
        let schema = quoteIdentifier(schemaName)
        let connection: PostgresConnection
        do { connection = try PostgresConnection(address: target.address, applicationName: "connector-host inspect") } catch {
            throw InspectionError(message: "cannot connect to the destination \(target.address): \(error.message)")
        }
        do {
            try connection.execute(
                "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; BEGIN TRANSACTION READ ONLY")
            guard try connection.scalar("SELECT to_regclass($1) IS NOT NULL", [schema + ".\"_connector_tables\""]) == "t" else {
                throw InspectionError(message: "no warehouse in \(location) yet; run `connector-host run DIR` with this destination first")
            }
            var values: [String: String] = [:]
            if try connection.scalar("SELECT to_regclass($1) IS NOT NULL", [schema + ".\"_connector_settings\""]) == "t" {
                for row in try connection.query(#"SELECT "key", "value" FROM \#(schema)."_connector_settings""#) {
                    if let key = row[0], let value = row[1] { values[key] = value }
                }
            }
            let deleted = quoteIdentifier((values["system_columns"].flatMap(SystemColumnNames.init(profile:)) ?? .connector).deleted)
            var tables: [Inspection.Table] = []
            let tableRows = try connection.query(#"SELECT "name", "primary_key" FROM \#(schema)."_connector_tables" ORDER BY "name""#)
            for row in tableRows {
                guard let name = row[0] else { continue }
                let primaryKey = (row[1].flatMap { try? JSONParser.parse($0) })?.arrayValue?.compactMap(\.stringValue) ?? []
                let columns = try connection.query(
                    #"SELECT "column_name", "type", "precision", "scale", "declared" FROM \#(schema)."_connector_columns" WHERE "table_name" = $1 ORDER BY "position""#,
                    [name]
                ).compactMap { column -> Inspection.Column? in
                    guard let columnName = column[0] else { return nil }
                    let type = column[1].flatMap(DataType.init(rawValue:)).map {
                        ColumnType($0, precision: column[2].flatMap { Int($0) }, scale: column[3].flatMap { Int($0) })
                    }
                    return Inspection.Column(
                        name: redactor.mask(columnName), type: type, declared: column[4] == "t",
                        isPrimaryKey: primaryKey.contains { NameRules.same($0, columnName) })
                }
                let counts = try connection.query(
                    "SELECT count(*) FILTER (WHERE NOT \(deleted)), count(*) FILTER (WHERE \(deleted)) FROM \(schema).\(quoteIdentifier(name))"
                )
                tables.append(
                    Inspection.Table(
                        name: redactor.mask(name), primaryKey: primaryKey.map(redactor.mask), columns: columns,
                        liveRows: Int(counts.first?[0] ?? "0") ?? 0,
                        deletedRows: Int(counts.first?[1] ?? "0") ?? 0))
            }
            let time = { (column: String) in #"to_char(\#(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"# }
            var state: JSONValue?
            var stateUpdatedAt: String?
            if let row = try connection.query(#"SELECT "state", \#(time("updated_at")) FROM \#(schema)."_connector_state" WHERE "id" = 1"#)
                .first, let text = row[0]
            {
                let masked = redactor.maskedJSON(text)
                state = (try? JSONParser.parse(masked)) ?? .string(masked)
                stateUpdatedAt = row[1]
            }
            let countNames = WarehouseCatalog.countColumns
            let syncs = try connection.query(
                """
                SELECT "id", \(time("started_at")), \(time("ended_at")), extract(epoch FROM "ended_at" - "started_at"), "status", "error",
                "connector_name", "connector_version", "package_id", "package_sha256", \(WarehouseCatalog.countColumnList)
                FROM \(schema)."_connector_syncs" ORDER BY "id" DESC LIMIT $1
                """, [String(max(0, syncLimit))]
            ).map { row in
                var counts = OperationCounts()
                for (column, value) in zip(countNames, row.dropFirst(10)) {
                    counts[keyPath: column.keyPath] = value.flatMap { Int($0) } ?? 0
                }
                let reported = row[6].flatMap { name in row[7].map { PeerInfo(name: name, version: $0) } }
                return Inspection.Sync(
                    id: row[0].flatMap { Int64($0) } ?? 0, startedAt: row[1] ?? "", endedAt: row[2],
                    durationSeconds: row[3].flatMap { Double($0) }.map { ($0 * 1000).rounded() / 1000 }, status: row[4] ?? "",
                    counts: counts, error: row[5].map(redactor.mask), reportedConnector: reported, packageID: row[8],
                    packageSHA256: row[9])
            }
            try connection.execute("COMMIT")
            return Inspection(warehouse: location, tables: tables, state: state, stateUpdatedAt: stateUpdatedAt, syncs: syncs)
        } catch let error as InspectionError {
            throw error
        } catch {
            throw InspectionError(message: "cannot read the destination \(location): \(error)")
        }
    }

    /// What `connector-host reset` would delete in the destination: its tables (the connector's and the
    /// host's own), or none when the schema holds no sync.
    package static func resettableTables(_ target: PostgresTarget, connector: String) throws(SyncFailure) -> [String] {
        let destination = try open(target, connector: connector, creating: false)
        return destination.tables.keys.sorted() + (destination.hasCatalog ? hostTables : [])
    }

    /// Drops the connector's tables and the host's own from its schema, in one transaction, holding
    /// the connection's lock (refused while a sync runs); then the schema itself if nothing else is in
    /// it. A view or other object that depends on a table makes the reset fail, naming it: it is the
    /// team's, not the host's, so the host never drops it (no CASCADE).
    /// - Returns: what was deleted, for the message.
    package static func reset(_ target: PostgresTarget, connector: String) throws(SyncFailure) -> [String] {
        let destination = try open(target, connector: connector, creating: false)
        guard destination.hasCatalog else { return [] }
        let names = destination.tables.keys.sorted() + hostTables
        do {
            try destination.connection.execute(
                "BEGIN; " + names.map { "DROP TABLE IF EXISTS \(destination.qualified($0)); " }.joined() + "COMMIT")
        } catch {
            throw SyncFailure(.warehouse, destination.problem(error, while: "deleting its tables"))
        }
        // Other objects (a team's views, say) keep the schema; that is not an error.
        let droppedSchema = (try? destination.connection.execute("DROP SCHEMA \(destination.schema)")) != nil
        return names.map { "\(destination.schemaName).\($0)" } + (droppedSchema ? ["schema \(destination.schemaName)"] : [])
    }

    static let hostTables = ["_connector_columns", "_connector_settings", "_connector_state", "_connector_syncs", "_connector_tables"]
}
