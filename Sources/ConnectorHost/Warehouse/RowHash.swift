import ConnectorProtocol

/// A value as the row hash of a table without primary key sees it: its SQLite storage class and
/// bytes, as stored. Two values stored alike hash alike however they were sent: `1` and `"1"` in a
/// STRING column are both the text `1`; `2024-05-01T12:00:00+05:30` and `...06:30:00Z` in a
/// UTC_DATETIME column are both `2024-05-01T06:30:00Z`.
struct CanonicalValue: BindingTarget {
    /// A tag (`i`, `r`, `t`, `b`) and the value's bytes; empty for NULL (left out of the hash).
    private(set) var bytes: [UInt8] = []

    init() {}

    /// The canonical form of a value read back from the table.
    init(stored value: SQLiteValue) {
        switch value {
        case .null: bindNull()
        case .integer(let number): bind(number)
        case .real(let number): bind(number)
        case .text(let text): bind(text)
        case .blob(let data): data.withUnsafeBytes { bindBlob(copying: $0) }
        }
    }

    mutating func bindNull() { bytes = [] }
    mutating func bind(_ value: Int64) { bytes = [UInt8(ascii: "i")] + Array(String(value).utf8) }
    mutating func bind(_ value: Double) {
        // SQLite may store an integral REAL as an integer in the record and give back +0.0 for -0.0.
        var pattern = (value == 0 ? 0.0 : value).bitPattern
        bytes = [UInt8(ascii: "r")]
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: pattern))
            pattern >>= 8
        }
    }
    mutating func bind(_ value: String) { bytes = [UInt8(ascii: "t")] + Array(value.utf8) }
    mutating func bindText(borrowing text: UnsafeBufferPointer<UInt8>) { bytes = [UInt8(ascii: "t")] + Array(text) }
    mutating func bindBlob(copying data: UnsafeRawBufferPointer) { bytes = [UInt8(ascii: "b")] + Array(data) }

    var isNull: Bool { bytes.isEmpty }
}

/// A statement's parameter that also keeps the value's canonical form, for the row hash.
struct HashedParameter: BindingTarget {
    var parameter: StatementParameter<SQLiteStatement>
    var canonical = CanonicalValue()

    init(_ parameter: StatementParameter<SQLiteStatement>) { self.parameter = parameter }

    mutating func bindNull() {
        parameter.bindNull()
        canonical.bindNull()
    }
    mutating func bind(_ value: Int64) {
        parameter.bind(value)
        canonical.bind(value)
    }
    mutating func bind(_ value: Double) {
        parameter.bind(value)
        canonical.bind(value)
    }
    mutating func bindBoolean(_ value: Bool) {
        parameter.bindBoolean(value)
        canonical.bindBoolean(value)
    }
    mutating func bind(_ value: String) {
        parameter.bind(value)
        canonical.bind(value)
    }
    mutating func bindText(borrowing bytes: UnsafeBufferPointer<UInt8>) {
        parameter.bindText(borrowing: bytes)
        canonical.bindText(borrowing: bytes)
    }
    mutating func bindBlob(copying bytes: UnsafeRawBufferPointer) {
        parameter.bindBlob(copying: bytes)
        canonical.bindBlob(copying: bytes)
    }
}

/// The row id of a table without primary key: a stable hash of its non-null columns, each as its
/// name (bytes) and its stored value (``CanonicalValue``), in byte order of the names. Identical
/// rows collapse into one; a row reads the same hash from the table as from the operation that
/// wrote it, so widening a column (which changes stored values) rehashes the table
/// (``Warehouse/rehashRows(of:)``).
enum RowHash {
    /// The version of the rule, kept in the warehouse's `PRAGMA user_version` (rows of older
    /// warehouses, hashed over the values as sent, are rehashed once).
    static let version: Int64 = 2

    static func of(_ entries: [(name: [UInt8], value: CanonicalValue)]) -> String {
        var hasher = StableHasher()
        for entry in entries.sorted(by: { $0.name.lexicographicallyPrecedes($1.name) }) where !entry.value.isNull {
            hasher.combine(bytes: entry.name)
            hasher.combine(bytes: entry.value.bytes)
        }
        return hasher.hexDigest
    }
}

extension Warehouse {
    /// Recomputes `_connector_id` of every row of a table without primary key from its stored
    /// values (after a widening changed them, or for a warehouse hashed by an older rule). Rows that
    /// become identical collapse into the most recently written one (the latest `_connector_synced`,
    /// then the latest insert), as an upsert of the same row would have.
    func rehashRows(of table: WarehouseTable) throws(SQLiteError) {
        // Fivetran's ids are over the values as sent, not as stored: a widening keeps them.
        guard !table.hasPrimaryKey, table.system != .fivetran else { return }
        let columns = table.columns.map { quoteIdentifier($0.name) }.joined(separator: ", ")
        // A column may be called rowid (or _rowid_, oid): the name that still means the row id.
        let rowid = table.rowidName
        let rows = try database.query(
            "SELECT \(rowid), \(quoteIdentifier(table.system.synced))\(columns.isEmpty ? "" : ", " + columns) FROM \(table.quotedName)")
        var keep: [String: (rowid: Int64, synced: String)] = [:]
        var hashes: [(rowid: Int64, hash: String)] = []
        var drop: [Int64] = []
        for row in rows {
            guard case .integer(let rowid) = row[0] else { continue }
            let synced = row[1].text ?? ""
            let hash = RowHash.of(table.columns.enumerated().map { ($1.nameBytes, CanonicalValue(stored: row[$0 + 2])) })
            if let kept = keep[hash] {
                if (synced, rowid) > (kept.synced, kept.rowid) {
                    drop.append(kept.rowid)
                    keep[hash] = (rowid, synced)
                } else {
                    drop.append(rowid)
                }
            } else {
                keep[hash] = (rowid, synced)
            }
            hashes.append((rowid, hash))
        }
        let delete = try database.prepare("DELETE FROM \(table.quotedName) WHERE \(rowid) = ?1")
        for rowid in drop {
            try delete.bind([.integer(rowid)])
            try delete.execute()
        }
        // Through ids no hash can be ('#' and the rowid), so no row takes another's old id on the way.
        try database.execute("UPDATE \(table.quotedName) SET \(quoteIdentifier(table.system.rowID)) = '#' || \(rowid)")
        let update = try database.prepare("UPDATE \(table.quotedName) SET \(quoteIdentifier(table.system.rowID)) = ?1 WHERE \(rowid) = ?2")
        let dropped = Set(drop)
        for (rowid, hash) in hashes where !dropped.contains(rowid) {
            try update.bind([.text(hash), .integer(rowid)])
            try update.execute()
        }
    }

    /// Rehashes the tables without primary key of a warehouse whose rows were hashed by an older
    /// rule, inside the sync's transaction (so a failed sync leaves the old ids, rehashed next time).
    func upgradeRowHashes() throws(SQLiteError) {
        guard case .integer(let version)? = try database.query("PRAGMA user_version").first?.first, version < RowHash.version
        else { return }
        for table in tables.values where !table.hasPrimaryKey { try rehashRows(of: table) }
        try database.execute("PRAGMA user_version = \(RowHash.version)")
    }
}
