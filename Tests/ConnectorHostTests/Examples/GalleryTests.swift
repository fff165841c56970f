import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

/// The gallery as a whole: every folder under examples/ is complete, indexed and runs as shipped.
@Suite("Examples gallery")
struct GalleryTests {
    @Test("every example has a manifest naming its product, a README and a line in examples/README.md")
    func everyExampleIsComplete() throws {
        #expect(exampleNames.count == 15)
        let index = try String(contentsOf: packageRoot.appendingPathComponent("examples/README.md"), encoding: .utf8)
        for name in exampleNames {
            let folder = packageRoot.appendingPathComponent("examples/\(name)")
            let manifest = try JSONParser.parse(Array(try Data(contentsOf: folder.appendingPathComponent("connector.json"))))
            #expect(manifest == ["name": .string(name), "swiftProduct": .string("example-\(name)")], "examples/\(name)/connector.json")
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("README.md").path), "examples/\(name)/README.md")
            #expect(index.contains("[\(name)](\(name))"), "examples/README.md has no line for \(name)")
        }
    }

    @Test("connector-host run examples/NAME builds the example's product of the package two levels up")
    func manifestsResolveToThePackage() throws {
        for name in exampleNames {
            let plan = try ConnectorLauncher.plan(directory: packageRoot.appendingPathComponent("examples/\(name)").path, environment: [:])
            #expect(plan.name == name)
            #expect(plan.arguments == [packageRoot.path + "/.build/debug/example-\(name)"])
            #expect(
                plan.buildCommand == ["swift", "build", "--package-path", packageRoot.path, "--product", "example-\(name)", "-c", "debug"])
        }
    }

    @Test("every example runs from its folder in the repository with its shipped configuration")
    func everyExampleRunsAsShipped() throws {
        let scratch = try ConnectorFixture()
        for name in exampleNames {
            let result = try runCLI([
                "run", packageRoot.appendingPathComponent("examples/\(name)").path, "--warehouse", scratch.path + "/\(name).db", "--state",
                scratch.path + "/\(name).json", "--quiet",
            ])
            #expect(result.status == 0, "examples/\(name): \(result.stderr)")
        }
    }
}
