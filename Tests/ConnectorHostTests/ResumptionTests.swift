import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `conformance --resumption`: one uninterrupted sync against one stopped after each checkpoint
/// and resumed; the two warehouses must hold the same rows.
@Suite("conformance --resumption")
struct ResumptionTests {
    /// A connector.py sending rows 1...9 in pages of 3, checkpointing `cursor` after each page; with
    /// `early`, each checkpoint claims the next page too (the classic bug: state ahead of the data).
    private func paged(early: Bool) throws -> ConnectorFixture {
        try ConnectorFixture(files: [
            "connector.py": """
            from fivetran_connector_sdk import Connector, Operations as op
            def schema(configuration):
                return [{"table": "items", "primary_key": ["id"]}]
            def update(configuration, state):
                cursor = state.get("cursor", 0)
                while cursor < 9:
                    for i in range(cursor + 1, cursor + 4):
                        op.upsert("items", {"id": i})
                    cursor += 3
                    op.checkpoint({"cursor": min(9, cursor + 3) if \(early ? "True" : "False") else cursor})
            connector = Connector(update=update, schema=schema)
            """,
            "configuration.json": "{}",
        ])
    }

    @Test("a connector whose checkpoints cover exactly what it sent passes, stopped after each and resumed")
    func passes() throws {
        let fixture = try paged(early: false)
        let result = try runCLI(["conformance", fixture.path, "--resumption"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains(
                "  PASS  resumption            stopped after each of its 3 checkpoints and resumed 4 times, it left the same 9 rows as one uninterrupted sync\n"
            ), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("19 passed, 0 failed, 0 skipped: conforms to protocol 1\n"))
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.appendingPathComponent("files").path))
    }

    @Test("a connector whose state runs ahead of its data fails, naming the rows the resumed syncs lost")
    func stateAhead() throws {
        let fixture = try paged(early: true)
        var options = ConformanceOptions(directory: fixture.path)
        options.resumption = true
        let report = ConformanceSuite.run(options)
        let result = report.result(.resumption)
        #expect(result?.status == .failed)
        #expect(
            result?.reason
                == #"stopped after each of its 2 checkpoints and resumed, the connector left another warehouse than one uninterrupted sync: items {"id":4}: row removed {"id":4,"_fivetran_deleted":false}; items {"id":5}: row removed {"id":5,"_fivetran_deleted":false}; items {"id":6}: row removed {"id":6,"_fivetran_deleted":false}; a checkpoint's state must cover exactly the operations sent before it"#,
            "\(result?.reason ?? "")")
        #expect(!report.passed)
        // Without the flag, the check is not part of the report.
        let plain = ConformanceSuite.run(ConformanceOptions(directory: fixture.path))
        #expect(plain.result(.resumption) == nil)
    }
}
