import ConnectorProtocol
import Foundation

/// The rows of a warehouse as JSON (`inspect --rows --json`), and the differences between such a
/// snapshot and a warehouse (`connector-host diff`).
///
/// A row is an object of its columns, without the synced-time system column (it changes every
/// run); the deleted flag and a keyless table's row hash stay. Rows are ordered by primary key (the
/// row hash for keyless tables). Values by column type: SHORT, INT, LONG and FLOAT, DOUBLE as JSON
/// numbers, BOOLEAN as booleans, BINARY as base64, JSON as the JSON value, everything else as
/// strings, NULL as null.
public enum WarehouseSnapshot {
    /// The rows of `table`, read from `database`, with `redactor`'s secrets masked in text values.
    static func rows(
        of table: WarehouseCatalog.Table, in database: SQLiteDatabase, system: SystemColumnNames, redactor: Redactor
    ) throws(SQLiteError) -> [JSONValue] {
        let physical = try database.query("PRAGMA table_info(\(quoteIdentifier(table.name)))").compactMap { row -> String? in
            if case .text(let name) = row[1] { return name }
            return nil
        }
        let columns = physical.filter { $0 != system.synced }
        guard !columns.isEmpty else { return [] }
        let types = Dictionary(table.columns.map { ($0.name, $0.type?.dataType) }, uniquingKeysWith: { first, _ in first })
        let order =
            table.primaryKey.isEmpty
            ? (physical.contains(system.rowID) ? quoteIdentifier(system.rowID) : "rowid")
            : table.primaryKey.map(quoteIdentifier).joined(separator: ", ")
        let sql = "SELECT \(columns.map(quoteIdentifier).joined(separator: ", ")) FROM \(quoteIdentifier(table.name)) ORDER BY \(order)"
        return try database.query(sql).map { row in
            var object = JSONObject()
            for (column, value) in zip(columns, row) {
                let type: DataType? = column == system.deleted ? .boolean : types[column] ?? nil
                object[redactor.mask(column)] = json(value, type: type, redactor: redactor)
            }
            return .object(object)
        }
    }

    /// A stored value as its snapshot JSON.
    static func json(_ value: SQLiteValue, type: DataType?, redactor: Redactor) -> JSONValue {
        switch value {
        case .null: return .null
        case .integer(let number):
            switch type {
            case .boolean?: return .bool(number != 0)
            case .short?, .int?, .long?, .float?, .double?, nil: return .number(JSONNumber(number))
            default: return .string(String(number))
            }
        case .real(let number):
            switch type {
            case .float?, .double?, .short?, .int?, .long?, nil: return number.isFinite ? .number(JSONNumber(number)) : .string("\(number)")
            default: return .string("\(number)")
            }
        case .text(let text):
            if type == .json, let parsed = try? JSONParser.parse(redactor.mask(text)) { return parsed }
            return .string(redactor.mask(text))
        case .blob(let bytes): return .string(Base64.encode(bytes))
        }
    }

    /// The differences between a snapshot (`inspect --rows --json`, the expected side) and the
    /// warehouse as it is now (the same form), one line each: tables added or removed, rows added,
    /// removed or changed (table, key, column, old and new value).
    public static func differences(expected: JSONValue, actual: JSONValue) -> [String] {
        let before = tablesByName(expected)
        let after = tablesByName(actual)
        var lines: [String] = []
        let names = before.map(\.name) + after.map(\.name).filter { name in !before.contains { $0.name == name } }
        for name in names {
            let old = before.first { $0.name == name }?.table
            let new = after.first { $0.name == name }?.table
            let shownName = HumanText.escapingControls(name)
            guard let old else {
                lines.append("\(shownName): table added (\(new?["rows"]?.arrayValue?.count ?? 0) rows)")
                continue
            }
            guard let new else {
                lines.append("\(shownName): table removed (\(old["rows"]?.arrayValue?.count ?? 0) rows)")
                continue
            }
            let key = keyColumns(old)
            let oldRows = keyed(old["rows"]?.arrayValue ?? [], by: key)
            let newRows = keyed(new["rows"]?.arrayValue ?? [], by: key)
            for (rowKey, row) in oldRows where !newRows.contains(where: { $0.key == rowKey }) {
                lines.append("\(shownName) \(rowKey): row removed \(shown(row))")
            }
            for (rowKey, row) in newRows {
                guard let previous = oldRows.first(where: { $0.key == rowKey })?.row else {
                    lines.append("\(shownName) \(rowKey): row added \(shown(row))")
                    continue
                }
                let oldObject = previous.objectValue ?? [:]
                let newObject = row.objectValue ?? [:]
                let columns = oldObject.keys + newObject.keys.filter { oldObject[$0] == nil }
                for column in columns where oldObject[column] != newObject[column] {
                    lines.append(
                        "\(shownName) \(rowKey): \(HumanText.escapingControls(column)) changed from \(shown(oldObject[column])) to \(shown(newObject[column]))"
                    )
                }
            }
        }
        return lines
    }

    private static func tablesByName(_ snapshot: JSONValue) -> [(name: String, table: JSONValue)] {
        (snapshot["tables"]?.arrayValue ?? []).compactMap { table in table["name"]?.stringValue.map { ($0, table) } }
    }

    /// The primary key, or for a keyless table its row-hash column.
    private static func keyColumns(_ table: JSONValue) -> [String] {
        let primaryKey = table["primaryKey"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if !primaryKey.isEmpty { return primaryKey }
        let first = table["rows"]?.arrayValue?.first
        return [SystemColumnNames.fivetran.rowID, SystemColumnNames.connector.rowID].filter { first?[$0] != nil }
    }

    /// The rows in order with their keys (`{"id":1}`).
    private static func keyed(_ rows: [JSONValue], by key: [String]) -> [(key: String, row: JSONValue)] {
        rows.enumerated().map { index, row in
            guard !key.isEmpty else { return ("#\(index + 1)", row) }
            let object = JSONObject(key.map { (key: $0, value: row[$0] ?? .null) })
            return (HumanText.escapingControls(JSONWriter.string(.object(object))), row)
        }
    }

    private static func shown(_ value: JSONValue?) -> String {
        HumanText.escapingControls(value.map { JSONWriter.string($0) } ?? "(no value)")
    }
}
