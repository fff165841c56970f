import ConnectorProtocol

/// The tables a `run --tables` sync keeps: the declared tables the names on the command line matched.
struct TableSelection {
    /// The selected tables, in the order the schema declares them.
    let tables: [TableIdentity]

    /// Matches each name against the declared tables: a table's name as the connector declares it
    /// (`orders`, or `sales.orders` for a table of a named schema), or as the warehouse names it
    /// (under Fivetran naming, `created_at` for `createdAt`).
    /// - Throws: a usage failure for a name that matches no declared table, with the closest
    ///   declared name as a suggestion.
    static func resolve(_ names: [String], declared: [TableDefinition], naming: Naming) throws(SyncFailure) -> TableSelection {
        func aliases(_ table: TableDefinition) -> [String] {
            let source = table.schema.map { "\($0).\(table.name)" } ?? table.name
            let warehouse = table.schema.map { "\(naming.schema($0)).\(naming.table(table.name))" } ?? naming.table(table.name)
            return table.schema == nil ? [source, warehouse] : [source, warehouse, table.name]
        }
        var chosen = Set<Int>()
        for name in names {
            let matches = declared.indices.filter { aliases(declared[$0]).contains(where: { NameRules.same($0, name) }) }
            guard !matches.isEmpty else {
                let shown = declared.map { TableIdentity(table: $0.name, schema: $0.schema).shown }
                var message = "no table \(HumanText.quoted(name)) in the connector's schema"
                if let suggestion = NameSuggestions.closest(to: name, among: shown + declared.map { naming.table($0.name) }) {
                    message += "; did you mean \(HumanText.quoted(suggestion))?"
                } else if shown.isEmpty {
                    message += "; it declares no tables"
                } else {
                    message += "; it declares \(shown.map(HumanText.quoted).joined(separator: ", "))"
                }
                throw SyncFailure(.configuration, message, details: ["table": name], isUsageError: true)
            }
            chosen.formUnion(matches)
        }
        return TableSelection(tables: chosen.sorted().map { TableIdentity(table: declared[$0].name, schema: declared[$0].schema) })
    }

    /// The identities as the applier compares them with an operation's `table` and `schema`.
    var sourceNames: Set<SourceTableName> { Set(tables.map { SourceTableName(schema: $0.schema, name: $0.table) }) }
}
