import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The connector's `warning` notifications, Fivetran's seven log levels and errors the connector
/// reports itself (Python's `op.warning`, `log.critical`, `op.error`).
@Suite("Warnings, log levels and connector-reported errors")
struct WarningsAndErrorsTests {
    static let schema: JSONValue = ["tables": [["table": "t", "primaryKey": ["id"]]]]

    static func warning(_ text: String) -> JSONValue {
        .string(JSONWriter.string(["jsonrpc": "2.0", "method": "warning", "params": ["message": .string(text)]]))
    }

    @Test("the first ten warnings of a sync are shown in full, all are counted, the rest are said at the end and recorded")
    func warnings() throws {
        let steps = (1...12).map { Self.warning("page \($0) was empty") } + [[["op": "upsert", "table": "t", "data": ["id": 1]]]]
        let fixture = try ConnectorFixture(rawSchema: Self.schema, steps: steps)
        let (report, console) = fixture.sync()
        #expect(report.failure == nil, "\(report.failure?.message ?? "")")
        #expect(report.counts.warnings == 12)
        #expect(console.all.filter { $0.hasPrefix("[fixture warning] ") } == (1...10).map { "[fixture warning] page \($0) was empty" })
        #expect(console.all.contains("2 more warnings from the connector were not shown (the first 10 of a sync are)"))
        #expect(SyncReportFormatter.table(report).contains("\nwarnings        12\n"))
        #expect(try fixture.rows(#"SELECT "warnings", json_array_length("warning_messages") FROM "_connector_syncs""#) == [["12", "10"]])
        #expect(try fixture.rows(#"SELECT count(*) FROM "t""#) == [["1"]], "a warning does not fail the sync")
    }

    @Test("log levels: fine is debug, severe is error, critical is shown as CRITICAL and is not hidden by --quiet")
    func logLevels() throws {
        let log = { (level: String, text: String) -> JSONValue in
            .string(JSONWriter.string(["jsonrpc": "2.0", "method": "log", "params": ["level": .string(level), "message": .string(text)]]))
        }
        let fixture = try ConnectorFixture(
            rawSchema: Self.schema, steps: [log("fine", "f"), log("severe", "s"), log("critical", "c"), log("info", "i")])
        let (_, console) = fixture.sync()
        #expect(
            console.all.filter { $0.hasPrefix("[fixture ") } == [
                "[fixture debug] f", "[fixture error] s", "[fixture critical] c", "[fixture info] i",
            ])
        let quiet = try runCLI(["run", fixture.path, "--quiet"])
        #expect(quiet.status == 0)
        #expect(quiet.stderr.contains("[fixture ERROR] s\n") && quiet.stderr.contains("[fixture CRITICAL] c\n"), "\(quiet.stderr)")
        #expect(!quiet.stderr.contains("[fixture INFO] i"))
    }

    @Test("an error the connector reports (op.error with a trace) fails the sync with its message and its trace, masked")
    func connectorReportedError() throws {
        let answer = JSONWriter.string([
            "jsonrpc": "2.0", "id": 3,
            "error": [
                "code": -32013, "message": "the API refused key s3cr3t-key",
                "data": ["type": "ConnectorError", "traceback": "  File \"connector.py\", line 9, in update\nValueError: s3cr3t-key\n"],
            ],
        ])
        let fixture = try ConnectorFixture(
            rawSchema: Self.schema, steps: [[["op": "upsert", "table": "t", "data": ["id": 1]]], .string(answer)],
            configuration: ["api_key": "s3cr3t-key"])
        let failure = try #require(fixture.sync().0.failure)
        #expect(failure.kind == .connectorError)
        #expect(
            failure.message.hasPrefix(
                """
                the connector failed in update: the API refused key ******** [error -32013 (source error)]
                  traceback (from the connector):
                      File "connector.py", line 9, in update
                    ValueError: ********
                """), "\(failure.message)")
        #expect(
            try fixture.rows(#"SELECT count(*) FROM sqlite_master WHERE name = 't'"#) == [["0"]],
            "nothing after the last checkpoint is kept")
    }
}
