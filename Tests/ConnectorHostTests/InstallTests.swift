import Foundation
import Testing

@testable import ConnectorHost

/// A prefix installed by scripts/install.sh (with the debug build: the release build and a Swift
/// scaffold compiled from the installed SDK are scripts/install-check.sh's, run by CI), and a way
/// to run programs as a user who has only that prefix's bin on PATH, in a folder outside the checkout.
private final class InstalledPrefix {
    let root: URL
    var prefix: String { root.appendingPathComponent("prefix").path }
    var work: String { root.appendingPathComponent("work").path }
    var share: String { prefix + "/share/connector-host" }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: root.appendingPathComponent("work").path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Runs scripts/install.sh with the built connector-host into ``prefix``.
    func install() throws -> (status: Int32, stdout: String, stderr: String) {
        try run(
            packageRoot.appendingPathComponent("scripts/install.sh").path,
            ["--binary", productsDirectory.appendingPathComponent("connector-host").path, prefix], in: packageRoot.path)
    }

    /// The test's environment without CONNECTOR_HOST_* and PYTHONPATH, and PATH without any folder
    /// that holds a connector-host or lies in the checkout, `bin` first.
    func environment(bin: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CONNECTOR_HOST_") && $0.key != "PYTHONPATH" }
        let kept = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init).filter {
            !$0.hasPrefix(packageRoot.path) && !FileManager.default.fileExists(atPath: $0 + "/connector-host")
        }
        environment["PATH"] = ([bin] + kept).joined(separator: ":")
        return environment
    }

    /// Runs `executable arguments` in `directory` (default ``work``) as that user.
    func run(_ executable: String, _ arguments: [String], in directory: String? = nil, bin: String? = nil) throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let result = try RunningCLI(
            arguments, environment: environment(bin: bin ?? prefix + "/bin"), executable: executable, directory: directory ?? work,
            inheriting: false
        ).finish()
        return (result.status, result.stdout, result.stderr)
    }

    /// `connector-host arguments` found on PATH by its bare name, as a shell would start it.
    func connectorHost(_ arguments: [String], bin: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try run("/usr/bin/env", ["connector-host"] + arguments, bin: bin)
    }
}

/// Every file below `folder` (relative paths, sorted), caches left out.
private func files(under folder: String) -> [String] {
    let items = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
    return items.filter { path in
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isDirectory)
        return !isDirectory.boolValue && !path.contains("__pycache__")
    }.sorted()
}

@Suite("Installing: scripts/install.sh, the SDKs beside the installed binary, --version")
struct InstallTests {
    @Test("installed with scripts/install.sh, connector-host from PATH alone runs new Python and Node connectors outside the checkout")
    func installedHostRunsScaffolds() throws {
        let installed = try InstalledPrefix()
        let install = try installed.install()
        try #require(install.status == 0, "\(install.stdout)\n\(install.stderr)")

        let version = try installed.connectorHost(["--version"])
        #expect(version.status == 0)
        #expect(
            version.stdout == """
                connector-host \(SyncRunner.host.version) (protocol 1)
                executable:   \(installed.prefix)/bin/connector-host
                python SDK:   \(installed.share)/sdks/python (installed)
                node helper:  \(installed.share)/sdks/node (installed)
                swift SDK:    \(installed.share)/sdks/swift (installed)
                A connector_host_sdk installed for a connector's Python interpreter comes before the python SDK above.

                """)
        #expect(install.stdout.hasPrefix("installed connector-host into \(installed.prefix):\n  connector-host "), "\(install.stdout)")

        for language in ["python", "node"] {
            let created = try installed.connectorHost(["init", "demo-\(language)", "--language", language])
            #expect(created.status == 0, "\(created.stderr)")
            for cursor in [3, 6] {
                let run = try installed.connectorHost(["run", "demo-\(language)"])
                #expect(run.status == 0, "\(language): \(run.stdout)\n\(run.stderr)")
                #expect(run.stdout.hasSuffix("state:     \(installed.work)/demo-\(language)/files/state.json = {\"cursor\":\(cursor)}\n"))
            }
        }
        let node = try String(contentsOfFile: installed.work + "/demo-node/protocol.js", encoding: .utf8)
        #expect(node == (try String(contentsOfFile: installed.share + "/sdks/node/protocol.js", encoding: .utf8)))
    }

    @Test(
        "the installed Swift SDK is a package of ConnectorSDK and ConnectorProtocol only, which a scaffold outside the checkout depends on")
    func installedSwiftSDK() throws {
        let installed = try InstalledPrefix()
        try #require(try installed.install().status == 0)
        let swift = installed.share + "/sdks/swift"
        #expect(
            files(under: swift)
                == ["Package.swift", "README.md"]
                + files(under: packageRoot.appendingPathComponent("Sources/ConnectorProtocol").path).map {
                    "Sources/ConnectorProtocol/" + $0
                }
                + files(under: packageRoot.appendingPathComponent("Sources/ConnectorSDK").path).map { "Sources/ConnectorSDK/" + $0 })
        // Self-contained: its modules import only each other and the toolchain's.
        let allowed: Set = ["ConnectorProtocol", "Foundation", "Dispatch", "Synchronization", "Glibc", "Darwin", "Musl"]
        for file in files(under: swift + "/Sources") {
            let text = try String(contentsOfFile: swift + "/Sources/" + file, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let index = words.firstIndex(of: "import"), words[..<index].allSatisfy({ $0.hasPrefix("@") || $0 == "public" }),
                    index + 1 < words.count
                else { continue }
                #expect(allowed.contains(String(words[index + 1])), "\(file): \(line)")
            }
        }

        let created = try installed.connectorHost(["init", "demo-swift", "--language", "swift"])
        #expect(created.status == 0, "\(created.stderr)")
        let scaffold = installed.work + "/demo-swift"
        let manifest = try String(contentsOfFile: scaffold + "/Package.swift", encoding: .utf8)
        #expect(manifest.contains(#"dependencies: [.package(path: "\#(swift)")]"#))
        #expect(manifest.contains(#".product(name: "ConnectorSDK", package: "swift")"#))
        // SwiftPM loads both manifests and resolves the products (seconds; building them is install-check.sh's).
        let graph = try installed.run("/usr/bin/env", ["swift", "package", "show-dependencies"], in: scaffold)
        #expect(graph.status == 0, "\(graph.stdout)\n\(graph.stderr)")
        #expect(graph.stdout.contains("swift<\(swift)@"), "\(graph.stdout)")
    }

    @Test("a binary copied alone says which SDK is missing and how to install it, in one message without a report")
    func copiedBinaryExplainsWhatIsMissing() throws {
        let installed = try InstalledPrefix()
        let bin = installed.root.appendingPathComponent("bin").path
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: productsDirectory.appendingPathComponent("connector-host").path, toPath: bin + "/connector-host")
        let folder = installed.work + "/py1"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "from fivetran_connector_sdk import Connector\n".write(toFile: folder + "/connector.py", atomically: true, encoding: .utf8)

        let advice = { (sdk: String, near: String) in
            "there is no connector-host checkout above \(near), the executable or the current folder, and no \(installed.root.path)/share/connector-host/sdks/\(sdk) beside \(bin)/connector-host; install connector-host with its SDKs (scripts/install.sh PREFIX in a checkout of connector-host, then use PREFIX/bin/connector-host)"
        }
        if try installed.run("/usr/bin/env", ["python3", "-c", "import connector_host_sdk"], bin: bin).status == 0 {
            print("skipped the Python part: python3 has a connector_host_sdk installed, which a connector would use")
            return
        }
        let run = try installed.connectorHost(["run", "py1"], bin: bin)
        #expect(run.status == 1)
        #expect(run.stdout == "")
        #expect(
            run.stderr
                == "error: \(folder)/connector.py needs connector-host's Python SDK (connector_host_sdk), which python3 cannot import, and \(advice("python", folder)); or pip install /path/to/connector-host/sdks/python into that interpreter, or set CONNECTOR_HOST_PYTHON_SDK to a folder holding connector_host_sdk\n"
        )
        for (language, title) in [("node", "node helper"), ("swift", "swift SDK")] {
            let created = try installed.connectorHost(["init", "x", "--language", language], bin: bin)
            #expect(created.status == 1)
            #expect(
                created.stderr
                    == "error: a \(language) connector needs connector-host's \(title), and \(advice(language, installed.work + "/x")); or pass --sdk-path /path/to/connector-host (a checkout)\n"
            )
        }
        let version = try installed.connectorHost(["--version"], bin: bin)
        #expect(
            version.stdout.contains(
                "python SDK:   not found (no checkout above the executable or the current folder, no \(installed.root.path)/share/connector-host/sdks/python)"
            ), "\(version.stdout)")
    }

    @Test("a symbolic link to the installed binary, called by its bare name, finds the installed SDKs")
    func symbolicLinkFindsTheInstall() throws {
        let installed = try InstalledPrefix()
        try #require(try installed.install().status == 0)
        let links = installed.root.appendingPathComponent("links").path
        try FileManager.default.createDirectory(atPath: links, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: links + "/connector-host", withDestinationPath: installed.prefix + "/bin/connector-host")
        let version = try installed.connectorHost(["--version"], bin: links)
        #expect(version.stdout.contains("executable:   \(installed.prefix)/bin/connector-host\n"), "\(version.stdout)")
        #expect(version.stdout.contains("node helper:  \(installed.share)/sdks/node (installed)\n"), "\(version.stdout)")
        let created = try installed.connectorHost(["init", "n", "--language", "node"], bin: links)
        #expect(created.status == 0, "\(created.stderr)")
    }

    @Test("a bare name is looked up on PATH as a shell does; a name with a slash is relative to the current folder")
    func invokedPath() throws {
        let installed = try InstalledPrefix()
        try #require(try installed.install().status == 0)
        let bin = installed.prefix + "/bin"
        #expect(
            HostResources.invoked("connector-host", path: "/nonexistent:\(bin):/usr/bin", currentDirectory: "/") == bin + "/connector-host")
        #expect(HostResources.invoked("connector-host", path: "/nonexistent", currentDirectory: "/") == nil)
        #expect(HostResources.invoked("bin/connector-host", path: nil, currentDirectory: installed.prefix) == bin + "/connector-host")
        let resources = HostResources(executable: nil, invokedPath: bin + "/connector-host", environment: [:], currentDirectory: "/")
        #expect(
            resources.installed(.node) == SDKLocation(path: installed.share + "/sdks/node", origin: .installed(prefix: installed.prefix)))
    }

    @Test("scripts/install.sh refuses a prefix it cannot write, and a --binary that is not an executable, before building")
    func installRefusals() throws {
        let installed = try InstalledPrefix()
        let script = packageRoot.appendingPathComponent("scripts/install.sh").path
        let file = installed.root.appendingPathComponent("file").path
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let notFolder = try installed.run(script, [file + "/prefix"], in: packageRoot.path)
        #expect(notFolder.status == 1)
        #expect(notFolder.stderr == "install.sh: \(file) is not a folder, so \(file)/prefix cannot be created; pass another PREFIX\n")
        let missing = try installed.run(script, ["--binary", installed.root.path + "/none", installed.prefix], in: packageRoot.path)
        #expect(missing.status == 1)
        #expect(
            missing.stderr
                == "install.sh: \(installed.root.path)/none is not an executable file; build it first (swift build -c release --product connector-host)\n"
        )
    }

    @Test("the Node helper of connectors/hello-node is the same file as sdks/node/protocol.js")
    func nodeHelperCopyIsCurrent() throws {
        let helper = try Data(contentsOf: packageRoot.appendingPathComponent("sdks/node/protocol.js"))
        let copy = try Data(contentsOf: packageRoot.appendingPathComponent("connectors/hello-node/protocol.js"))
        #expect(helper == copy, "sdks/node/protocol.js is the helper; copy it to connectors/hello-node/protocol.js after changing it")
    }
}
