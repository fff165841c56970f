import ConnectorHost
import Foundation
import Testing

@Suite("connector-host init")
struct InitTests {
    static let expectedFiles: [ScaffoldLanguage: [String]] = [
        .python: [".gitignore", "README.md", "configuration.json", "connector.py", "requirements.txt"],
        .node: [".gitignore", "README.md", "configuration.json", "connector.js", "connector.json", "protocol.js"],
        .swift: [".gitignore", "Package.swift", "README.md", "Sources/DemoSwift.swift", "configuration.json", "connector.json"],
    ]

    @Test("init scaffolds a connector that runs at once, twice in a row, and passes conformance", arguments: ScaffoldLanguage.allCases)
    func scaffoldRuns(_ language: ScaffoldLanguage) throws {
        let fixture = try ConnectorFixture()  // an empty temporary folder
        let directory = fixture.directory
        let created = try runCLI(["init", "demo-\(language.rawValue)", "--language", language.rawValue, "--directory", directory.path])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(
            created.stdout.split(separator: "\n").dropFirst().prefix(while: { $0.hasPrefix("  ") }).map { $0.dropFirst(2) }
                == (Self.expectedFiles[language] ?? []).map { Substring($0) })
        #expect(
            created.stdout.hasSuffix("next: connector-host run \(directory.path)   (then: connector-host conformance \(directory.path))\n"))

        for _ in 1...2 {
            let run = try runCLI(["run", directory.path])
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        }
        #expect(
            // A connector.py lands as Fivetran lands it (its system columns); the others keep connector-host's.
            try fixture.rows(
                "SELECT \"id\", \"message\", \"created_at\", \"\(language == .python ? "_fivetran_deleted" : "_connector_deleted")\" FROM \"greeting\" ORDER BY \"id\""
            )
                == (1...6).map {
                    ["\($0)", "hello #\($0)", "2024-01-01T00:0\($0 - 1):00Z", "0"]
                })
        #expect(fixture.stateFile() == #"{"cursor":6}"#)

        let conformance = try runCLI(["conformance", directory.path, "--no-build"])
        #expect(conformance.status == 0, "\(conformance.stdout)")
    }

    @Test("a Swift scaffold inside the checkout depends on it by a relative path; outside, by an absolute one")
    func swiftPackagePath() throws {
        let inside = try ConnectorScaffold(
            name: "x", language: .swift, directory: packageRoot.appendingPathComponent("connectors/x").path)
        let outside = try ConnectorScaffold(name: "x", language: .swift, directory: "/tmp/x", sdkPath: packageRoot.path)
        let identity = packageRoot.lastPathComponent.lowercased()
        let package = { (scaffold: ConnectorScaffold) in try scaffold.files().first { $0.path == "Package.swift" }?.content ?? "" }
        #expect(try package(inside).contains(#".package(path: "../..")"#))
        #expect(try package(outside).contains(#".package(path: "\#(packageRoot.path)")"#))
        #expect(try package(outside).contains(#".product(name: "ConnectorSDK", package: "\#(identity)")"#))
    }

    @Test(
        "init refuses a bad name, a missing or unknown language and a non-empty folder as usage errors (exit 2), and a folder that is not a checkout"
    )
    func refusals() throws {
        let scratch = try ConnectorFixture()
        let badName = try runCLI(["init", "1st", "--language", "python", "--directory", scratch.directory.appendingPathComponent("a").path])
        #expect(badName.status == 2)
        #expect(
            badName.stderr
                == "error: the connector name \"1st\" must start with a letter and hold only letters, digits, - and _ (it names the folder, the manifest and, in Swift, the executable)\n"
        )
        let noLanguage = try runCLI(["init", "demo"])
        #expect(noLanguage.status == 2)
        #expect(noLanguage.stderr == "error: `init` needs --language (swift, python, node): connector-host init demo --language python\n")
        let unknown = try runCLI(["init", "demo", "--language", "cobol"])
        #expect(unknown.stderr == "error: --language takes swift, python, node, not \"cobol\"\n")

        try "x".write(to: scratch.directory.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        let occupied = try runCLI(["init", "demo", "--language", "node", "--directory", scratch.directory.path])
        #expect(occupied.status == 2)
        #expect(occupied.stderr == "error: \(scratch.directory.path) already exists and is not empty; choose another --directory or name\n")

        let notCheckout = try runCLI([
            "init", "demo", "--language", "swift", "--directory", scratch.directory.appendingPathComponent("b").path, "--sdk-path", "/tmp",
        ])
        #expect(notCheckout.status == 1)
        #expect(
            notCheckout.stderr
                == "error: /tmp is not a connector-host checkout (it has no Sources/ConnectorSDK/Connector.swift); pass the folder that holds its Package.swift\n"
        )
    }
}
