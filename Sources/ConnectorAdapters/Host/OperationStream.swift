import ConnectorProtocol

/// What a driver sends to the host while `update` runs: operations in `records` batches,
/// checkpoints, logs.
///
/// Operations are batched as the SDKs batch them (PROTOCOL.md section 7): a `records` message holds
/// up to 1000 operations or about 1 MiB, and the batch is flushed before every checkpoint and log
/// (so the host sees everything in the source's order) and at the end. A row's `data` is copied
/// from the source's line as it is, never parsed into a tree. Owned by the update's thread.
final class OperationStream {
    static let batchOperationLimit = 1000
    static let batchByteLimit = 1 << 20

    let connection: HostConnection
    private var batch: [UInt8] = []
    private var batchCount = 0
    /// The checkpoints acknowledged so far in this update.
    private(set) var checkpoints = 0
    /// Rows sent so far in this update.
    private(set) var rows = 0

    init(connection: HostConnection) {
        self.connection = connection
        batch.reserveCapacity(Self.batchByteLimit + (1 << 16))
    }

    private static let batchPrefix = Array(#"{"jsonrpc":"2.0","method":"records","params":{"ops":["#.utf8)
    private static let batchSuffix = Array("]}}\n".utf8)

    /// Appends an upsert whose `data` is the JSON object `data` (raw bytes, already validated).
    /// - Parameter table: the table name as a JSON string literal, quotes included.
    func upsert(table: [UInt8], data: UnsafeBufferPointer<UInt8>) throws(AdapterError) {
        beginOperation()
        JSONWriter.appendASCII(#"{"op":"upsert","table":"#, to: &batch)
        batch.append(contentsOf: table)
        JSONWriter.appendASCII(#","data":"#, to: &batch)
        batch.append(contentsOf: data)
        batch.append(UInt8(ascii: "}"))
        rows += 1
        try endOperation()
    }

    /// Appends an upsert whose `data` is written by `body` (a row the adapter had to change).
    func upsert(table: [UInt8], writingData body: (inout [UInt8]) -> Void) throws(AdapterError) {
        beginOperation()
        JSONWriter.appendASCII(#"{"op":"upsert","table":"#, to: &batch)
        batch.append(contentsOf: table)
        JSONWriter.appendASCII(#","data":"#, to: &batch)
        body(&batch)
        batch.append(UInt8(ascii: "}"))
        rows += 1
        try endOperation()
    }

    /// Appends a truncate of `table`: every row written before it is soft-deleted.
    func truncate(table: String) throws(AdapterError) {
        beginOperation()
        JSONWriter.appendASCII(#"{"op":"truncate","table":"#, to: &batch)
        JSONWriter.appendString(table, to: &batch)
        batch.append(UInt8(ascii: "}"))
        try endOperation()
    }

    /// Flushes, then commits `state` with everything sent before it; returns once the host has.
    func checkpoint(_ state: JSONValue) throws(AdapterError) {
        try flush()
        try connection.checkpoint(state)
        checkpoints += 1
    }

    /// Flushes, then sends a log message.
    func log(_ level: LogLevel, _ message: String) throws(AdapterError) {
        try flush()
        try connection.log(level, message)
    }

    /// Sends the pending batch, if any.
    func flush() throws(AdapterError) {
        guard batchCount > 0 else { return }
        batch.append(contentsOf: Self.batchSuffix)
        batchCount = 0
        defer { batch.removeAll(keepingCapacity: true) }
        try connection.sendBytes(batch)
    }

    /// Drops the pending batch (the update failed: the host rolls back anyway).
    func discard() {
        batch.removeAll(keepingCapacity: true)
        batchCount = 0
    }

    @inline(__always)
    private func beginOperation() {
        if batchCount == 0 {
            batch.append(contentsOf: Self.batchPrefix)
        } else {
            batch.append(UInt8(ascii: ","))
        }
    }

    @inline(__always)
    private func endOperation() throws(AdapterError) {
        batchCount += 1
        if batchCount >= Self.batchOperationLimit || batch.count >= Self.batchByteLimit { try flush() }
    }
}
