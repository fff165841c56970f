import ConnectorProtocol

/// How a warehouse lands data: its naming and its system columns. Fixed by the warehouse's first
/// sync and recorded in `_connector_settings`, so later syncs keep them (as Fivetran keeps a
/// connection's naming); PROTOCOL.md sections 6.3 and 6.9.
public struct WarehouseSettings: Sendable, Equatable {
    public var naming: NamingStrategy
    public var systemColumns: SystemColumnNames
    /// How strings type undeclared columns; `string` for a warehouse made before it was recorded.
    public var stringTyping: StringTyping

    public init(naming: NamingStrategy, systemColumns: SystemColumnNames, stringTyping: StringTyping = .string) {
        self.naming = naming
        self.systemColumns = systemColumns
        self.stringTyping = stringTyping
    }

    /// What a warehouse made before settings were recorded has: names as sent, `_connector_*` columns.
    public static let legacy = WarehouseSettings(naming: .source, systemColumns: .connector)

    /// The settings a new warehouse gets. A Fivetran connector (a folder with `connector.py`) lands as
    /// `fivetran debug` lands it: Fivetran's naming unless `requested` says otherwise, and Fivetran's
    /// system columns whatever the naming (as `fivetran debug --naming SOURCE` keeps them). Any other
    /// connector keeps its names and connector-host's columns, unless `--naming fivetran` asks for
    /// Fivetran's warehouse.
    /// Strings type columns as Fivetran's do for a Fivetran connector, unless `strings` says otherwise.
    public static func forNewWarehouse(requested: NamingStrategy?, fivetranConnector: Bool, strings: StringTyping? = nil)
        -> WarehouseSettings
    {
        let naming = requested ?? (fivetranConnector ? .fivetran : .source)
        return WarehouseSettings(
            naming: naming, systemColumns: fivetranConnector || naming == .fivetran ? .fivetran : .connector,
            stringTyping: strings ?? (fivetranConnector ? .fivetran : .string))
    }

    /// The settings recorded as `_connector_settings` rows, or `nil` when they are not complete
    /// (a destination made before they existed). `string_types` is absent from older ones: `string`.
    init?(recorded values: [String: String]) {
        guard let namingName = values["naming"], let naming = NamingStrategy(rawValue: namingName),
            let profile = values["system_columns"], let systemColumns = SystemColumnNames(profile: profile)
        else { return nil }
        let strings = values["string_types"].flatMap(StringTyping.init(rawValue:)) ?? .string
        self.init(naming: naming, systemColumns: systemColumns, stringTyping: strings)
    }

    /// The `_connector_settings` rows of these settings.
    var recorded: [(key: String, value: String)] {
        [("naming", naming.rawValue), ("system_columns", systemColumns.profile), ("string_types", stringTyping.rawValue)]
    }

    /// What a sync lands data with, for every destination: the `stored` settings when there are, else
    /// new ones (`isNew`: no table and no state yet) or the legacy ones, with the warnings for what
    /// was asked and is not kept.
    /// - Returns: the settings, whether they must be recorded (they were not), and the warnings.
    static func settle(
        stored: WarehouseSettings?, isNew: Bool, naming requested: NamingStrategy?, fivetranConnector: Bool, strings: StringTyping?
    ) -> (settings: WarehouseSettings, record: Bool, warnings: [String]) {
        if let stored {
            var warnings: [String] = []
            if let requested, requested != stored.naming {
                warnings.append(
                    "warning: --naming \(requested.rawValue) is ignored: this warehouse keeps the naming of its first sync (\(stored.naming.rawValue)); run `connector-host reset` to start over with another"
                )
            }
            if let strings, strings != stored.stringTyping {
                warnings.append(
                    "warning: --string-types \(strings.rawValue) is ignored: this warehouse keeps the string typing of its first sync (\(stored.stringTyping.rawValue)); run `connector-host reset` to start over with another"
                )
            }
            return (stored, false, warnings)
        }
        let chosen = isNew ? forNewWarehouse(requested: requested, fivetranConnector: fivetranConnector, strings: strings) : .legacy
        var warnings: [String] = []
        if !isNew, let requested, requested != chosen.naming {
            warnings.append(
                "warning: --naming \(requested.rawValue) is ignored: this warehouse was made before the naming was recorded and keeps names as sent; run `connector-host reset` to start over with \(requested.rawValue) naming"
            )
        }
        if !isNew, let strings, strings != chosen.stringTyping {
            warnings.append(
                "warning: --string-types \(strings.rawValue) is ignored: this warehouse was made before the string typing was recorded and keeps every string STRING; run `connector-host reset` to start over with \(strings.rawValue) string typing"
            )
        }
        return (chosen, true, warnings)
    }

    /// The recorded settings, or `nil` when the warehouse has none (new, or made before they existed).
    static func stored(in database: SQLiteDatabase) throws(SQLiteError) -> WarehouseSettings? {
        let exists = try database.query(#"SELECT 1 FROM "sqlite_master" WHERE "type" = 'table' AND "name" = '_connector_settings'"#)
        guard !exists.isEmpty else { return nil }
        var values: [String: String] = [:]
        for row in try database.query(#"SELECT "key", "value" FROM "_connector_settings""#) {
            if case .text(let key) = row[0], case .text(let value) = row[1] { values[key] = value }
        }
        return WarehouseSettings(recorded: values)
    }

    func save(in database: SQLiteDatabase) throws(SQLiteError) {
        for (key, value) in recorded {
            try database.run(
                #"INSERT INTO "_connector_settings" ("key", "value") VALUES (?1, ?2) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value""#,
                [.text(key), .text(value)])
        }
    }
}

extension Warehouse {
    /// Fixes how this warehouse lands data on its first sync and records it, in the sync's
    /// transaction (``beginSync(connector:)`` opened it); later syncs keep what is recorded. A
    /// warehouse made before settings existed keeps names as sent and `_connector_*` columns.
    /// - Returns: a warning for the user when what is asked is not what the warehouse keeps.
    public func settle(naming requested: NamingStrategy?, fivetranConnector: Bool, strings: StringTyping?) throws(SQLiteError)
        -> String?
    {
        let stored = try WarehouseSettings.stored(in: database)
        var isNew = false
        if stored == nil, tables.isEmpty { isNew = try storedState() == nil }
        let settled = WarehouseSettings.settle(
            stored: stored, isNew: isNew, naming: requested, fivetranConnector: fivetranConnector, strings: strings)
        if settled.record { try settled.settings.save(in: database) }
        settings = settled.settings
        return settled.warnings.isEmpty ? nil : settled.warnings.joined(separator: "\n")
    }
}
