import ConnectorHost
import ConnectorProtocol
import Foundation

/// The adapter fixtures: small Singer and Airbyte connectors of our own, in Python.
let adapterFixtures = packageRoot.appendingPathComponent("Tests/Fixtures/adapters")

extension ConnectorFixture {
    /// A connector folder whose connector.json runs `script` (in Tests/Fixtures/adapters) through the adapter.
    /// - Parameters:
    ///   - arguments: fixed arguments of the tap or source, before the adapter's.
    ///   - manifest: further manifest members (`"tables"`).
    convenience init(
        adapter: String, script: String, arguments: [String] = [], configuration: JSONValue, manifest: JSONObject = [:]
    ) throws {
        try self.init(configuration: configuration)
        var object: JSONObject = [
            "name": .string(adapter + "-fixture"), "adapter": .string(adapter),
            "command": .array(([pythonExecutable, adapterFixtures.appendingPathComponent(script).path] + arguments).map(JSONValue.string)),
        ]
        for (key, value) in manifest { object[key] = value }
        try write("connector.json", JSONWriter.string(.object(object)))
    }

    /// A sync with the timeouts a loaded test machine needs.
    func adapterSync() -> (SyncReport, RecordingConsole) {
        sync { options in
            options.handshakeTimeout = 120
            options.gracePeriod = 5
        }
    }
}
