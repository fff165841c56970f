import CConnectorSQLite
import ConnectorProtocol
import Foundation
import Testing

@testable import ConnectorHost

@Suite("What a sync records and reports")
struct SyncHistoryTests {
    @Test("a failed sync reports what it received and, apart, what it committed")
    func committedCounts() throws {
        let fixture = try ConnectorFixture.hostile([
            "update": [["rows": ["items", 1, 3]], ["checkpoint": ["c": 3]], ["rows": ["items", 4, 2]], ["kill": "SIGKILL"]]
        ])
        let (report, _) = fixture.sync()
        #expect(report.failure?.kind == .connectorExited)
        #expect(report.counts.upserts == 5 && report.counts.checkpoints == 1)
        #expect(report.committedCounts.upserts == 3 && report.committedCounts.checkpoints == 1)
        let table = SyncReportFormatter.table(report)
        #expect(
            table.contains(
                "\n                received  committed\nupserts                5          3\nupdates                0          0\n"),
            "\(table)")
        #expect(
            table.contains(
                "\noutcome: FAILED (connectorExited); the warehouse is at the last checkpoint: 3 of 5 operations received were committed, 2 rolled back\n"
            ))
        let json = try JSONParser.parse(Array(SyncReportFormatter.json(report).utf8))
        #expect(json["committedCounts"]?["upserts"]?.int64Value == 3)
        #expect(json["counts"]?["upserts"]?.int64Value == 5)
        try fixture.script(["update": [["rows": ["items", 6, 2]], ["checkpoint": ["c": 7]], ["rows": ["items", 8, 1]], ["reply": true]]])
        let (succeeded, _) = fixture.sync()
        #expect(succeeded.failure == nil && succeeded.committedCounts == succeeded.counts)
    }

    @Test("the sync history records the name and version the connector reported in initialize, beside the folder's name")
    func reportedConnector() throws {
        let fixture = try ConnectorFixture.hostile(["update": [["rows": ["items", 1, 1]], ["reply": true]]])
        let (report, _) = fixture.sync()
        #expect(report.failure == nil)
        let inspection = try Inspector.inspect(warehouse: fixture.warehousePath)
        #expect(inspection.syncs.first?.reportedConnector == PeerInfo(name: "hostile", version: "1.0.0"))
        #expect(
            try fixture.rows(#"SELECT "connector", "connector_name", "connector_version" FROM "_connector_syncs""#) == [
                ["fixture", "hostile", "1.0.0"]
            ])
        #expect(Inspector.json(inspection).contains(#""connectorReported":{"name":"hostile","version":"1.0.0"}"#))
    }

    @Test("a warehouse from before the reported name was kept gains its columns, and inspect reads either")
    func olderWarehouseUpgraded() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-old-\(UUID().uuidString).db").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let old = try SQLiteDatabase(path: path)
        try old.execute(
            """
            CREATE TABLE "_connector_tables" ("name" TEXT PRIMARY KEY, "primary_key" TEXT NOT NULL, "created_at" TEXT NOT NULL);
            CREATE TABLE "_connector_syncs" (
                "id" INTEGER PRIMARY KEY AUTOINCREMENT, "started_at" TEXT NOT NULL, "ended_at" TEXT,
                "status" TEXT NOT NULL, "connector" TEXT, "upserts" INTEGER NOT NULL DEFAULT 0,
                "updates" INTEGER NOT NULL DEFAULT 0, "deletes" INTEGER NOT NULL DEFAULT 0,
                "truncates" INTEGER NOT NULL DEFAULT 0, "checkpoints" INTEGER NOT NULL DEFAULT 0,
                "schema_changes" INTEGER NOT NULL DEFAULT 0, "noop_updates" INTEGER NOT NULL DEFAULT 0,
                "noop_deletes" INTEGER NOT NULL DEFAULT 0, "error" TEXT);
            CREATE TABLE "_connector_columns" ("table_name" TEXT NOT NULL, "column_name" TEXT NOT NULL, "position" INTEGER NOT NULL,
                "type" TEXT, "precision" INTEGER, "scale" INTEGER, "declared" INTEGER NOT NULL, PRIMARY KEY ("table_name", "column_name"));
            CREATE TABLE "_connector_state" ("id" INTEGER PRIMARY KEY CHECK ("id" = 1), "state" TEXT NOT NULL, "updated_at" TEXT NOT NULL);
            INSERT INTO "_connector_syncs" ("started_at", "ended_at", "status", "connector", "upserts") VALUES ('2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 'succeeded', 'old', 7);
            """)
        #expect(try Inspector.inspect(warehouse: path).syncs.first?.counts.upserts == 7)
        #expect(try Inspector.inspect(warehouse: path).syncs.first?.reportedConnector == nil)
        _ = try Warehouse(path: path)
        let columns = try WarehouseCatalog.syncColumnNames(SQLiteDatabase(readOnlyPath: path))
        #expect(columns.suffix(5) == ["connector_name", "connector_version", "connection", "package_id", "package_sha256"])
    }

    @Test("a state file beside a warehouse without a state is resumed from, with a loud warning saying how to start over")
    func stateFileFallbackWarns() throws {
        let fixture = try ConnectorFixture.hostile(["update": [["stderrState": true], ["checkpoint": ["c": 8]], ["reply": true]]])
        try fixture.write("files/state.json", #"{"c":7,"token":"s3cr3t-value"}"#)
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(console.all.contains(#"[fixture] state: {"c":7,"token":"s3cr3t-value"}"#))
        #expect(
            console.all.contains(
                #"warning: the warehouse \#(fixture.warehousePath) has no stored state, so this sync resumes from the state file \#(fixture.statePath) ("{"c":7,"token":"********"}"). If the warehouse was deleted or replaced, the data before that state is not in it and will not be fetched again: delete the state file (or run `connector-host reset`) to sync everything from the start"#
            ), "\(console.all)")
        let (again, second) = fixture.sync()
        #expect(again.failure == nil)
        #expect(!second.all.contains { $0.hasPrefix("warning: the warehouse") }, "the warehouse has the state now: no warning")
    }
}
