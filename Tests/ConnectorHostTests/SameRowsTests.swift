import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The destinations side by side: the same connector, run the same way, leaves the same rows in
/// PostgreSQL as in SQLite (every table, column and system column but the sync time), the same state
/// and the same counts.
@Suite("PostgreSQL and SQLite hold the same rows", .enabled(if: TestPostgres.shouldRun))
struct SameRowsTests {
    @Test("hello and every example of the gallery, run twice, leave the same rows, state and counts", arguments: ["hello"] + exampleNames)
    func sameRows(_ name: String) throws {
        let make = { (backend: Backend) in
            name == "hello"
                ? try ConnectorFixture(product: "hello-connector", backend: backend) : try ConnectorFixture.example(name, backend: backend)
        }
        let sqlite = try make(.sqlite)
        let postgres = try make(.postgres)
        for run in 1...2 {
            let left = sqlite.syncExpectingSuccess()
            let right = postgres.syncExpectingSuccess()
            #expect(left.counts == right.counts, "\(name), run \(run)")
            #expect(left.schemaChanges == right.schemaChanges, "\(name), run \(run)")
        }
        let expected = try Self.dump(sqlite)
        #expect(!expected.isEmpty, "\(name) wrote no rows")
        #expect(try Self.dump(postgres) == expected, "\(name)")
        #expect(Self.canonicalJSON(sqlite.state()) == Self.canonicalJSON(postgres.state()), "\(name)")
    }

    /// Every table of the warehouse as lines `table: value|value|...`, sorted, each value canonical
    /// for its column's type (JSON with sorted keys, times without trailing zeros in the fraction).
    static func dump(_ fixture: ConnectorFixture) throws -> [String] {
        var lines: [String] = []
        for row in try fixture.rows(#"SELECT "name", "primary_key" FROM "_connector_tables" ORDER BY "name""#) {
            let table = row[0]
            let columns = try fixture.rows(
                #"SELECT "column_name", coalesce("type", '') FROM "_connector_columns" WHERE "table_name" = '\#(table)' ORDER BY "position""#
            )
            let keyless = row[1] == "[]"
            let names = columns.map { $0[0] } + ["_connector_deleted"] + (keyless ? ["_connector_id"] : [])
            let types = columns.map { $0[1] } + ["", ""]
            let values = try fixture.values("SELECT \(names.map(quoteIdentifier).joined(separator: ", ")) FROM \(quoteIdentifier(table))")
            lines += values.map { values in
                "\(table): " + zip(values, types).map { canonical($0, type: $1) }.joined(separator: "|")
            }
        }
        return lines.sorted()
    }

    static func canonical(_ value: SQLiteValue, type: String) -> String {
        guard case .text(let text) = value else { return render(value) }
        switch type {
        case "JSON": return canonicalJSON(text) ?? text
        case "NAIVE_DATETIME", "UTC_DATETIME":
            // PostgreSQL keeps the instant, not the digits it was sent with: 12:00:00.500 is 12:00:00.5 there.
            guard let point = text.firstIndex(of: ".") else { return text }
            let zone = text.hasSuffix("Z") ? "Z" : ""
            var fraction = String(text[text.index(after: point)...].dropLast(zone.count))
            while fraction.hasSuffix("0") { fraction.removeLast() }
            return String(text[..<point]) + (fraction.isEmpty ? "" : "." + fraction) + zone
        default: return text
        }
    }

    static func canonicalJSON(_ text: String?) -> String? {
        guard let text, let value = try? JSONParser.parse(text) else { return text }
        return JSONWriter.string(value, sortedKeys: true)
    }
}
