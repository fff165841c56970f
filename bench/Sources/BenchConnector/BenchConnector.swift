import BenchWorkload
import ConnectorProtocol
import ConnectorSDK

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The benchmark's Swift connector: streams the rows of workload W (or a variant) through the SDK's
/// fast path (``RowWriter``), with a checkpoint every `checkpointEvery` rows.
///
/// Configuration (strings, like every configuration):
/// - `rows`: how many rows (required);
/// - `variant`: `w` (default), `wide100` or `kib-strings` (see ``BenchVariant``);
/// - `mode`: `upsert` (default) rows 1...rows; `update` sets `amount`, `count` and `score` of
///   rows 1...rows to W's values with seed 43; `delete` deletes rows 1...rows;
/// - `checkpointEvery`: rows between checkpoints (default 100000);
/// - `reportFile`: where to write this process's peak RSS and CPU time as JSON when `update` ends.
@main
struct BenchConnector: Connector {
    var name: String { "bench" }
    var version: String { "1.0.0" }

    func schema(configuration: Configuration) throws -> [TableDefinition] {
        let variant = try Self.variant(configuration)
        let columns = variant.columns.map { column in (column.name, ColumnType(DataType(rawValue: column.type.rawValue)!)) }
        return [TableDefinition(name: BenchVariant.table, primaryKey: ["id"], columns: columns)]
    }

    func update(configuration: Configuration, state: JSONValue, operations: Operations) throws {
        let variant = try Self.variant(configuration)
        let rows = try configuration.int("rows")
        let checkpointEvery = max(1, try configuration.int("checkpointEvery", default: 100_000))
        let mode = try configuration.string("mode", default: "upsert")
        let names = variant.columns.map(\.name)
        var generator = WorkloadW()
        var replacements = WorkloadW(seed: UpdatePass.seed)
        for index in stride(from: 1, through: rows, by: 1) {
            switch mode {
            case "upsert":
                let row = generator.next()
                try operations.upsert(BenchVariant.table) { writer in
                    withUnsafeMutablePointer(to: &writer) { pointer in
                        var visitor = FieldWriter(writer: pointer, names: names)
                        variant.visit(row, &visitor)
                    }
                }
            case "update":
                let row = replacements.next()
                try operations.update(BenchVariant.table) { writer in
                    writer.field("id", Int64(index))
                    writer.field("amount", row.amount)
                    writer.field("count", row.count)
                    writer.field("score", row.score)
                }
            case "delete":
                try operations.delete(BenchVariant.table) { writer in writer.field("id", Int64(index)) }
            default:
                throw ConnectorError.configuration("mode must be upsert, update or delete, not \"\(mode)\"")
            }
            if index % checkpointEvery == 0 || index == rows {
                try operations.checkpoint(["mode": .string(mode), "row": .number(JSONNumber(index))])
            }
        }
        if let reportFile = try? configuration.string("reportFile") { Self.writeUsage(to: reportFile) }
    }

    static func variant(_ configuration: Configuration) throws -> BenchVariant {
        let name = try configuration.string("variant", default: "w")
        guard let variant = BenchVariant(rawValue: name) else {
            throw ConnectorError.configuration(
                "variant must be one of \(BenchVariant.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(name)\"")
        }
        return variant
    }

    /// Writes `{"maxRSSKiB":..,"userSeconds":..,"systemSeconds":..}` for this process.
    static func writeUsage(to path: String) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        let text =
            #"{"maxRSSKiB":\#(usage.ru_maxrss),"userSeconds":\#(seconds(usage.ru_utime)),"systemSeconds":\#(seconds(usage.ru_stime))}"#
        guard let file = fopen(path, "w") else { return }
        fputs(text + "\n", file)
        fclose(file)
    }
}

/// Writes a variant's values into the SDK's row writer, by column name.
struct FieldWriter: RowVisitor {
    let writer: UnsafeMutablePointer<RowWriter>
    let names: [String]

    mutating func visit(_ column: Int, _ value: Int64) { writer.pointee.field(names[column], value) }
    mutating func visit(_ column: Int, _ value: Double) { writer.pointee.field(names[column], value) }
    mutating func visit(_ column: Int, _ value: Bool) { writer.pointee.field(names[column], value) }
    mutating func visit(_ column: Int, _ value: String) { writer.pointee.field(names[column], value) }
}
