import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The examples about rows, cursors and configuration: exact warehouse rows and state after each run.
@Suite("Examples: rows, cursors and configuration")
struct BasicExamplesTests {
    @Test("hello-append appends one greeting per run and keeps the repeated greeting as one row")
    func helloAppend() throws {
        let fixture = try ConnectorFixture.example("hello-append")
        fixture.syncExpectingSuccess()
        let counts = fixture.syncExpectingSuccess().counts
        #expect(counts.upserts == 2)
        #expect(
            try fixture.rows(#"SELECT "message", "run", "_connector_deleted", length("_connector_id") FROM "greeting" ORDER BY "message""#)
                == [
                    ["hello from run 1", "1", "0", "32"], ["hello from run 2", "2", "0", "32"], ["hello, world", "NULL", "0", "32"],
                ])
        #expect(fixture.stateFile() == #"{"runs":2}"#)
    }

    @Test("three-step-cursor syncs one row per run, then a fourth run sends nothing and keeps the state")
    func threeStepCursor() throws {
        let fixture = try ConnectorFixture.example("three-step-cursor")
        for step in 1...3 {
            #expect(fixture.syncExpectingSuccess().counts.upserts == 1)
            #expect(fixture.stateFile() == #"{"cursor":\#(step)}"#)
        }
        #expect(
            try fixture.rows(#"SELECT "id", "message" FROM "hello_world" ORDER BY "id""#) == [
                ["10", "Hello world"], ["20", "Hello again"], ["30", "Good bye"],
            ])
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(report.counts == OperationCounts())
        #expect(console.all.contains("[fixture info] all 3 source rows are synced; nothing to do"))
        #expect(fixture.stateFile() == #"{"cursor":3}"#)
    }

    @Test("complex-configuration reads a list, an integer, a boolean and a dictionary from strings")
    func complexConfiguration() throws {
        let fixture = try ConnectorFixture.example("complex-configuration")
        fixture.syncExpectingSuccess()
        #expect(
            try fixture.rows(#"SELECT "region", "currency", "amount", "fetched_in_bulk" FROM "price" ORDER BY "region", "currency""#) == [
                ["ap-south", "EUR", "56.0", "1"], ["ap-south", "JPY", "9600.0", "1"], ["ap-south", "USD", "64.0", "1"],
                ["eu-west", "EUR", "70.0", "1"], ["eu-west", "JPY", "12000.0", "1"], ["eu-west", "USD", "80.0", "1"],
                ["us-east", "EUR", "87.5", "1"], ["us-east", "JPY", "15000.0", "1"], ["us-east", "USD", "100.0", "1"],
            ])
        #expect(fixture.stateFile() == #"{"api_calls_last_sync":3}"#)
    }

    @Test("complex-configuration without the bulk API spends one call per currency and stops at the quota")
    func complexConfigurationQuota() throws {
        let fixture = try ConnectorFixture.example(
            "complex-configuration",
            configuration: [
                "regions": "us-east,eu-west,ap-south", "api_quota": "5", "use_bulk_api": "FALSE",
                "currencies": #"{"USD": 1, "EUR": 0.875}"#,
            ])
        let (report, console) = fixture.sync()
        #expect(report.failure == nil)
        #expect(
            try fixture.rows(#"SELECT "region", "currency", "amount", "fetched_in_bulk" FROM "price" ORDER BY "region" DESC, "currency""#)
                == [
                    ["us-east", "EUR", "87.5", "0"], ["us-east", "USD", "100.0", "0"], ["eu-west", "EUR", "70.0", "0"],
                    ["eu-west", "USD", "80.0", "0"],
                ])
        #expect(console.all.contains("[fixture warning] api_quota 5 reached; skipping region ap-south and the rest"))
        #expect(fixture.stateFile() == #"{"api_calls_last_sync":4}"#)
    }

    @Test("complex-configuration names the key and the value that cannot be read")
    func complexConfigurationError() throws {
        let fixture = try ConnectorFixture.example(
            "complex-configuration", configuration: ["regions": "us-east", "api_quota": "lots", "currencies": "{}"])
        let failure = try #require(fixture.sync().0.failure)
        #expect(failure.kind == .connectorError)
        #expect(
            failure.message.hasPrefix(
                #"the connector failed in update: configuration key "api_quota" must be an integer, got "lots" [error -32012 (configuration error)]"#
            ))
    }
}
