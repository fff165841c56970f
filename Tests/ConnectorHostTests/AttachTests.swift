import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// `run --attach IN,OUT`: the connector is already running and started the host (the Python SDK's
/// in-process `connector.debug()`); the host talks over the inherited descriptors and spawns nothing.
@Suite("run --attach: a connector that starts the host")
struct AttachTests {
    static let script = packageRoot.appendingPathComponent("Tests/Connectors/RawProtocolConnector/raw_connector.py").path

    func attach(_ fixture: ConnectorFixture, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pythonExecutable)
        process.arguments =
            [Self.script, "--attach-host", productsDirectory.appendingPathComponent("connector-host").path, fixture.path] + extra
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test("the host syncs over the descriptors it was given, with the same report, warehouse and state as run")
    func syncsOverInheritedDescriptors() throws {
        let fixture = try ConnectorFixture(
            configuration: [
                "schema": ["tables": [["table": "t", "primaryKey": ["id"], "columns": ["id": "LONG"]]]],
                "steps": [
                    [["op": "upsert", "table": "t", "data": ["id": 1]], ["op": "upsert", "table": "t", "data": ["id": 2]]],
                    ["checkpoint": ["n": 2]],
                ],
            ])
        let result = try attach(fixture)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("upserts         2"), "\(result.stdout)")
        #expect(result.stdout.contains("outcome: succeeded"), "\(result.stdout)")
        #expect(try fixture.rows(#"SELECT "id" FROM "t" ORDER BY 1"#) == [["1"], ["2"]])
        #expect(fixture.stateFile() == #"{"n":2}"#)
    }

    @Test("a failure is reported and rolled back as in run; the connector hears cancel and the end of its input")
    func failureOverInheritedDescriptors() throws {
        let fixture = try ConnectorFixture(
            configuration: [
                "schema": ["tables": [["table": "t", "primaryKey": ["id"], "columns": ["id": "LONG"]]]],
                "steps": [[["op": "upsert", "table": "t", "data": ["id": "x"]]]],
            ])
        let result = try attach(fixture)
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                #"error: invalid operation: operation #1 (stdout line 3), table "t", column "id": "x" is not a valid LONG"#),
            "\(result.stderr)")
        #expect(try fixture.rows(#"SELECT count(*) FROM "_connector_tables""#) == [["0"]], "the schema was rolled back too")
    }
}
