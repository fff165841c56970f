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
///         (seconds: the SQLite work only; the rows are generated outside the timed part)
///     connector-host-bench pg-load --rows N --destination URL [--schema S] [--method M] [--batch B]
///         loads rows 1...N into PostgreSQL by method M (PostgresLoad.swift); `copy` is the floor
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
        case "pg-load":
            guard let rows = options["rows"].flatMap({ Int($0) }), let destination = options["destination"] else { return usage() }
            do {
                try PostgresLoad.run(
                    rows: rows, destination: destination, schema: options["schema"] ?? "bench_floor", method: options["method"] ?? "copy",
                    batch: options["batch"].flatMap { Int($0) } ?? 10_000)
                return 0
            } catch {
                writeError("connector-host-bench: pg-load failed: \(error)\n")
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
                + "       connector-host-bench pg-load --rows N --destination URL [--schema S] [--method M] [--batch B]\n"
                + "       connector-host-bench workload [N]\n")
        return 2
    }

    /// The floor: the warehouse's statement path with no protocol, one prepared statement, one transaction.
    ///
    /// Rows are generated in chunks outside the timed part (their values into one byte arena, as a
    /// sync's line buffer holds them), so the figure is SQLite and the statement wrapper alone: opening
    /// the warehouse, binding, stepping, and the final commit.
    static func floor(rows: Int, variant: BenchVariant, path: String) throws {
        var timed = 0.0
        var started = monotonicSeconds()
        let warehouse = try Warehouse(path: path)
        let columns = variant.columns.map { ($0.name, ColumnType(DataType(rawValue: $0.type.rawValue)!)) }
        let syncID = try warehouse.beginSync(connector: "floor")
        try warehouse.apply(schema: [TableDefinition(name: BenchVariant.table, primaryKey: ["id"], columns: columns)])
        let upsert = try warehouse.benchmarkUpsert(table: BenchVariant.table)
        precondition(upsert.columns == variant.columns.map(\.name), "the table's columns differ from the variant's")
        let synced = Array("2024-01-01T00:00:00.000Z".utf8)
        timed += monotonicSeconds() - started
        var generator = WorkloadW()
        var chunk = PreparedRows(columns: columns.count)
        var done = 0
        while done < rows {
            let count = min(10_000, rows - done)
            chunk.removeAll()
            for _ in 0..<count { variant.visit(generator.next(), &chunk) }
            started = monotonicSeconds()
            try synced.withUnsafeBufferPointer { synced in
                try chunk.arena.withUnsafeBufferPointer { arena in
                    for row in 0..<count {
                        for column in 0..<columns.count {
                            switch chunk.values[row * columns.count + column] {
                            case .integer(let value): upsert.statement.bind(value, at: column + 1)
                            case .real(let value): upsert.statement.bind(value, at: column + 1)
                            case .text(let start, let length):
                                upsert.statement.bindText(
                                    borrowing: UnsafeBufferPointer(rebasing: arena[start..<start + length]), at: column + 1)
                            }
                        }
                        upsert.statement.bindText(borrowing: synced, at: upsert.syncedParameter)
                        try upsert.statement.execute()
                    }
                }
            }
            timed += monotonicSeconds() - started
            done += count
        }
        started = monotonicSeconds()
        try warehouse.finishSync(id: syncID)
        timed += monotonicSeconds() - started
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(#"{"rows":\#(rows),"seconds":\#(timed),"rowsPerSecond":\#(Double(rows) / timed),"maxRSSKiB":\#(usage.ru_maxrss)}"#)
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

/// Rows ready to bind: each value as an integer, a double or a slice of one byte arena.
struct PreparedRows: RowVisitor {
    enum Value {
        case integer(Int64)
        case real(Double)
        case text(start: Int, length: Int)
    }

    let columns: Int
    var values: [Value] = []
    var arena: [UInt8] = []

    init(columns: Int) { self.columns = columns }

    mutating func removeAll() {
        values.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
    }

    mutating func visit(_ column: Int, _ value: Int64) { values.append(.integer(value)) }
    mutating func visit(_ column: Int, _ value: Double) { values.append(.real(value)) }
    mutating func visit(_ column: Int, _ value: Bool) { values.append(.integer(value ? 1 : 0)) }
    mutating func visit(_ column: Int, _ value: String) {
        values.append(.text(start: arena.count, length: value.utf8.count))
        arena.append(contentsOf: value.utf8)
    }
}

exit(HostBench.main())
