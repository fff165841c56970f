import ConnectorProtocol

/// Files on PostgreSQL (PROTOCOL.md 6.11).
extension PostgresDestination {
    func prepareFileStaging() throws(SyncFailure) -> String? { nil }

    func fileProblem(path: String, source: String, size: Int64?) -> String? {
        "a PostgreSQL destination does not store files yet; run without --destination to store them in files/storage"
    }

    func apply(
        _ kind: OperationKind, _ table: WarehouseTable, _ fields: [Field], _ source: RecordSource, hints: [String: ColumnType]?,
        file: FileAttachment, sourceTable: String, sourceSchema: String?
    ) throws {
        throw OperationProblem(column: nil, reason: fileProblem(path: file.path, source: file.source, size: nil) ?? "")
    }
}
