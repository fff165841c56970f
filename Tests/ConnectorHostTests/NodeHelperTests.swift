import Foundation
import Testing

/// The Node helper (connectors/hello-node/protocol.js) against its own fake host, a real `node`
/// process per case: batching, backpressure, errors, cancel, framing, console routing.
@Suite("The Node helper's own tests")
struct NodeHelperTests {
    @Test("connectors/hello-node/tests/fake_host.py passes (skipped without node)")
    func fakeHostPasses() throws {
        guard shell(["node", "--version"]).status == 0 else {
            print("skipped: node is not installed")
            return
        }
        let result = shell([pythonExecutable, packageRoot.appendingPathComponent("connectors/hello-node/tests/fake_host.py").path])
        #expect(result.status == 0, "\(result.output)")
    }
}
