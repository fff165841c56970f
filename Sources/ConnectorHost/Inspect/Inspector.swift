import ConnectorProtocol
import Foundation

/// A read-only look at a warehouse: its tables, the stored state and the sync history.
public struct Inspection: Sendable {
    /// A column with its declared or inferred type.
    public struct Column: Sendable, Equatable {
        public var name: String
        /// `nil` while the column has seen only nulls.
        public var type: ColumnType?
        public var declared: Bool
        public var isPrimaryKey: Bool
    }

    /// A table with its row counts.
    public struct Table: Sendable, Equatable {
        public var name: String
        /// Empty for tables keyed by the row hash.
        public var primaryKey: [String]
        public var columns: [Column]
        public var liveRows: Int
        public var deletedRows: Int
        /// Every row (``WarehouseSnapshot``), when asked for (`inspect --rows`).
        public var rows: [JSONValue]? = nil
    }

    /// One sync of the history.
    public struct Sync: Sendable, Equatable {
        public var id: Int64
        public var startedAt: String
        public var endedAt: String?
        public var durationSeconds: Double?
        public var status: String
        /// What the sync received and applied (for a failed sync, including what was rolled back).
        public var counts: OperationCounts
        /// The failure message, secrets masked.
        public var error: String?
        /// The name and version the connector reported in `initialize`; `nil` for syncs recorded
        /// before they were kept, or that failed before the handshake.
        public var reportedConnector: PeerInfo? = nil
        /// The package a `run --connection` sync ran, and its SHA-256; `nil` for a sync of a folder.
        public var packageID: String? = nil
        public var packageSHA256: String? = nil
    }

    /// The warehouse file.
    public var warehouse: String
    public var tables: [Table]
    /// The state of the last checkpoint, with secret-looking values masked; `nil` before the first.
    public var state: JSONValue?
    public var stateUpdatedAt: String?
    /// The most recent syncs, newest first.
    public var syncs: [Sync]
}

/// Why a warehouse cannot be inspected.
public struct InspectionError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    package init(message: String) { self.message = message }
}

/// Reads a warehouse for `connector-host inspect` and renders it for people and machines.
///
/// Never prints a secret: state values under secret-looking keys (`token`, `password`, ...) and
/// every secret value of the connector's configuration are masked.
public enum Inspector {
    /// Reads the warehouse at `path` (read-only).
    /// - Parameters:
    ///   - secrets: values to mask wherever they appear (the configuration's secrets).
    ///   - syncLimit: how many of the most recent syncs to read.
    /// - Throws: ``InspectionError`` when the file is missing or is not a connector-host warehouse.
    ///   - includeRows: whether to read every table's rows too (``WarehouseSnapshot``).
    public static func inspect(warehouse path: String, secrets: [String] = [], syncLimit: Int = 10, includeRows: Bool = false)
        throws(InspectionError) -> Inspection
    {
        guard FileManager.default.fileExists(atPath: path) else {
            throw InspectionError(message: "no warehouse at \(path) yet; run `connector-host run DIR` first")
        }
        do {
            let database = try SQLiteDatabase(readOnlyPath: path)
            let known = try database.query(#"SELECT count(*) FROM sqlite_master WHERE "name" = '_connector_tables'"#)
            guard known.first?.first == .integer(1) else {
                throw InspectionError(message: "\(path) is not a connector-host warehouse (it has no _connector_tables)")
            }
            let redactor = Redactor(exactly: secrets)
            let stored = try state(database, redactor)
            return Inspection(
                warehouse: path, tables: try tables(database, redactor, includeRows: includeRows), state: stored.value,
                stateUpdatedAt: stored.updatedAt,
                syncs: try syncs(database, redactor, limit: syncLimit))
        } catch let error as InspectionError {
            throw error
        } catch {
            throw InspectionError(message: "cannot read the warehouse \(path): \(error)")
        }
    }

    /// The tables, their names masked (a table or column may be named with a secret value).
    private static func tables(_ database: SQLiteDatabase, _ redactor: Redactor, includeRows: Bool) throws -> [Inspection.Table] {
        var tables: [Inspection.Table] = []
        let system = (try? WarehouseSettings.stored(in: database))?.systemColumns ?? .connector
        let deletedColumn = system.deleted
        for table in try WarehouseCatalog.tables(in: database) {
            let (name, primaryKey) = (table.name, table.primaryKey)
            let columns = table.columns.map { column in
                Inspection.Column(
                    name: redactor.mask(column.name), type: column.type, declared: column.declared,
                    isPrimaryKey: primaryKey.contains(where: { NameRules.same($0, column.name) }))
            }
            let counts = try database.query(
                "SELECT coalesce(sum(\(quoteIdentifier(deletedColumn)) = 0), 0), coalesce(sum(\(quoteIdentifier(deletedColumn)) <> 0), 0) FROM \(quoteIdentifier(name))"
            )
            tables.append(
                Inspection.Table(
                    name: redactor.mask(name), primaryKey: primaryKey.map(redactor.mask), columns: columns,
                    liveRows: Int(counts.first?[0].integer ?? 0),
                    deletedRows: Int(counts.first?[1].integer ?? 0),
                    rows: includeRows ? try WarehouseSnapshot.rows(of: table, in: database, system: system, redactor: redactor) : nil))
        }
        return tables
    }

    private static func state(_ database: SQLiteDatabase, _ redactor: Redactor) throws -> (value: JSONValue?, updatedAt: String?) {
        let rows = try database.query(#"SELECT "state", "updated_at" FROM "_connector_state" WHERE "id" = 1"#)
        guard let row = rows.first, case .text(let text) = row[0] else { return (nil, nil) }
        let masked = redactor.maskedJSON(text)
        return ((try? JSONParser.parse(masked)) ?? .string(masked), row[1].text)
    }

    private static func syncs(_ database: SQLiteDatabase, _ redactor: Redactor, limit: Int) throws -> [Inspection.Sync] {
        // Warehouses written before the reported name and version were kept lack their columns.
        let present = Set(try WarehouseCatalog.syncColumnNames(database))
        let reported = WarehouseCatalog.addedSyncColumns.map { present.contains($0.name) ? quoteIdentifier($0.name) : "NULL" }
            .joined(separator: ", ")
        return try database.query(
            """
            SELECT "id", "started_at", "ended_at", (julianday("ended_at") - julianday("started_at")) * 86400.0, "status", "error",
            \(reported), \(WarehouseCatalog.countColumns.map { present.contains($0.name) ? quoteIdentifier($0.name) : "0" }.joined(separator: ", "))
            FROM "_connector_syncs" ORDER BY "id" DESC LIMIT ?1
            """, [.integer(Int64(max(0, limit)))]
        ).map { row in
            // The added columns follow the six fixed ones, in the order of addedSyncColumns; then the counts.
            let added = Dictionary(
                uniqueKeysWithValues: WarehouseCatalog.addedSyncColumns.enumerated().map { ($1.name, row[6 + $0].text) })
            let counts = WarehouseCatalog.counts(from: row.dropFirst(6 + WarehouseCatalog.addedSyncColumns.count))
            let reportedConnector = (added["connector_name"] ?? nil).flatMap { name in
                (added["connector_version"] ?? nil).map { PeerInfo(name: name, version: $0) }
            }
            var duration: Double?
            if case .real(let seconds) = row[3] { duration = (seconds * 1000).rounded() / 1000 }
            return Inspection.Sync(
                id: row[0].integer ?? 0, startedAt: row[1].text ?? "", endedAt: row[2].text, durationSeconds: duration,
                status: row[4].text ?? "", counts: counts, error: row[5].text.map(redactor.mask),
                reportedConnector: reportedConnector, packageID: added["package_id"] ?? nil, packageSHA256: added["package_sha256"] ?? nil)
        }
    }

    // MARK: Rendering

    /// The inspection for people: one block per table, the state, then the sync history as a table.
    /// Names, the state and errors come from the warehouse, which may come from anywhere: their
    /// control characters are escaped.
    public static func text(_ inspection: Inspection) -> String {
        let inspection = escaped(inspection)
        var lines = ["warehouse: \(inspection.warehouse)", ""]
        if inspection.tables.isEmpty {
            lines.append("tables: none yet")
        } else {
            lines.append("tables:")
            for table in inspection.tables {
                let key =
                    table.primaryKey.isEmpty
                    ? "no primary key (rows keyed by a hash)" : "primary key (\(table.primaryKey.joined(separator: ", ")))"
                lines.append(
                    "  \(table.name): \(SyncReportFormatter.group(table.liveRows)) live row\(table.liveRows == 1 ? "" : "s"), \(SyncReportFormatter.group(table.deletedRows)) deleted; \(key)"
                )
                let nameWidth = table.columns.map(\.name.count).max() ?? 0
                let typeWidth = table.columns.map { typeText($0.type).count }.max() ?? 0
                for column in table.columns {
                    let origin = (column.declared ? "declared" : "inferred") + (column.isPrimaryKey ? ", primary key" : "")
                    lines.append("    " + pad(column.name, nameWidth) + "  " + pad(typeText(column.type), typeWidth) + "  " + origin)
                }
            }
        }
        lines.append("")
        if let state = inspection.state {
            lines.append(
                "state: \(state.stringValue ?? JSONWriter.string(state))"
                    + (inspection.stateUpdatedAt.map { " (checkpointed \($0))" } ?? ""))
        } else {
            lines.append("state: none yet (no checkpoint)")
        }
        lines.append("")
        guard !inspection.syncs.isEmpty else {
            lines.append("syncs: none yet")
            return lines.joined(separator: "\n")
        }
        lines.append("last syncs (newest first):")
        let header = ["#", "started", "duration", "status", "upserts", "updates", "deletes", "truncates", "schema changes", "checkpoints"]
        let rows = inspection.syncs.map { sync -> [String] in
            [
                String(sync.id), sync.startedAt, sync.durationSeconds.map { String(format: "%.2f s", $0) } ?? "-", sync.status,
                SyncReportFormatter.group(sync.counts.upserts), SyncReportFormatter.group(sync.counts.updates),
                SyncReportFormatter.group(sync.counts.deletes), SyncReportFormatter.group(sync.counts.truncates),
                SyncReportFormatter.group(sync.counts.schemaChanges), SyncReportFormatter.group(sync.counts.checkpoints),
            ]
        }
        let widths = header.indices.map { column in max(header[column].count, rows.map { $0[column].count }.max() ?? 0) }
        // Text columns (started, status) align left, numbers right.
        let leftAligned: Set<Int> = [1, 3]
        func line(_ cells: [String]) -> String {
            "  "
                + cells.enumerated().map { column, cell in
                    leftAligned.contains(column)
                        ? pad(cell, widths[column]) : String(repeating: " ", count: widths[column] - cell.count) + cell
                }.joined(separator: "  ")
        }
        lines.append(line(header).trimmingTrailingSpaces())
        for (sync, row) in zip(inspection.syncs, rows) {
            lines.append(line(row).trimmingTrailingSpaces())
            if let id = sync.packageID, let sha256 = sync.packageSHA256 {
                lines.append("     package: \(id) (sha256 \(sha256))")
            }
            if let error = sync.error, let first = error.split(separator: "\n").first {
                lines.append("     error: " + (first.count > 200 ? String(first.prefix(200)) + "…" : String(first)))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `inspection` with control characters escaped in every text that came from the warehouse.
    private static func escaped(_ inspection: Inspection) -> Inspection {
        var result = inspection
        let escape = { (text: String) in HumanText.escapingControls(text) }
        result.tables = inspection.tables.map { table in
            var table = table
            table.name = escape(table.name)
            table.primaryKey = table.primaryKey.map(escape)
            table.columns = table.columns.map { column in
                var column = column
                column.name = escape(column.name)
                return column
            }
            return table
        }
        result.state = inspection.state.map { .string(escape(JSONWriter.string($0))) }
        result.syncs = inspection.syncs.map { sync in
            var sync = sync
            sync.status = escape(sync.status)
            sync.startedAt = escape(sync.startedAt)
            sync.error = sync.error.map { HumanText.escapingControls($0, keepingLineBreaks: true) }
            return sync
        }
        return result
    }

    /// The inspection as one JSON object.
    public static func json(_ inspection: Inspection) -> String {
        let tables: [JSONValue] = inspection.tables.map { table in
            var object: JSONObject = [
                "name": .string(table.name), "primaryKey": .array(table.primaryKey.map(JSONValue.string)),
                "liveRows": .number(JSONNumber(table.liveRows)), "deletedRows": .number(JSONNumber(table.deletedRows)),
                "columns": .array(
                    table.columns.map { column in
                        [
                            "name": .string(column.name), "type": column.type.map { .string($0.dataType.rawValue) } ?? .null,
                            "precision": column.type?.precision.map { .number(JSONNumber($0)) } ?? .null,
                            "scale": column.type?.scale.map { .number(JSONNumber($0)) } ?? .null,
                            "declared": .bool(column.declared), "primaryKey": .bool(column.isPrimaryKey),
                        ]
                    }),
            ]
            if let rows = table.rows { object["rows"] = .array(rows) }
            return .object(object)
        }
        let syncs: [JSONValue] = inspection.syncs.map { sync in
            [
                "id": .number(JSONNumber(sync.id)), "startedAt": .string(sync.startedAt),
                "endedAt": sync.endedAt.map(JSONValue.string) ?? .null,
                "durationSeconds": sync.durationSeconds.map { .number(JSONNumber($0)) } ?? .null, "status": .string(sync.status),
                "counts": SyncReportFormatter.countsJSON(sync.counts), "error": sync.error.map(JSONValue.string) ?? .null,
                "connectorReported": sync.reportedConnector?.json ?? .null,
                "packageId": sync.packageID.map(JSONValue.string) ?? .null,
                "packageSha256": sync.packageSHA256.map(JSONValue.string) ?? .null,
            ]
        }
        return JSONWriter.string([
            "warehouse": .string(inspection.warehouse), "tables": .array(tables), "state": inspection.state ?? .null,
            "stateUpdatedAt": inspection.stateUpdatedAt.map(JSONValue.string) ?? .null, "syncs": .array(syncs),
        ])
    }

    private static func typeText(_ type: ColumnType?) -> String { type.map { "\($0)" } ?? "(no type yet)" }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var result = self
        while result.last == " " { result.removeLast() }
        return result
    }
}
