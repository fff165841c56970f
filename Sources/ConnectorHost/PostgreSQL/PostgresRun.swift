import ConnectorProtocol

/// Operations of one table and one kind (and, for updates, one set of columns) waiting to be sent
/// to PostgreSQL in bulk, as COPY rows in one buffer.
///
/// A run ends (is flushed) when an operation of another table or kind comes, before anything that
/// must see its rows (DDL, truncate, a checkpoint), when it is full, and, for updates and deletes,
/// when a key comes a second time: those keep their order by going into the next run. An upsert of
/// a key already in the run replaces the earlier row (an upsert replaces the whole row), so the
/// run holds each key once, as `INSERT ... ON CONFLICT` requires.
struct PostgresRun {
    enum Kind: Equatable {
        case upsert, update, delete
    }

    /// `nil` when the run is empty.
    var table: WarehouseTable?
    var kind = Kind.upsert
    /// The columns an update sets (column indexes, in the operations' order).
    var valueColumns: [Int] = []
    /// Per parameter (1-based: column i is parameter i + 1, then synced and the row id): the type.
    var types: [DataType?] = []
    /// The table's columns when the run started: its rows hold these (a column added later, which
    /// sends the run first, is not in them).
    var columnNames: [String] = []
    var buffer = PostgresCopyBuffer(capacity: 1 << 20)
    /// Where each row starts in the buffer.
    var rowStarts: [Int] = []
    /// Whether each row is still to be sent (a later upsert of the same key replaces it).
    var live: [Bool] = []
    var liveCount = 0
    /// The row of each key (its encoded key columns).
    var rowsByKey: [[UInt8]: Int] = [:]
    /// The key of the row being added.
    var key: [UInt8] = []
    /// How much of the buffer an upsert run has sent already, by a COPY into the table that stays
    /// open while the run is read (``PostgresDestination``): the server stores rows while the host
    /// reads the next ones. Only whole rows, and only while no row of the run was replaced.
    var streamedBytes = 0
    /// Whether that COPY is open now.
    var streaming = false

    /// Flush when the buffer holds this much (bounded memory; large enough for COPY to pay off).
    static let byteLimit = 4 << 20
    static let rowLimit = 20_000
    /// Stream a new upsert run's rows once this much is waiting (large enough for few calls, small
    /// enough for the server to start early).
    static let streamChunk = 256 << 10

    var count: Int { rowStarts.count }
    var isFull: Bool { buffer.bytes.count >= Self.byteLimit || rowStarts.count >= Self.rowLimit }

    /// Whether `table` and `kind` (and `valueColumns`) continue this run.
    @inline(__always)
    func continues(_ table: WarehouseTable, _ kind: Kind, _ valueColumns: [Int] = []) -> Bool {
        self.table === table && self.kind == kind && (kind != .update || self.valueColumns == valueColumns)
    }

    mutating func start(_ table: WarehouseTable, _ kind: Kind, valueColumns: [Int] = []) {
        removeAll()
        self.table = table
        self.kind = kind
        self.valueColumns = valueColumns
        types = [nil] + table.columns.map { $0.type?.dataType } + [nil, nil]
        columnNames = table.columns.map(\.name)
    }

    mutating func removeAll() {
        table = nil
        valueColumns = []
        buffer.removeAll()
        rowStarts.removeAll(keepingCapacity: true)
        live.removeAll(keepingCapacity: true)
        liveCount = 0
        rowsByKey.removeAll(keepingCapacity: true)
        streamedBytes = 0
        streaming = false
    }

    /// Records that the row about to be appended has ``key``; for an upsert, an earlier row of the
    /// same key stops being live.
    /// - Returns: `false` when the key is already in this update or delete run (flush first).
    @inline(__always)
    mutating func admitKey() -> Bool {
        if let earlier = rowsByKey[key] {
            guard kind == .upsert else { return false }
            live[earlier] = false
            liveCount -= 1
        }
        rowsByKey[key] = rowStarts.count
        return true
    }

    /// Marks the start of a row in the buffer.
    @inline(__always)
    mutating func beginRow() {
        rowStarts.append(buffer.bytes.count)
        live.append(true)
        liveCount += 1
    }

    /// Whether every row of the run is live (none was replaced by a later upsert of its key).
    var allLive: Bool { liveCount == rowStarts.count }

    /// The live rows from byte `offset` (a row start) on, as byte ranges of the buffer (the rest of
    /// the buffer when all are live).
    func liveRanges(from offset: Int = 0) -> [Range<Int>] {
        if liveCount == rowStarts.count { return offset < buffer.bytes.count ? [offset..<buffer.bytes.count] : [] }
        var ranges: [Range<Int>] = []
        var start: Int?
        for row in rowStarts.indices where rowStarts[row] >= offset {
            if live[row] {
                if start == nil { start = rowStarts[row] }
            } else if let open = start {
                ranges.append(open..<rowStarts[row])
                start = nil
            }
        }
        if let open = start { ranges.append(open..<buffer.bytes.count) }
        return ranges
    }
}
