import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `reset --table` did.
package struct TableReset: Sendable {
    /// The table dropped, as the warehouse names it.
    package var table: String
    /// Its rows when it was dropped.
    package var rows: Int
    /// The state key removed (`--state-key`), and the state after.
    package var stateKey: String?
    package var state: String?
}

/// The checks `reset --table` makes on every destination, with their messages.
extension TableReset {
    /// The table among `names` that `name` names (the same bytes, else the same name folded), or a
    /// usage error that suggests the closest one.
    static func table(named name: String, among names: [String], in location: String) throws(SyncFailure) -> String {
        if let table = names.first(where: { NameRules.same($0, name) })
            ?? names.first(where: { NameRules.folded($0) == NameRules.folded(name) })
        {
            return table
        }
        var message = "the warehouse \(location) has no table \(HumanText.quoted(name)), so nothing was changed"
        if let suggestion = NameSuggestions.closest(to: name, among: names) {
            message += "; did you mean \(HumanText.quoted(suggestion))?"
        } else {
            message += names.isEmpty ? " (it has no tables)" : "; it has \(names.map(HumanText.quoted).joined(separator: ", "))"
        }
        throw SyncFailure(.configuration, message, isUsageError: true)
    }

    /// The stored state `stored` without `stateKey` (a dotted path: `cursors.orders`), as JSON text,
    /// or a usage error when there is no state or it has no such key.
    static func state(_ stored: String?, without stateKey: String, in location: String) throws(SyncFailure) -> String {
        guard let stored, let object = (try? JSONParser.parse(stored))?.objectValue else {
            throw SyncFailure(
                .configuration,
                "the warehouse \(location) has no stored state to remove \(HumanText.quoted(stateKey)) from. Nothing was changed",
                isUsageError: true)
        }
        guard let removed = removing(path: stateKey.split(separator: ".", omittingEmptySubsequences: false).map(String.init), from: object)
        else {
            throw SyncFailure(
                .configuration,
                "the state has no key \(HumanText.quoted(stateKey)) (its keys: \(object.keys.map(HumanText.quoted).joined(separator: ", "))); a dotted path names a nested key, e.g. cursors.orders. Nothing was changed",
                isUsageError: true)
        }
        return JSONWriter.string(.object(removed))
    }

    /// `object` without the member at `path` (a dotted path, split), or `nil` when it has none.
    static func removing(path: [String], from object: JSONObject) -> JSONObject? {
        guard let first = path.first, object[first] != nil else { return nil }
        var result = object
        if path.count == 1 {
            result[first] = nil
            return result
        }
        guard let nested = object[first]?.objectValue, let inner = removing(path: Array(path.dropFirst()), from: nested) else { return nil }
        result[first] = .object(inner)
        return result
    }
}

/// `connector-host reset --table T [--state-key KEY]`: drops one table, so that the next run refills it.
extension WorkspaceFiles {
    /// Drops `name`'s table (its rows and the host's metadata of it, columns and types) and, with
    /// `stateKey`, removes that key (a dotted path: `cursors.orders`) from the stored state and from
    /// the state file, in one transaction: the next run creates the table again from the schema and
    /// the connector, finding no cursor for it, fetches it from the start.
    ///
    /// Refuses, changing nothing, while a sync holds the lock, for files that are not the host's own,
    /// for a table the warehouse does not have and for a key the state does not have.
    package func resetTable(_ name: String, stateKey: String?) throws(SyncFailure) -> TableReset {
        let configuration = directory + "/configuration.json"
        let manifest = directory + "/" + ConnectorLauncher.manifestName
        try checkOwnership(
            configuration: SafeFile.kind(of: configuration) == .missing ? nil : configuration,
            manifest: SafeFile.kind(of: manifest) == .missing ? nil : manifest)
        guard case .regular(let size, _, _, _) = SafeFile.kind(of: warehouse), size > 0 else {
            throw SyncFailure(.configuration, "there is no warehouse at \(warehouse) to reset a table of", isUsageError: true)
        }
        try checkIsConnectorHostWarehouse()
        let lock = try WorkspaceLock(path: self.lock, refusal: "cannot reset: another connector-host")
        defer { withExtendedLifetime(lock) {} }
        let database: SQLiteDatabase
        do { database = try SQLiteDatabase(path: warehouse) } catch {
            throw SyncFailure(.warehouse, WarehouseProblem.message(error, path: warehouse, while: "opening it"))
        }
        do {
            try database.beginTransaction(.immediate)
            let names = try database.query(#"SELECT "name" FROM "_connector_tables" ORDER BY "name""#).compactMap { row -> String? in
                if case .text(let text)? = row.first { return text }
                return nil
            }
            // The outer catch rolls back whatever is refused here.
            let table = try TableReset.table(named: name, among: names, in: warehouse)
            var newState: String?
            if let stateKey {
                let stored = try database.query(#"SELECT "state" FROM "_connector_state" WHERE "id" = 1"#).first?.first
                let text: String? = if case .text(let value)? = stored { value } else { nil }
                newState = try TableReset.state(text, without: stateKey, in: warehouse)
            }
            let rows: Int
            if case .integer(let count)? = try database.query("SELECT count(*) FROM \(quoteIdentifier(table))").first?.first {
                rows = Int(count)
            } else {
                rows = 0
            }
            try database.execute("DROP TABLE \(quoteIdentifier(table))")
            try database.run(#"DELETE FROM "_connector_columns" WHERE "table_name" = ?1"#, [.text(table)])
            try database.run(#"DELETE FROM "_connector_tables" WHERE "name" = ?1"#, [.text(table)])
            if let newState {
                // The state file is written (and synced) first: a full disk fails before the commit.
                let prepared = try prepareState(newState)
                do {
                    try database.run(
                        #"UPDATE "_connector_state" SET "state" = ?1, "updated_at" = ?2, "previous_mirror_identity" = CASE WHEN "mirror" = ?3 THEN "mirror_identity" END, "mirror" = ?3, "mirror_identity" = ?4 WHERE "id" = 1"#,
                        [.text(newState), .text(TemporalValues.nowUTC()), .text(state), prepared.identity.map(SQLiteValue.text) ?? .null])
                    try database.commit()
                } catch {
                    prepared.discard()
                    throw error
                }
                try commitState(prepared)
            } else {
                try database.commit()
            }
            return TableReset(table: table, rows: rows, stateKey: stateKey, state: newState)
        } catch let error as SQLiteError {
            try? database.rollback()
            throw SyncFailure(.warehouse, WarehouseProblem.message(error, path: warehouse, while: "dropping the table"))
        } catch let failure as SyncFailure {
            try? database.rollback()
            throw failure
        } catch {
            try? database.rollback()
            throw SyncFailure(.warehouse, "\(error)")
        }
    }
}
