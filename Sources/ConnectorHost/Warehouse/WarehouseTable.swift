import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The reserved prefix of the host's own columns and tables.
public let systemPrefix = "_connector_"

/// System column names.
enum SystemColumn {
    static let synced = "_connector_synced"
    static let deleted = "_connector_deleted"
    static let rowID = "_connector_id"
}

/// A column of a warehouse table.
struct WarehouseColumn {
    let name: String
    let nameBytes: [UInt8]
    /// `nil` while the column has only seen nulls (an undeclared primary key before its first value).
    var type: ColumnType?
    /// Declared in a schema (enforced), as opposed to inferred from data (widened on demand).
    var declared: Bool

    init(name: String, type: ColumnType?, declared: Bool) {
        self.name = name
        self.nameBytes = Array(name.utf8)
        self.type = type
        self.declared = declared
    }
}

/// One warehouse table: its columns and its cached statements.
///
/// Confined, like the warehouse, to the sync thread; for the same reason as the warehouse's, the
/// properties read per operation opt out of the runtime's exclusivity checks.
final class WarehouseTable {
    let name: String
    /// Empty when the table has no primary key; then rows are keyed by a hash (`_connector_id`).
    let primaryKey: [String]
    @exclusivity(unchecked) private(set) var columns: [WarehouseColumn] = []
    @exclusivity(unchecked) var indexByName: [String: Int] = [:]
    /// Column indexes by ASCII-folded name: SQLite takes `ID` and `id` for the same column.
    @exclusivity(unchecked) var indexByFoldedName: [String: Int] = [:]
    /// Indexes of the primary-key columns, in key order.
    @exclusivity(unchecked) private(set) var primaryKeyIndexes: [Int] = []
    /// Bit i set when column i is part of the primary key (tables have at most 64 key columns).
    @exclusivity(unchecked) private(set) var primaryKeyMask: UInt64 = 0

    /// For each field position of the last record, the column it named: the next record usually names
    /// the same columns in the same order, which a byte comparison confirms without hashing.
    @exclusivity(unchecked) var lastKeyOrder: [Int] = []

    @exclusivity(unchecked) private var upsertStatement: SQLiteStatement?
    @exclusivity(unchecked) private var deleteStatement: SQLiteStatement?
    @exclusivity(unchecked) private var truncateStatement: SQLiteStatement?
    @exclusivity(unchecked) private var updateStatements: [[Int]: SQLiteStatement] = [:]

    /// The statements a table caches: one per kind of operation, an update's per set of columns it sets.
    enum StatementKind {
        case upsert, delete, truncate
        /// An update setting the columns at these indexes (the primary key excluded).
        case update(valueColumns: [Int])
    }

    /// The cached statement of `kind`, if prepared since the columns last changed.
    @inline(__always)
    func cachedStatement(_ kind: StatementKind) -> SQLiteStatement? {
        switch kind {
        case .upsert: upsertStatement
        case .delete: deleteStatement
        case .truncate: truncateStatement
        case .update(let columns): updateStatements[columns]
        }
    }

    /// Keeps `statement` as the statement of `kind`.
    func cache(_ statement: SQLiteStatement, for kind: StatementKind) {
        switch kind {
        case .upsert: upsertStatement = statement
        case .delete: deleteStatement = statement
        case .truncate: truncateStatement = statement
        case .update(let columns): updateStatements[columns] = statement
        }
    }

    /// The SQL of the statement of `kind`.
    func sql(for kind: StatementKind) -> String {
        switch kind {
        case .upsert: upsertSQL
        case .delete: deleteSQL
        case .truncate: truncateSQL
        case .update(let columns): updateSQL(columnIndexes: columns)
        }
    }

    init(name: String, primaryKey: [String]) {
        self.name = name
        self.primaryKey = primaryKey
    }

    var hasPrimaryKey: Bool { !primaryKey.isEmpty }
    var quotedName: String { quoteIdentifier(name) }

    /// The column of exactly this name (byte for byte): the dictionary's String keys would also
    /// match a canonically equivalent spelling, which is another column to SQLite.
    func columnIndex(named name: String) -> Int? {
        guard let index = indexByName[name], NameRules.same(columns[index].name, name) else { return nil }
        return index
    }

    /// The existing column that `name` differs from only in ASCII letter case, if any.
    func columnName(matchingCase name: String) -> String? {
        indexByFoldedName[NameRules.folded(name)].map { columns[$0].name }
    }

    /// Adds a column to the model (the caller alters the SQL table) and drops cached statements.
    func appendColumn(_ column: WarehouseColumn) {
        indexByName[column.name] = columns.count
        indexByFoldedName[NameRules.folded(column.name)] = columns.count
        if let keyPosition = primaryKey.firstIndex(where: { NameRules.same($0, column.name) }) {
            primaryKeyMask |= 1 << UInt64(columns.count)
            if primaryKeyIndexes.count <= keyPosition {
                primaryKeyIndexes += Array(repeating: -1, count: keyPosition + 1 - primaryKeyIndexes.count)
            }
            primaryKeyIndexes[keyPosition] = columns.count
        }
        columns.append(column)
        invalidateStatements()
    }

    func setType(_ type: ColumnType, declared: Bool, ofColumn index: Int) {
        columns[index].type = type
        columns[index].declared = declared
        invalidateStatements()
    }

    func invalidateStatements() {
        upsertStatement = nil
        deleteStatement = nil
        truncateStatement = nil
        updateStatements.removeAll()
        lastKeyOrder.removeAll()
    }

    /// Finds the column a record key names, trying the previous record's order first.
    @inline(__always)
    func columnIndex(forKey key: JSONStringToken, at position: Int, in source: RecordSource) -> Int? {
        if position < lastKeyOrder.count, !key.hasEscapes {
            let candidate = lastKeyOrder[position]
            let nameBytes = columns[candidate].nameBytes
            let length = key.end - key.start
            if nameBytes.count == length,
                nameBytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, source.bytes.baseAddress! + key.start, length) }) == 0
            {
                return candidate
            }
        }
        guard let name = try? source.string(key), let index = columnIndex(named: name) else { return nil }
        if position < lastKeyOrder.count {
            lastKeyOrder[position] = index
        } else if position == lastKeyOrder.count {
            lastKeyOrder.append(index)
        }
        return index
    }

    // MARK: SQL

    /// `CREATE TABLE` for this table's current columns.
    var createSQL: String { createSQL(named: name) }

    /// `CREATE TABLE` for this table's current columns under another name (a rebuild's copy).
    func createSQL(named tableName: String) -> String {
        var definitions: [String] = []
        if !hasPrimaryKey { definitions.append("\(quoteIdentifier(SystemColumn.rowID)) TEXT PRIMARY KEY") }
        for column in columns {
            let type = TypeRules.sqlType(column.type)
            definitions.append(type.isEmpty ? quoteIdentifier(column.name) : "\(quoteIdentifier(column.name)) \(type)")
        }
        definitions.append("\(quoteIdentifier(SystemColumn.synced)) TEXT NOT NULL")
        definitions.append("\(quoteIdentifier(SystemColumn.deleted)) INTEGER NOT NULL DEFAULT 0")
        if hasPrimaryKey { definitions.append("PRIMARY KEY (\(primaryKey.map(quoteIdentifier).joined(separator: ", ")))") }
        return "CREATE TABLE \(quoteIdentifier(tableName)) (\(definitions.joined(separator: ", ")))"
    }

    /// The system columns this table has, in the order ``columnListSQL`` lists them after the data columns.
    var systemColumnNames: [String] {
        [SystemColumn.synced, SystemColumn.deleted] + (hasPrimaryKey ? [] : [SystemColumn.rowID])
    }

    /// Every column, data then system, quoted and comma-separated (for copying the table's rows).
    var columnListSQL: String {
        (columns.map(\.name) + systemColumnNames).map(quoteIdentifier).joined(separator: ", ")
    }

    /// Upsert: parameters 1...n are the columns in order, n+1 the synced time, n+2 the row id (no key).
    var upsertSQL: String {
        let names = columns.map { quoteIdentifier($0.name) }
        var insertNames = names + [quoteIdentifier(SystemColumn.synced), quoteIdentifier(SystemColumn.deleted)]
        var values = (1...(columns.count + 1)).map { "?\($0)" } + ["0"]
        if !hasPrimaryKey {
            insertNames.append(quoteIdentifier(SystemColumn.rowID))
            values.append("?\(columns.count + 2)")
        }
        let conflictTarget = hasPrimaryKey ? primaryKey.map(quoteIdentifier) : [quoteIdentifier(SystemColumn.rowID)]
        let assignments =
            names.map { "\($0) = excluded.\($0)" } + [
                "\(quoteIdentifier(SystemColumn.synced)) = excluded.\(quoteIdentifier(SystemColumn.synced))",
                "\(quoteIdentifier(SystemColumn.deleted)) = 0",
            ]
        return
            "INSERT INTO \(quotedName) (\(insertNames.joined(separator: ", "))) VALUES (\(values.joined(separator: ", "))) "
            + "ON CONFLICT (\(conflictTarget.joined(separator: ", "))) DO UPDATE SET \(assignments.joined(separator: ", "))"
    }

    /// Update of `columnIndexes`: parameters 1...k the columns, k+1 synced, then the key values in key order.
    func updateSQL(columnIndexes: [Int]) -> String {
        let assignments =
            columnIndexes.enumerated().map { "\(quoteIdentifier(columns[$0.element].name)) = ?\($0.offset + 1)" } + [
                "\(quoteIdentifier(SystemColumn.synced)) = ?\(columnIndexes.count + 1)"
            ]
        return
            "UPDATE \(quotedName) SET \(assignments.joined(separator: ", ")) WHERE \(keyCondition(firstParameter: columnIndexes.count + 2))"
    }

    /// Soft delete: parameter 1 synced, then the key values (or the row id).
    var deleteSQL: String {
        "UPDATE \(quotedName) SET \(quoteIdentifier(SystemColumn.deleted)) = 1, \(quoteIdentifier(SystemColumn.synced)) = ?1 WHERE \(keyCondition(firstParameter: 2))"
    }

    /// Truncate: soft-deletes every live row; parameter 1 synced.
    var truncateSQL: String {
        "UPDATE \(quotedName) SET \(quoteIdentifier(SystemColumn.deleted)) = 1, \(quoteIdentifier(SystemColumn.synced)) = ?1 WHERE \(quoteIdentifier(SystemColumn.deleted)) = 0"
    }

    func keyCondition(firstParameter: Int) -> String {
        guard hasPrimaryKey else { return "\(quoteIdentifier(SystemColumn.rowID)) = ?\(firstParameter)" }
        return primaryKey.enumerated().map { "\(quoteIdentifier($0.element)) = ?\(firstParameter + $0.offset)" }
            .joined(separator: " AND ")
    }
}
