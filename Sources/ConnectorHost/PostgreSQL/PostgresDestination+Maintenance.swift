import ConnectorProtocol

/// `inspect` and `reset` of a PostgreSQL destination.
extension PostgresDestination {
    /// Reads the connector's schema for `connector-host inspect`: the same ``Inspection`` as for an
    /// SQLite warehouse, read in a read-only transaction (it sees the last checkpoint, also while a
    /// sync runs).
    /// - Throws: ``InspectionError`` when the server cannot be reached or the schema holds no sync yet.
    /// - Parameter includeRows: whether to read every table's rows too, as ``WarehouseSnapshot`` reads
    ///   them from SQLite (`inspect --rows --json`, `diff`).
    package static func inspect(
        _ target: PostgresTarget, connector: String, secrets: [String], syncLimit: Int, includeRows: Bool = false
    ) throws(InspectionError) -> Inspection {
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
            let system = values["system_columns"].flatMap(SystemColumnNames.init(profile:)) ?? .connector
            let deleted = quoteIdentifier(system.deleted)
            var tables: [Inspection.Table] = []
            let tableRows = try connection.query(#"SELECT "name", "primary_key" FROM \#(schema)."_connector_tables" ORDER BY "name""#)
            for row in tableRows {
                guard let name = row[0] else { continue }
                let primaryKey = (row[1].flatMap { try? JSONParser.parse($0) })?.arrayValue?.compactMap(\.stringValue) ?? []
                // The types by the stored (unmasked) names, for the rows.
                var types: [String: DataType?] = [:]
                let columns = try connection.query(
                    #"SELECT "column_name", "type", "precision", "scale", "declared" FROM \#(schema)."_connector_columns" WHERE "table_name" = $1 ORDER BY "position""#,
                    [name]
                ).compactMap { column -> Inspection.Column? in
                    guard let columnName = column[0] else { return nil }
                    let type = column[1].flatMap(DataType.init(rawValue:)).map {
                        ColumnType($0, precision: column[2].flatMap { Int($0) }, scale: column[3].flatMap { Int($0) })
                    }
                    if types[columnName] == nil { types[columnName] = type?.dataType }
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
                        deletedRows: Int(counts.first?[1] ?? "0") ?? 0,
                        rows: includeRows
                            ? try snapshotRows(
                                connection, schema: schema, table: name, primaryKey: primaryKey,
                                types: types, system: system, redactor: redactor) : nil))
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

    /// The rows of table `name` as ``WarehouseSnapshot`` has an SQLite table's: the stored columns in
    /// their order without the synced time, each value as SQLite holds it (``PostgresValues``), ordered
    /// by primary key (text in byte order, as SQLite compares it) or by the row hash.
    /// - Parameter types: the column types by (unmasked) name.
    private static func snapshotRows(
        _ connection: PostgresConnection, schema: String, table name: String, primaryKey: [String], types: [String: DataType?],
        system: SystemColumnNames, redactor: Redactor
    ) throws(PostgresError) -> [JSONValue] {
        let qualified = schema + "." + quoteIdentifier(name)
        let physical = try connection.query(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [qualified]
        ).compactMap { $0[0] }
        let columns = physical.filter { $0 != system.synced }
        guard !columns.isEmpty else { return [] }
        func ordered(_ column: String) -> String {
            let byteOrder: Bool
            switch types[column] ?? nil {
            case .string?, .xml?, nil: byteOrder = true
            default: byteOrder = false
            }
            return quoteIdentifier(column) + (byteOrder ? #" COLLATE "C""# : "")
        }
        let key = primaryKey.isEmpty ? (physical.contains(system.rowID) ? [system.rowID] : []) : primaryKey
        let order = key.isEmpty ? "" : " ORDER BY " + key.map(ordered).joined(separator: ", ")
        let (oids, rows) = try connection.typedQuery(
            "SELECT \(columns.map(quoteIdentifier).joined(separator: ", ")) FROM \(qualified)\(order)")
        return rows.map { row in
            var object = JSONObject()
            for (index, column) in columns.enumerated() {
                let type: DataType? = column == system.deleted ? .boolean : types[column] ?? nil
                object[redactor.mask(column)] = WarehouseSnapshot.json(
                    PostgresValues.sqliteValue(row[index], type: oids[index]), type: type, redactor: redactor)
            }
            return .object(object)
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

    /// `reset --table NAME [--state-key KEY]` of a PostgreSQL destination, as
    /// ``WorkspaceFiles/resetTable(_:stateKey:)`` does it for SQLite: drops the table and the host's
    /// record of its columns and, with `stateKey`, removes that key from the stored state, in one
    /// transaction, holding the connection's lock (refused while a sync runs). A state file mirroring
    /// the state is left as it is: it is the host's mirror of the previous checkpoint, which the next
    /// run that mirrors the state repairs.
    /// - Throws: a usage error for a schema without a sync, a table it does not have, a key the state does not have.
    package static func resetTable(_ target: PostgresTarget, connector: String, table name: String, stateKey: String?)
        throws(SyncFailure) -> TableReset
    {
        let destination = try open(target, connector: connector, creating: false)
        let location = destination.location
        guard destination.hasCatalog else {
            throw SyncFailure(.configuration, "there is no warehouse in \(location) to reset a table of", isUsageError: true)
        }
        let table = try TableReset.table(named: name, among: destination.tables.keys.sorted(), in: location)
        let connection = destination.connection
        do {
            try connection.execute("BEGIN")
            var newState: String?
            if let stateKey {
                let stored = try connection.scalar(
                    #"SELECT "state" FROM \#(destination.schema)."_connector_state" WHERE "id" = 1 FOR UPDATE"#)
                newState = try TableReset.state(stored, without: stateKey, in: location)
            }
            let rows = Int(try connection.scalar("SELECT count(*) FROM \(destination.qualified(table))") ?? "0") ?? 0
            try connection.execute("DROP TABLE \(destination.qualified(table))")
            _ = try connection.query(#"DELETE FROM \#(destination.schema)."_connector_columns" WHERE "table_name" = $1"#, [table])
            _ = try connection.query(#"DELETE FROM \#(destination.schema)."_connector_tables" WHERE "name" = $1"#, [table])
            if let newState {
                _ = try connection.query(
                    #"UPDATE \#(destination.schema)."_connector_state" SET "state" = $1, "updated_at" = now() WHERE "id" = 1"#, [newState])
            }
            try connection.execute("COMMIT")
            return TableReset(table: table, rows: rows, stateKey: stateKey, state: newState)
        } catch let failure as SyncFailure {
            try? connection.execute("ROLLBACK")
            throw failure
        } catch let error as PostgresError {
            try? connection.execute("ROLLBACK")
            throw SyncFailure(.warehouse, destination.problem(error, while: "dropping the table"))
        } catch {
            try? connection.execute("ROLLBACK")
            throw SyncFailure(.warehouse, "\(error)")
        }
    }

    static let hostTables = [
        "_connector_columns", "_connector_file_moves", "_connector_settings", "_connector_state", "_connector_syncs", "_connector_tables",
    ]
}
