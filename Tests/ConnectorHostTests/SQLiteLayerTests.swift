import CConnectorSQLite
import ConnectorProtocol
import Foundation
import Testing

@testable import ConnectorHost

@Suite("SQLite layer and warehouse catalog")
struct SQLiteLayerTests {
    private func scratchPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-sqlite-\(UUID().uuidString).db").path
    }

    @Test("a primary result code matches its extended codes in patterns; an extended one only itself")
    func resultCodePatterns() {
        let ioWrite = SQLiteResultCode(rawValue: 778)  // SQLITE_IOERR_WRITE
        #expect(ioWrite.primary == .ioError)
        #expect(ioWrite != .ioError)
        #expect(SQLiteResultCode.ioError ~= ioWrite)
        #expect(!(SQLiteResultCode.full ~= ioWrite))
        #expect(ioWrite ~= ioWrite)
        #expect(!(ioWrite ~= SQLiteResultCode(rawValue: 266)))  // SQLITE_IOERR_READ
        let matched: String =
            switch ioWrite {
            case .full: "full"
            case .ioError: "I/O"
            default: "other"
            }
        #expect(matched == "I/O")
    }

    @Test("an SQLite error says what failed and in which SQL, never what to do")
    func errorDescription() {
        let error = SQLiteError(code: SQLITE_FULL, message: "database or disk is full", sql: "COMMIT")
        #expect(error.description == "SQLite error 13: database or disk is full — in: COMMIT")
        #expect(error.primaryCode == SQLITE_FULL && error.code == .full)
    }

    @Test("transactions are an API: begin, commit, rollback; a rollback without a transaction does nothing")
    func transactions() throws {
        let path = scratchPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try SQLiteDatabase(path: path)
        try database.execute(#"CREATE TABLE "t" ("a" INTEGER)"#)
        try database.beginTransaction(.immediate)
        #expect(database.isInTransaction)
        try database.run(#"INSERT INTO "t" VALUES (1)"#)
        try database.commit()
        #expect(!database.isInTransaction)
        try database.beginTransaction()
        try database.run(#"INSERT INTO "t" VALUES (2)"#)
        try database.rollback()
        try database.rollback()
        #expect(try database.query(#"SELECT "a" FROM "t""#) == [[.integer(1)]])
        // The read-only connection opens the same way: its errors carry result codes the same way too.
        let reader = try SQLiteDatabase(readOnlyPath: path)
        #expect(reader.isReadOnly)
        do {
            try reader.run(#"INSERT INTO "t" VALUES (3)"#)
            Issue.record("a read-only connection wrote")
        } catch {
            #expect(SQLiteResultCode.readOnly ~= error.code)
        }
    }

    @Test("the sync history is written and read by one list of count columns: every counter round-trips to inspect")
    func historyCountsRoundTrip() throws {
        let path = scratchPath()
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let warehouse = try Warehouse(path: path)
        let id = try warehouse.beginSync(connector: "catalog-test")
        var counts = OperationCounts()
        for (offset, column) in WarehouseCatalog.countColumns.enumerated() { counts[keyPath: column.keyPath] = 10 + offset }
        warehouse.counts = counts
        try warehouse.finishSync(id: id)
        let inspection = try Inspector.inspect(warehouse: path)
        #expect(inspection.syncs.first?.counts == counts)
        #expect(inspection.syncs.first?.status == "succeeded")
        let stored = try SQLiteDatabase(readOnlyPath: path).query(
            #"SELECT "name" FROM pragma_table_info('_connector_syncs')"#
        ).compactMap(\.first?.text)
        #expect(Set(WarehouseCatalog.countColumns.map(\.name)).isSubset(of: Set(stored)))
    }

    @Test("the table catalog reads back what the warehouse declared, for the warehouse and for inspect alike")
    func tableCatalog() throws {
        let path = scratchPath()
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let warehouse = try Warehouse(path: path)
        _ = try warehouse.beginSync(connector: "catalog-test")
        try warehouse.apply(schema: [
            TableDefinition(
                name: "items", primaryKey: ["id"],
                columns: [("id", ColumnType(.long)), ("price", ColumnType(.decimal, precision: 10, scale: 2))])
        ])
        try warehouse.checkpoint(state: "{}")
        let catalog = try WarehouseCatalog.tables(in: SQLiteDatabase(readOnlyPath: path))
        #expect(
            catalog == [
                WarehouseCatalog.Table(
                    name: "items", primaryKey: ["id"],
                    columns: [
                        .init(name: "id", type: ColumnType(.long), declared: true),
                        .init(name: "price", type: ColumnType(.decimal, precision: 10, scale: 2), declared: true),
                    ])
            ])
        let reopened = try Warehouse(path: path)
        #expect(reopened.tables["items"]?.columns.map(\.name) == ["id", "price"])
        #expect(try Inspector.inspect(warehouse: path).tables.first?.columns.map(\.type) == catalog[0].columns.map(\.type))
    }
}
