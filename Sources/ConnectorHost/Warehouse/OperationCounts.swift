/// Counts of what a sync did, shown in the final table and kept in the sync history.
public struct OperationCounts: Sendable, Equatable {
    public var upserts = 0
    public var updates = 0
    public var deletes = 0
    public var truncates = 0
    public var checkpoints = 0
    public var schemaChanges = 0
    /// Updates that matched no row (counted, not errors).
    public var noopUpdates = 0
    /// Deletes that matched no row (counted, not errors).
    public var noopDeletes = 0
    /// Files stored with their rows (`file` on upsert and update).
    public var fileUploads = 0
    /// `warning` notifications from the connector.
    public var warnings = 0

    public init() {}

    /// Operations that carry rows (upserts, updates, deletes).
    public var rowOperations: Int { upserts + updates + deletes }
}
