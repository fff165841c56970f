import BenchWorkload
import ConnectorHost
import ConnectorProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `connector-host-bench`: the in-process parts of the benchmark that `bench/run` drives.
///
///     connector-host-bench floor --rows N [--variant V] --warehouse FILE
///         inserts rows 1...N of the variant through the warehouse's own upsert statement in one
///         transaction, without the protocol, and prints {"rows","seconds","rowsPerSecond","maxRSSKiB"}
///     connector-host-bench workload [N]
///         prints rows 1...N of workload W as compact JSON lines (checked against the C reference
///         by bench/workload/check_ports.sh)
enum HostBench {
    static func main() -> Int32 {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty else { return usage() }
        let command = arguments.removeFirst()
        var options: [String: String] = [:]
        var positional: [String] = []
        while !arguments.isEmpty {
            let argument = arguments.removeFirst()
            if argument.hasPrefix("--"), !arguments.isEmpty {
                options[String(argument.dropFirst(2))] = arguments.removeFirst()
            } else {
                positional.append(argument)
            }
        }
        switch command {
        case "floor":
            guard let rows = options["rows"].flatMap({ Int($0) }), let path = options["warehouse"],
                let variant = BenchVariant(rawValue: options["variant"] ?? "w")
            else { return usage() }
            do {
                try floor(rows: rows, variant: variant, path: path)
                return 0
            } catch {
                writeError("connector-host-bench: floor failed: \(error)\n")
                return 1
            }
        case "workload":
            printWorkload(rows: positional.first.flatMap { Int($0) } ?? 1_000_000)
            return 0
        default:
            return usage()
        }
    }

    static func usage() -> Int32 {
        writeError(
            "usage: connector-host-bench floor --rows N [--variant w|wide100|kib-strings] --warehouse FILE\n"
                + "       connector-host-bench workload [N]\n")
        return 2
    }

    /// The floor: the warehouse's statement path with no protocol, one prepared statement, one transaction.
    static func floor(rows: Int, variant: BenchVariant, path: String) throws {
        let started = monotonicSeconds()
        let warehouse = try Warehouse(path: path)
        let columns = variant.columns.map { ($0.name, ColumnType(DataType(rawValue: $0.type.rawValue)!)) }
        let syncID = try warehouse.beginSync(connector: "floor")
        try warehouse.apply(schema: [TableDefinition(name: BenchVariant.table, primaryKey: ["id"], columns: columns)])
        let upsert = try warehouse.benchmarkUpsert(table: BenchVariant.table)
        precondition(upsert.columns == variant.columns.map(\.name), "the table's columns differ from the variant's")
        var binder = StatementBinder(statement: upsert.statement)
        defer { binder.buffer.deallocate() }
        let synced = Array("2024-01-01T00:00:00.000Z".utf8)
        var generator = WorkloadW()
        try synced.withUnsafeBufferPointer { synced in
            for _ in 0..<rows {
                let row = generator.next()
                binder.used = 0
                variant.visit(row, &binder)
                upsert.statement.bindText(borrowing: synced, at: upsert.syncedParameter)
                try upsert.statement.execute()
            }
        }
        try warehouse.finishSync(id: syncID)
        let seconds = monotonicSeconds() - started
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(
            #"{"rows":\#(rows),"seconds":\#(seconds),"rowsPerSecond":\#(Double(rows) / seconds),"maxRSSKiB":\#(usage.ru_maxrss)}"#)
    }

    /// Prints W's rows as the C reference does: keys in column order, shortest round-tripping doubles.
    static func printWorkload(rows: Int) {
        var generator = WorkloadW()
        var line = ""
        for _ in 0..<rows {
            let row = generator.next()
            line.removeAll(keepingCapacity: true)
            line += #"{"id":\#(row.id),"name":"\#(row.name)","email":"\#(row.email)","amount":\#(row.amount),"#
            line += #""count":\#(row.count),"active":\#(row.active),"created_at":"\#(row.createdAt)","#
            line += #""category":"\#(row.category)","score":\#(row.score),"note":"\#(row.note)"}"#
            print(line)
        }
    }

    static func writeError(_ text: String) { try? LineWriter(fileDescriptor: 2).write(Array(text.utf8)) }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// Binds a row's values to the upsert statement (column i to parameter i + 1); text is copied into
/// one buffer that outlives the statement's step, as a sync's line buffer does.
struct StatementBinder: RowVisitor {
    let statement: SQLiteStatement
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1 << 16)
    var used = 0

    init(statement: SQLiteStatement) { self.statement = statement }

    mutating func visit(_ column: Int, _ value: Int64) { statement.bind(value, at: column + 1) }
    mutating func visit(_ column: Int, _ value: Double) { statement.bind(value, at: column + 1) }
    mutating func visit(_ column: Int, _ value: Bool) { statement.bind(Int64(value ? 1 : 0), at: column + 1) }
    mutating func visit(_ column: Int, _ value: String) {
        var text = value
        text.withUTF8 { utf8 in
            precondition(used + utf8.count <= 1 << 16, "a row's text exceeds the floor's buffer")
            (buffer + used).update(from: utf8.baseAddress!, count: utf8.count)
            statement.bindText(borrowing: UnsafeBufferPointer(start: buffer + used, count: utf8.count), at: column + 1)
            used += utf8.count
        }
    }
}

exit(HostBench.main())
