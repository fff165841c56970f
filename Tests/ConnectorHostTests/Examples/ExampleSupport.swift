import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The examples gallery's folders, from the repository.
let exampleNames: [String] = {
    let folder = packageRoot.appendingPathComponent("examples")
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return entries.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)/connector.json").path) }.sorted()
}()

extension ConnectorFixture {
    /// A temporary workspace for `examples/NAME`: its manifest runs the built `example-NAME`, with
    /// the example's own configuration.json unless `configuration` replaces it.
    static func example(_ name: String, configuration: JSONValue? = nil, backend: Backend = .sqlite) throws -> ConnectorFixture {
        var files: [String: String] = [:]
        let shipped = packageRoot.appendingPathComponent("examples/\(name)/configuration.json")
        if configuration == nil, let text = try? String(contentsOf: shipped, encoding: .utf8) { files["configuration.json"] = text }
        return try ConnectorFixture(product: "example-\(name)", configuration: configuration, files: files, backend: backend)
    }

    /// Runs one sync, records an issue when it fails, and returns its report.
    @discardableResult
    func syncExpectingSuccess(sourceLocation: SourceLocation = #_sourceLocation) -> SyncReport {
        let (report, console) = sync()
        if let failure = report.failure {
            Issue.record("the sync failed: \(failure.message)\n\(console.all.joined(separator: "\n"))", sourceLocation: sourceLocation)
        }
        return report
    }

    /// Replaces the configuration for the next syncs.
    func configure(_ configuration: JSONValue) throws { try write("configuration.json", JSONWriter.string(configuration)) }
}
