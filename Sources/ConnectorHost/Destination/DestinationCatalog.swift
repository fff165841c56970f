import ConnectorProtocol

/// The tables and columns of a destination, and the rules every destination shares for changing
/// them: what a declared schema does (create, add, type, widen, or refuse), how an operation's fields
/// resolve to columns (creating and widening undeclared ones), the names refused, and the log of
/// schema changes. The destination supplies the storage: the DDL and its metadata rows (the
/// `store...` requirements), in the sync's open transaction.
///
/// The shared rules are this protocol's extension (Warehouse+Schema.swift, Warehouse+Operations.swift).
/// They are called on the concrete destination (``Warehouse``, ``PostgresDestination``), so they are
/// specialised for each: no dynamic dispatch on the record path.
protocol DestinationCatalog: AnyObject {
    /// The tables by name.
    var tables: [String: WarehouseTable] { get set }
    /// Table names by their ASCII-folded form, to catch names that differ only in letter case.
    var tableNamesByFoldedName: [String: String] { get set }
    var counts: OperationCounts { get set }
    /// The destination's number of columns per table, and a phrase naming that limit.
    var tableColumnLimit: Int { get }
    var tableColumnLimitSource: String { get }
    /// Masks secrets in the messages of refused values.
    var redactor: Redactor { get }
    var schemaChangeLog: [String] { get set }
    /// How many entries of ``schemaChangeLog`` are committed (the rest goes if the sync fails).
    var committedSchemaChanges: Int { get set }
    /// Schema changes of this sync that a rollback undid (no longer in ``schemaChangeLog``): the
    /// report counts them instead of listing changes that are not there.
    var rolledBackSchemaChanges: Int { get set }
    var undeclaredTablesCreated: [String] { get set }
    /// How the destination lands data: its naming and system columns (fixed by its first sync).
    var settings: WarehouseSettings { get set }
    /// Tables by the (schema, table) a connector names them with, resolved once per distinct pair.
    var tablesBySource: [SourceTableName: WarehouseTable] { get set }
    /// The first source name that mapped to each table, to notice a second one (a naming collision).
    var sourceNameOfTable: [String: SourceTableName] { get set }
    /// Warnings said already (each is said once).
    var warned: Set<String> { get set }
    /// Where warnings go (the session shows them to the user).
    var warningHandler: (@Sendable (String) -> Void)? { get set }

    /// Creates `table` as the model has it (its columns, keys and system columns) and records it in
    /// the metadata.
    func storeNewTable(_ table: WarehouseTable) throws
    /// Adds the model's last column of `table` to the stored table and the metadata.
    func storeAddedColumn(of table: WarehouseTable) throws
    /// Records column `index` as the model now has it (its type, declared or not), after a change
    /// that needs no stored value converted: a first type, or the same type becoming declared.
    func storeColumnType(of table: WarehouseTable, _ index: Int, previous: ColumnType?) throws
    /// Changes column `index` from `oldType` to the wider `type`, converting its stored values so
    /// they read as the new type, and updates the model (``setColumnType(_:_:_:declared:)``).
    func storeWidening(_ table: WarehouseTable, _ index: Int, from oldType: ColumnType, to type: ColumnType, declared: Bool) throws
    /// Why this destination cannot hold a table or column called `name`, beyond ``NameRules``
    /// (PostgreSQL: at most 63 bytes); `nil` when it can.
    func destinationNameProblem(_ name: String, what: String) -> String?
}

extension DestinationCatalog {
    /// The naming of ``settings``.
    var naming: Naming { Naming(strategy: settings.naming) }

    /// The schema-change bookkeeping of a commit (a checkpoint, the end of the sync): what is logged stays.
    func schemaChangesCommitted() { committedSchemaChanges = schemaChangeLog.count }

    /// The schema-change bookkeeping of a rollback: the changes since the last commit leave the log
    /// and are counted as rolled back.
    func schemaChangesRolledBack() {
        rolledBackSchemaChanges += schemaChangeLog.count - committedSchemaChanges
        schemaChangeLog.removeSubrange(committedSchemaChanges...)
    }

    /// A new sync's log: empty, nothing committed or rolled back.
    func schemaChangesReset() {
        schemaChangeLog = []
        committedSchemaChanges = 0
        rolledBackSchemaChanges = 0
    }
}

/// The column limit, checked before the destination would hit it, so a connector learns which limit
/// and what to send instead (not an error quoting SQL, nor a long list of rolled-back changes).
extension DestinationCatalog {
    /// The connector's columns a table can hold: the destination's limit, less the host's system
    /// columns (2, or 3 without a primary key) and one kept free for widening a column (which adds a
    /// column before it drops the old one).
    func maximumColumns(hasPrimaryKey: Bool) -> Int { tableColumnLimit - (hasPrimaryKey ? 2 : 3) - 1 }

    /// Why a table cannot have `count` of the connector's columns, or `nil`.
    func columnLimitProblem(_ count: Int, hasPrimaryKey: Bool) -> String? {
        let maximum = maximumColumns(hasPrimaryKey: hasPrimaryKey)
        guard count > maximum else { return nil }
        return
            "more than a table can have: \(tableColumnLimitSource), the host adds \(hasPrimaryKey ? 2 : 3) of its own and keeps 1 free for widening, so a table holds at most \(SyncReportFormatter.group(maximum)) of the connector's columns. Send fewer columns, or nest them in a JSON column"
    }
}

extension DestinationCatalog {
    /// What every destination's update does first: refuses a table without a primary key, resolves
    /// the fields to columns (into `columnIndexes`, as ``resolveColumns(_:_:_:into:hints:)``), and
    /// splits them into the columns the update sets and the positions of the key fields.
    /// - Returns: the set columns (column indexes, in the operation's order), and for each primary-key
    ///   column the position of its field (-1 when the operation lacks it, which binding the keys reports).
    @inline(__always)
    func updateColumns(
        _ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?, into columnIndexes: inout [Int]
    ) throws -> (valueColumns: [Int], keyPositions: [Int]) {
        guard table.hasPrimaryKey else {
            throw OperationProblem(
                column: nil,
                reason:
                    "table \"\(table.name)\" has no primary key, so rows cannot be updated by key; use upsert (or declare a primary key)")
        }
        try resolveColumns(table, fields, source, into: &columnIndexes, hints: hints)
        var valueColumns: [Int] = []
        var keyPositions = [Int](repeating: -1, count: table.primaryKeyIndexes.count)
        for (position, index) in columnIndexes.enumerated() where index >= 0 {
            if let keyPosition = table.primaryKeyIndexes.firstIndex(of: index) {
                keyPositions[keyPosition] = position
            } else {
                valueColumns.append(index)
            }
        }
        return (valueColumns, keyPositions)
    }
}
