import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

@Suite("connector-host inspect")
struct InspectTests {
    let orders = table(
        "orders", primaryKey: ["id"],
        columns: ["id": "LONG", "amount": ["type": "DECIMAL", "precision": 10, "scale": 2], "placed_at": "UTC_DATETIME"])

    /// Two syncs: one that writes, deletes and checkpoints a state with a token; one that fails.
    func twoSyncs() throws -> ConnectorFixture {
        let fixture = try ConnectorFixture(
            product: "operations-test-connector",
            configuration: [
                "apiKey": "sk-live-123456", "schema": [orders],
                "steps": [
                    [
                        "upsert": [
                            "table": "orders",
                            "data": ["id": 1, "amount": "12.5", "placed_at": "2024-05-01T12:00:00+05:30", "note": "first"],
                        ]
                    ],
                    ["upsert": ["table": "orders", "data": ["id": 2, "amount": "3", "placed_at": "2024-05-02T08:00:00Z"]]],
                    ["delete": ["table": "orders", "keys": ["id": 2]]],
                    ["upsert": ["table": "events", "data": ["kind": "page", "n": 1]]],
                    ["checkpoint": ["cursor": "sk-live-123456", "refresh_token": "rt-abc-999", "page": 2]],
                ],
            ])
        #expect(fixture.sync().0.failure == nil)
        try fixture.write(
            "configuration.json",
            JSONWriter.string([
                "apiKey": "sk-live-123456", "schema": [orders],
                "steps": [["upsert": ["table": "orders", "data": ["id": 3, "amount": "1e3"]]]],
            ]))
        #expect(fixture.sync().0.failure != nil)
        return fixture
    }

    /// Timestamps and durations replaced by placeholders of the same width, so alignment is kept.
    func normalised(_ text: String) -> String {
        text.replacing(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/, with: "YYYY-MM-DDTHH:MM:SS.mmmZ").replacing(/\d\.\d\d s/, with: "N.NN s")
    }

    @Test("shows tables with columns and types, live and deleted rows, the masked state and the last syncs")
    func text() throws {
        let fixture = try twoSyncs()
        let result = try runCLI(["inspect", fixture.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            normalised(result.stdout) == """
                warehouse: \(fixture.warehousePath)

                tables:
                  events: 1 live row, 0 deleted; no primary key (rows keyed by a hash)
                    kind  STRING  inferred
                    n     LONG    inferred
                  orders: 1 live row, 1 deleted; primary key (id)
                    id         LONG           declared, primary key
                    amount     DECIMAL(10,2)  declared
                    placed_at  UTC_DATETIME   declared
                    note       STRING         inferred

                state: {"cursor":"********","refresh_token":"********","page":2} (checkpointed YYYY-MM-DDTHH:MM:SS.mmmZ)

                last syncs (newest first):
                  #  started                   duration  status     upserts  updates  deletes  truncates  schema changes  checkpoints
                  2  YYYY-MM-DDTHH:MM:SS.mmmZ    N.NN s  failed           0        0        0          0               0            0
                     error: invalid operation: operation #1 (stdout line 3), table "orders", column "amount": "1e3" is not a valid DECIMAL(10,2): send a decimal string like "12.34" (or a JSON number)
                  1  YYYY-MM-DDTHH:MM:SS.mmmZ    N.NN s  succeeded        3        0        1          0               5            1

                """)
        #expect(!result.stdout.contains("rt-abc-999") && !result.stdout.contains("sk-live"))
    }

    @Test("--json prints the same as one object; --syncs limits the history")
    func json() throws {
        let fixture = try twoSyncs()
        let result = try runCLI(["inspect", fixture.path, "--json", "--syncs", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let value = try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(value["tables"]?.arrayValue?.map { $0["name"]?.stringValue } == ["events", "orders"])
        let orders = try #require(value["tables"]?.arrayValue?.last)
        #expect(orders["liveRows"] == 1 && orders["deletedRows"] == 1 && orders["primaryKey"] == ["id"])
        #expect(
            orders["columns"]?.arrayValue?[1]
                == ["name": "amount", "type": "DECIMAL", "precision": 10, "scale": 2, "declared": true, "primaryKey": false])
        #expect(value["state"] == ["cursor": "********", "refresh_token": "********", "page": 2])
        let syncs = try #require(value["syncs"]?.arrayValue)
        #expect(syncs.count == 1)
        #expect(syncs[0]["status"] == "failed" && syncs[0]["id"] == 2)
        #expect(syncs[0]["counts"]?["upserts"] == 0)
        #expect(syncs[0]["durationSeconds"]?.doubleValue != nil)
    }

    @Test("help inspect lists its options")
    func help() throws {
        let result = try runCLI(["help", "inspect"])
        #expect(result.status == 0)
        for option in ["--warehouse FILE", "--configuration FILE", "--syncs N", "--json"] { #expect(result.stdout.contains(option)) }
    }

    @Test("a directory without a warehouse is a clear error")
    func noWarehouse() throws {
        let fixture = try ConnectorFixture()
        let result = try runCLI(["inspect", fixture.path])
        #expect(result.status == 1)
        #expect(result.stderr == "error: no warehouse at \(fixture.warehousePath) yet; run `connector-host run DIR` first\n")
    }
}
