import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The reserved prefix of the host's own columns and tables.
public let systemPrefix = "_connector_"

/// The names of the columns the host adds to every table: connector-host's own (`_connector_*`)
/// or, in a warehouse that lands data as Fivetran does, Fivetran's (`_fivetran_*`), so that SQL
/// written against Fivetran's warehouse runs against this one (PROTOCOL.md section 6.3).
public struct SystemColumnNames: Sendable, Equatable {
    /// `connector` or `fivetran`, as recorded in the warehouse.
    public let profile: String
    /// UTC time of the last write to the row.
    public let synced: String
    /// The soft-delete flag.
    public let deleted: String
    /// The row hash of a table without a primary key.
    public let rowID: String
    /// The path of the file a row carries (file uploads).
    public let filePath: String

    private init(profile: String, prefix: String) {
        self.profile = profile
        synced = prefix + "synced"
        deleted = prefix + "deleted"
        rowID = prefix + "id"
        filePath = prefix + "file_path"
    }

    public static let connector = SystemColumnNames(profile: "connector", prefix: systemPrefix)
    public static let fivetran = SystemColumnNames(profile: "fivetran", prefix: "_fivetran_")

    /// The profile recorded under `name`, or `nil`.
    public init?(profile name: String) {
        switch name {
        case "connector": self = .connector
        case "fivetran": self = .fivetran
        default: return nil
        }
    }

    /// Whether `name` is one of these columns (a value sent for one is not stored: the host's wins).
    func contains(_ name: String) -> Bool { name == synced || name == deleted || name == rowID || name == filePath }
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
    /// The SQLite table name: the table's warehouse name, after `<schema>.` for a table of a
    /// destination schema other than the default one (PROTOCOL.md section 6.10).
    let name: String
    /// The destination schema (as named in the warehouse), `nil` for the default one.
    let schema: String?
    let system: SystemColumnNames
    let naming: Naming
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

    /// Column indexes by the source name a connector sends (which naming may map to another column
    /// name), filled once per distinct name; ``ignoredField`` for names whose values are not stored.
    /// Keyed by the name's bytes: a String key would also match a canonically equivalent spelling.
    @exclusivity(unchecked) var indexBySourceName: [[UInt8]: Int] = [:]
    /// For each field position of the last record, the column it named and the key's bytes: the next
    /// record usually names the same columns in the same order, which a byte comparison confirms
    /// without hashing or naming.
    @exclusivity(unchecked) var lastKeyOrder: [Int] = []
    @exclusivity(unchecked) var lastKeyBytes: [[UInt8]] = []

    /// How records of one key shape (``RecordSource/keyShape``) resolve to columns: the column of
    /// each field, and the fields whose column is inferred (whose values may still type or widen it).
    struct ShapePlan {
        let shape: UInt64
        let indexes: [Int]
        let undeclaredPositions: [Int]
        /// Whether the fields name every column of the table (an upsert then rebinds them all).
        let namesEveryColumn: Bool
    }

    /// The plans of the last few key shapes resolved (``DestinationCatalog/resolveColumns(_:_:_:into:hints:)``),
    /// dropped whenever the columns change. Only shapes whose every field is stored in its own column
    /// get one: the resolution of such a shape depends on its keys alone, not on its values.
    @exclusivity(unchecked) private(set) var shapePlans: [ShapePlan] = []
    @exclusivity(unchecked) private var nextShapePlan = 0

    /// Keeps a plan, replacing the oldest of four.
    func keep(_ plan: ShapePlan) {
        if shapePlans.count < 4 {
            shapePlans.append(plan)
        } else {
            shapePlans[nextShapePlan] = plan
            nextShapePlan = (nextShapePlan + 1) % 4
        }
    }

    /// The plan of records of key shape `shape`, if one was kept since the columns last changed.
    @inline(__always)
    func plan(forShape shape: UInt64) -> ShapePlan? {
        guard shape != 0 else { return nil }
        for plan in shapePlans where plan.shape == shape { return plan }
        return nil
    }

    /// The index of a field whose value is dropped: a system column's name (the host's value wins).
    static let ignoredField = -2

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

    init(
        name: String, schema: String? = nil, primaryKey: [String], system: SystemColumnNames = .connector,
        naming: Naming = Naming(strategy: .source)
    ) {
        self.name = name
        self.schema = schema
        self.primaryKey = primaryKey
        self.system = system
        self.naming = naming
    }

    var hasPrimaryKey: Bool { !primaryKey.isEmpty }

    /// Whether column `index` is part of the primary key (any index, beyond the 64 of the mask too).
    @inline(__always)
    func isPrimaryKeyColumn(_ index: Int) -> Bool {
        index < 64 ? primaryKeyMask & (1 << UInt64(index)) != 0 : primaryKeyIndexes.contains(index)
    }
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

    /// The names SQLite gives a row's rowid. A column called one of them (in any letter case) hides
    /// it: the name then means the column.
    static let rowidAliases = ["rowid", "_rowid_", "oid"]

    /// The name that reaches SQLite's rowid in this table's statements: the first of
    /// ``rowidAliases`` that no column is called (the host never lets a table take all three).
    var rowidName: String {
        Self.rowidAliases.first { indexByFoldedName[NameRules.folded($0)] == nil } ?? "rowid"
    }

    /// Why a column called `name` cannot be added (it would hide the last name of the rowid, which
    /// widening and rehashing rewrite rows by), or `nil`.
    func rowidProblem(adding name: String) -> String? {
        let folded = NameRules.folded(name)
        guard Self.rowidAliases.contains(where: { NameRules.folded($0) == folded }),
            Self.rowidAliases.allSatisfy({ NameRules.folded($0) == folded || indexByFoldedName[NameRules.folded($0)] != nil })
        else { return nil }
        return
            "column \(NameRules.quoted(name)) would make rowid, _rowid_ and oid all columns of table \(NameRules.quoted(name == self.name ? name : self.name)), which leaves SQLite no name for its row id (the host rewrites rows by it when a column widens); rename one of the three"
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
        lastKeyBytes.removeAll()
        shapePlans.removeAll()
        nextShapePlan = 0
    }

    /// Finds the column a record key names, trying the previous record's order first; `nil` when the
    /// table has no such column yet, ``ignoredField`` for a field whose value is not stored.
    @inline(__always)
    func columnIndex(forKey key: JSONStringToken, at position: Int, in source: RecordSource) -> Int? {
        let length = key.end - key.start
        if position < lastKeyOrder.count, !key.hasEscapes {
            let known = lastKeyBytes[position]
            if known.count == length,
                known.withUnsafeBufferPointer({ memcmp($0.baseAddress!, source.bytes.baseAddress! + key.start, length) }) == 0
            {
                return lastKeyOrder[position]
            }
        }
        guard let name = try? source.string(key), let index = index(forSourceName: name) else { return nil }
        if position < lastKeyOrder.count {
            lastKeyOrder[position] = index
            lastKeyBytes[position] = key.hasEscapes ? [] : Array(name.utf8)
        } else if position == lastKeyOrder.count, !key.hasEscapes {
            lastKeyOrder.append(index)
            lastKeyBytes.append(Array(name.utf8))
        }
        return index
    }

    /// The column a source name maps to, naming it once per distinct name.
    func index(forSourceName name: String) -> Int? {
        let bytes = Array(name.utf8)
        if let index = indexBySourceName[bytes] { return index }
        let mapped = naming.column(name)
        let index: Int
        if let existing = columnIndex(named: mapped) {
            index = existing
        } else if system.profile == SystemColumnNames.fivetran.profile, system.contains(mapped) {
            index = Self.ignoredField
        } else {
            return nil
        }
        indexBySourceName[bytes] = index
        return index
    }

    // MARK: SQL

    /// `CREATE TABLE` for this table's current columns.
    var createSQL: String { createSQL(named: name) }

    /// `CREATE TABLE` for this table's current columns under another name (a rebuild's copy).
    func createSQL(named tableName: String) -> String {
        var definitions: [String] = []
        if !hasPrimaryKey { definitions.append("\(quoteIdentifier(system.rowID)) TEXT PRIMARY KEY") }
        for column in columns {
            let type = TypeRules.sqlType(column.type)
            definitions.append(type.isEmpty ? quoteIdentifier(column.name) : "\(quoteIdentifier(column.name)) \(type)")
        }
        definitions.append("\(quoteIdentifier(system.synced)) TEXT NOT NULL")
        definitions.append("\(quoteIdentifier(system.deleted)) INTEGER NOT NULL DEFAULT 0")
        if hasPrimaryKey { definitions.append("PRIMARY KEY (\(primaryKey.map(quoteIdentifier).joined(separator: ", ")))") }
        return "CREATE TABLE \(quoteIdentifier(tableName)) (\(definitions.joined(separator: ", ")))"
    }

    /// The system columns this table has, in the order ``columnListSQL`` lists them after the data columns.
    var systemColumnNames: [String] {
        (hasPrimaryKey ? [] : [system.rowID]) + [system.synced, system.deleted]
    }

    /// Every column, data then system, quoted and comma-separated (for copying the table's rows).
    var columnListSQL: String {
        (columns.map(\.name) + systemColumnNames).map(quoteIdentifier).joined(separator: ", ")
    }

    /// Upsert: parameters 1...n are the columns in order, n+1 the synced time, n+2 the row id (no key).
    var upsertSQL: String {
        let names = columns.map { quoteIdentifier($0.name) }
        var insertNames = names + [quoteIdentifier(system.synced), quoteIdentifier(system.deleted)]
        var values = (1...(columns.count + 1)).map { "?\($0)" } + ["0"]
        if !hasPrimaryKey {
            insertNames.append(quoteIdentifier(system.rowID))
            values.append("?\(columns.count + 2)")
        }
        let conflictTarget = hasPrimaryKey ? primaryKey.map(quoteIdentifier) : [quoteIdentifier(system.rowID)]
        let assignments =
            names.map { "\($0) = excluded.\($0)" } + [
                "\(quoteIdentifier(system.synced)) = excluded.\(quoteIdentifier(system.synced))",
                "\(quoteIdentifier(system.deleted)) = 0",
            ]
        return
            "INSERT INTO \(quotedName) (\(insertNames.joined(separator: ", "))) VALUES (\(values.joined(separator: ", "))) "
            + "ON CONFLICT (\(conflictTarget.joined(separator: ", "))) DO UPDATE SET \(assignments.joined(separator: ", "))"
    }

    /// Update of `columnIndexes`: parameters 1...k the columns, k+1 synced, then the key values in key order.
    func updateSQL(columnIndexes: [Int]) -> String {
        let assignments =
            columnIndexes.enumerated().map { "\(quoteIdentifier(columns[$0.element].name)) = ?\($0.offset + 1)" } + [
                "\(quoteIdentifier(system.synced)) = ?\(columnIndexes.count + 1)"
            ]
        return
            "UPDATE \(quotedName) SET \(assignments.joined(separator: ", ")) WHERE \(keyCondition(firstParameter: columnIndexes.count + 2))"
    }

    /// Soft delete: parameter 1 synced, then the key values (or the row id).
    var deleteSQL: String {
        "UPDATE \(quotedName) SET \(quoteIdentifier(system.deleted)) = 1, \(quoteIdentifier(system.synced)) = ?1 WHERE \(keyCondition(firstParameter: 2))"
    }

    /// Truncate: soft-deletes every live row; parameter 1 synced.
    var truncateSQL: String {
        "UPDATE \(quotedName) SET \(quoteIdentifier(system.deleted)) = 1, \(quoteIdentifier(system.synced)) = ?1 WHERE \(quoteIdentifier(system.deleted)) = 0"
    }

    func keyCondition(firstParameter: Int) -> String {
        guard hasPrimaryKey else { return "\(quoteIdentifier(system.rowID)) = ?\(firstParameter)" }
        return primaryKey.enumerated().map { "\(quoteIdentifier($0.element)) = ?\(firstParameter + $0.offset)" }
            .joined(separator: " AND ")
    }
}
