import BenchWorkload
import ConnectorHost
import ConnectorProtocol

/// The PostgreSQL floor and the bulk-load methods it was measured against.
///
///     connector-host-bench pg-load --rows N --destination URL --schema S [--method M] [--batch B]
///
/// Every method loads rows 1...N of workload W into `S.items` (dropped and created first, with the
/// warehouse's column types and system columns) in one transaction with a COMMIT every 100,000
/// rows (as the bench connector checkpoints), and prints {"method","rows","seconds","rowsPerSecond"}.
/// The rows are generated before the clock starts, as COPY text (or as parameter strings for the
/// INSERT methods), so the figure is libpq and the server.
///
///   copy          COPY straight into the table: the floor (nothing a sync does can be cheaper)
///   copy-merge    COPY B rows into a temporary staging table, then INSERT ... SELECT ... ON CONFLICT
///                 DO UPDATE into the table (what an upsert needs: rows may already exist)
///   insert-multi  prepared INSERT of B rows per statement (B x 12 parameters) ... ON CONFLICT DO UPDATE
///   insert-one    prepared single-row INSERT ... ON CONFLICT DO UPDATE, for reference
enum PostgresLoad {
    static let commitEvery = 100_000

    static func run(rows: Int, destination: String, schema: String, method: String, batch: Int) throws {
        let connection = try PostgresConnection(address: try PostgresAddress(destination), applicationName: "connector-host-bench")
        let table = quoteIdentifier(schema) + "." + quoteIdentifier(BenchVariant.table)
        let columns = BenchVariant.wColumns.map(\.name) + ["_connector_synced", "_connector_deleted"]
        let quotedColumns = columns.map(quoteIdentifier).joined(separator: ", ")
        let definitions = BenchVariant.wColumns.map { column -> String in
            let type =
                switch column.type {
                case .long: "bigint"
                case .string: "text"
                case .double: "double precision"
                case .boolean: "boolean"
                case .utcDateTime: "timestamptz"
                }
            return quoteIdentifier(column.name) + " " + type
        }
        try connection.execute(
            """
            SET client_min_messages = warning;
            DROP SCHEMA IF EXISTS \(quoteIdentifier(schema)) CASCADE;
            CREATE SCHEMA \(quoteIdentifier(schema));
            CREATE TABLE \(table) (\(definitions.joined(separator: ", ")), "_connector_synced" timestamptz NOT NULL,
                "_connector_deleted" boolean NOT NULL DEFAULT false, PRIMARY KEY ("id"));
            """)
        let updates = columns.dropFirst().map { "\(quoteIdentifier($0)) = excluded.\(quoteIdentifier($0))" }.joined(separator: ", ")
        let conflict = "ON CONFLICT (\"id\") DO UPDATE SET \(updates)"

        // Rows before the clock: COPY text per batch, or parameter strings per row.
        var generator = WorkloadW()
        let synced = "2024-01-01T00:00:00.000Z"
        var copyBatches: [[UInt8]] = []
        var parameterRows: [[String?]] = []
        var buffer = PostgresCopyBuffer()
        let perBatch = method == "copy" ? commitEvery : batch
        for index in 0..<rows {
            let row = generator.next()
            if method.hasPrefix("copy") {
                buffer.appendInteger(row.id)
                buffer.appendText(row.name)
                buffer.appendText(row.email)
                buffer.appendDouble(row.amount)
                buffer.appendInteger(row.count)
                buffer.appendPlain(row.active ? "t" : "f")
                buffer.appendText(row.createdAt)
                buffer.appendText(row.category)
                buffer.appendDouble(row.score)
                buffer.appendText(row.note)
                buffer.appendText(synced)
                buffer.appendPlain("f")
                buffer.endRow()
                if (index + 1) % perBatch == 0 || index + 1 == rows {
                    copyBatches.append(buffer.bytes)
                    buffer.removeAll()
                }
            } else {
                parameterRows.append([
                    String(row.id), row.name, row.email, row.amount.description, String(row.count), row.active ? "t" : "f",
                    row.createdAt, row.category, row.score.description, row.note, synced, "f",
                ])
            }
        }

        let started = HostBench.monotonicSeconds()
        try connection.execute("BEGIN")
        var loaded = 0
        func commitIfDue() throws {
            if loaded % commitEvery == 0 || loaded == rows { try connection.execute("COMMIT; BEGIN") }
        }
        switch method {
        case "copy":
            for bytes in copyBatches {
                try connection.beginCopy("COPY \(table) (\(quotedColumns)) FROM STDIN")
                try bytes.withUnsafeBytes { try connection.putCopyData($0) }
                loaded += try connection.endCopy()
                try commitIfDue()
            }
        case "copy-savepoint":
            for bytes in copyBatches {
                try connection.execute("SAVEPOINT \"batch\"")
                try connection.beginCopy("COPY \(table) (\(quotedColumns)) FROM STDIN")
                try bytes.withUnsafeBytes { try connection.putCopyData($0) }
                loaded += try connection.endCopy()
                try connection.execute("RELEASE SAVEPOINT \"batch\"")
                try commitIfDue()
            }
        case "copy-merge":
            try connection.execute(
                "CREATE TEMPORARY TABLE \"_connector_staging\" (LIKE \(table) INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
            for bytes in copyBatches {
                try connection.beginCopy("COPY \"_connector_staging\" (\(quotedColumns)) FROM STDIN")
                try bytes.withUnsafeBytes { try connection.putCopyData($0) }
                try connection.endCopy()
                loaded += try connection.run(
                    "INSERT INTO \(table) (\(quotedColumns)) SELECT \(quotedColumns) FROM \"_connector_staging\" \(conflict)")
                try connection.execute("TRUNCATE \"_connector_staging\"")
                try commitIfDue()
            }
        case "insert-multi", "insert-one":
            let perStatement = method == "insert-one" ? 1 : batch
            func prepare(_ name: String, _ count: Int) throws {
                let values = (0..<count).map { row in
                    "(" + (1...columns.count).map { "$\(row * columns.count + $0)" }.joined(separator: ", ") + ")"
                }
                try connection.prepare(name, "INSERT INTO \(table) (\(quotedColumns)) VALUES \(values.joined(separator: ", ")) \(conflict)")
            }
            try prepare("batch", perStatement)
            var index = 0
            while index < rows {
                let count = min(perStatement, rows - index, commitEvery - loaded % commitEvery)
                if count != perStatement { try prepare("rest\(index)", count) }
                let parameters = parameterRows[index..<index + count].flatMap { $0 }
                loaded += try connection.runPrepared(count == perStatement ? "batch" : "rest\(index)", parameters)
                index += count
                try commitIfDue()
            }
        default:
            throw LoadFailure("unknown method \(method); use copy, copy-merge, insert-multi or insert-one")
        }
        try connection.execute("COMMIT")
        let seconds = HostBench.monotonicSeconds() - started
        guard loaded == rows, try connection.scalar("SELECT count(*) FROM \(table)") == String(rows) else {
            throw LoadFailure("loaded \(loaded) of \(rows) rows")
        }
        print(#"{"method":"\#(method)","rows":\#(rows),"seconds":\#(seconds),"rowsPerSecond":\#(Double(rows) / seconds)}"#)
    }
}

struct LoadFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
