import ConnectorHost
import ConnectorPackaging
import ConnectorProtocol
import Foundation
import Testing

@Suite("connector-host package and the package registry")
struct PackageCommandTests {
    /// Runs a program (git, sha256sum) and returns its status and output; `nil` when it is not installed.
    func program(_ arguments: [String], in directory: String? = nil) -> (status: Int32, output: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_AUTHOR_NAME"] = "test"
        environment["GIT_AUTHOR_EMAIL"] = "test@example.com"
        environment["GIT_COMMITTER_NAME"] = "test"
        environment["GIT_COMMITTER_EMAIL"] = "test@example.com"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("the same folder in two git checkouts packages to byte-identical zips, and the printed SHA-256 is sha256sum's")
    func twoCheckouts() throws {
        guard program(["git", "--version"])?.status == 0, program(["sha256sum", "--version"])?.status == 0 else {
            print("skipped: git or sha256sum is not installed")
            return
        }
        let fixture = try RegistryFixture()
        let repository = fixture.root.appendingPathComponent("origin").path
        try fixture.folder(
            "origin/connectors/counter",
            [
                "connector.py": RegistryFixture.countingConnector, "requirements.txt": "# nothing needed\n",
                "helpers/format.py": "def label(n): return f'#{n}'\n", "run.sh": "#!/bin/sh\nexec python3 connector.py\n",
                ".gitignore": "*.log\n", "helpers/.gitignore": "scratch/\n",
            ])
        chmod(repository + "/connectors/counter/run.sh", 0o755)
        #expect(program(["git", "init", "-q", "."], in: repository)?.status == 0)
        #expect(program(["git", "add", "."], in: repository)?.status == 0)
        #expect(program(["git", "commit", "-q", "-m", "connector"], in: repository)?.status == 0)
        var packages: [(bytes: [UInt8], printed: String, path: String)] = []
        for (index, checkout) in ["first", "second"].enumerated() {
            let target = fixture.root.appendingPathComponent(checkout).path
            #expect(program(["git", "clone", "-q", repository, target])?.status == 0)
            let folder = target + "/connectors/counter"
            // What a working copy gathers that a package must not carry: secrets, outputs, caches, logs.
            try fixture.folder(
                "\(checkout)/connectors/counter",
                [
                    "configuration.json": "{\"api_key\": \"secret-\(index)\"}", "files/warehouse.db": "x\(index)",
                    "debug.log": "log \(index)", "helpers/scratch/notes.txt": "\(index)", "__pycache__/c.pyc": "\(index)",
                    ".env": "TOKEN=\(index)",
                ])
            if index == 1 { usleep(1_100_000) }  // later modification times in the second checkout
            let output = fixture.root.appendingPathComponent("\(checkout).zip").path
            let result = try fixture.cli(["package", folder, "--output", output])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == output)
            let printed = try #require(lines.first { $0.hasPrefix("sha256: ") }).dropFirst(8)
            packages.append((try Array(Data(contentsOf: URL(fileURLWithPath: output))), String(printed), output))
        }
        #expect(packages[0].bytes == packages[1].bytes)
        #expect(packages[0].printed == packages[1].printed)
        let summed = try #require(program(["sha256sum", packages[0].path])).output.split(separator: " ").first.map(String.init)
        #expect(packages[0].printed == summed)
    }

    @Test("package --json lists the files, what was left out and why, and the metadata")
    func packageJSON() throws {
        let fixture = try RegistryFixture()
        let folder = try fixture.folder(
            "counter", ["connector.py": RegistryFixture.countingConnector, "configuration.json": "{}", "notes.md": "n\n"])
        let result = try fixture.cli(["package", folder, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let value = try JSONParser.parse(result.stdout)
        #expect(value["path"]?.stringValue == folder + "/files/counter.zip")
        #expect(value["files"] == ["connector.py", "notes.md"])
        #expect(value["excluded"] == [["path": "configuration.json", "reason": "never packaged"]])
        #expect(value["metadata"]?["language"]?.stringValue == "python")
        #expect(value["file_sha256_hash"]?.stringValue?.count == 64)
    }

    @Test("packaging a folder without a connector is one error and writes nothing")
    func noConnector() throws {
        let fixture = try RegistryFixture()
        let folder = try fixture.folder("empty", ["README.md": "no connector here\n"])
        let result = try fixture.cli(["package", folder])
        #expect(result.status == 1)
        #expect(
            result.stderr
                == "error: \(folder) has neither connector.json nor connector.py, so the package could not start; package the folder that holds the connector\n"
        )
        #expect(!FileManager.default.fileExists(atPath: folder + "/files"))
    }

    @Test("package create, list, show, update, download and delete, with the REST resource's field names in --json")
    func lifecycle() throws {
        let fixture = try RegistryFixture()
        let folder = try fixture.folder("counter")
        let created = try JSONParser.parse(try fixture.cli(["package", "create", folder, "--json"]).stdout)
        let id = try #require(created["id"]?.stringValue)
        #expect(id.hasPrefix("pkg_") && id.count == 20)
        for field in [
            "id", "created_at", "created_by", "updated_at", "last_updated_by", "connection_id", "connection_ids", "file_sha256_hash",
        ] {
            #expect(created[field] != nil, "missing \(field)")
        }
        #expect(created["connection_id"] == .null)
        #expect(created["connection_ids"] == [])
        let hash = try #require(created["file_sha256_hash"]?.stringValue)
        let stored = fixture.home + "/packages/\(hash).zip"
        #expect(FileManager.default.fileExists(atPath: stored))
        #expect((try FileManager.default.attributesOfItem(atPath: stored)[.posixPermissions] as? Int) == 0o600)

        let listed = try JSONParser.parse(try fixture.cli(["package", "list", "--json"]).stdout)
        #expect(listed["items"]?.arrayValue?.map { $0["id"] } == [.string(id)])
        let shown = try fixture.cli(["package", "show", id])
        #expect(shown.stdout.contains("package:    \(id)\nsha256:     \(hash)\n"))

        try fixture.createConnection("counter", package: id)
        let inUse = try JSONParser.parse(try fixture.cli(["package", "show", id, "--json"]).stdout)
        let connectionID = try #require(try fixture.connection("counter")["id"]?.stringValue)
        #expect(inUse["connection_id"]?.stringValue == connectionID)
        #expect(inUse["connection_ids"] == [.string(connectionID)])

        #expect(try fixture.cli(["run", "--connection", "counter"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: fixture.home + "/cache/\(hash)/connector.py"))
        // New code: a new hash; the old file and its unpacked copy go, as no other package has them.
        try "# changed\n".write(toFile: folder + "/extra.py", atomically: true, encoding: .utf8)
        let updated = try JSONParser.parse(try fixture.cli(["package", "update", id, folder, "--json"]).stdout)
        let newHash = try #require(updated["file_sha256_hash"]?.stringValue)
        #expect(newHash != hash)
        #expect(updated["created_at"] == created["created_at"])
        #expect(!FileManager.default.fileExists(atPath: stored))
        #expect(!FileManager.default.fileExists(atPath: fixture.home + "/cache/\(hash)"))

        let download = fixture.root.appendingPathComponent("copy.zip").path
        let downloaded = try fixture.cli(["package", "download", id, "--output", download])
        #expect(downloaded.status == 0, "\(downloaded.stderr)")
        #expect(downloaded.stdout == "\(download)\nsha256: \(newHash)\n")
        #expect(try SHA256.hexDigest(ofFile: download) == newHash)

        _ = try fixture.cli(["connection", "delete", "counter", "--yes"])
        let deleted = try fixture.cli(["package", "delete", id, "--json"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(deleted.stdout == "{\"id\":\"\(id)\",\"deleted\":true}\n")
        #expect(!FileManager.default.fileExists(atPath: fixture.home + "/packages/\(newHash).zip"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.home + "/cache").isEmpty, "no unpacked copy left behind")
        let missing = try fixture.cli(["package", "show", id])
        #expect(missing.status == 1)
        #expect(
            missing.stderr
                == "error: no package \(id) in \(fixture.home)/registry.db; there are none yet: connector-host package create DIR\n")
    }

    @Test("deleting a package is refused while connections use it, and the message names them")
    func deleteRefusedInUse() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        try fixture.createConnection("orders", package: id)
        try fixture.createConnection("invoices", package: id)
        let refused = try fixture.cli(["package", "delete", id])
        #expect(refused.status == 1)
        #expect(
            refused.stderr
                == "error: package \(id) is used by connections \"invoices\", \"orders\"; delete them first (connector-host connection delete NAME), or bind them to another package\n"
        )
        #expect(try fixture.cli(["package", "show", id]).status == 0)
        _ = try fixture.cli(["connection", "delete", "invoices", "--yes"])
        let stillOne = try fixture.cli(["package", "delete", id])
        #expect(
            stillOne.stderr
                == "error: package \(id) is used by connection \"orders\"; delete it first (connector-host connection delete NAME), or bind it to another package\n"
        )
    }

    @Test("a connection's configuration is stored user-only and its secrets are never printed")
    func secretsStayHidden() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let secret = "sk_live_9f8e7d6c5b4a"
        let created = try fixture.createConnection("orders", package: id, configuration: ["api_key": secret, "note": "visible"])
        let folder = fixture.home + "/connections/" + (created["id"]?.stringValue ?? "?")
        #expect((try FileManager.default.attributesOfItem(atPath: folder + "/configuration.json")[.posixPermissions] as? Int) == 0o600)
        #expect((try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int) == 0o700)
        #expect(created["configuration"] == ["api_key": "********", "note": "visible"])
        var outputs = [JSONWriter.string(created)]
        for arguments in [
            ["connection", "show", "orders"], ["connection", "show", "orders", "--json"], ["connection", "list"],
            ["connection", "list", "--json"], ["run", "--connection", "orders"], ["run", "--connection", "orders", "--json"],
        ] {
            let result = try fixture.cli(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            outputs.append(result.stdout + result.stderr)
        }
        #expect(outputs[1].contains(#"= {"api_key":"********","note":"visible"}"#))
        for output in outputs { #expect(!output.contains(secret) && !output.contains("sk_live")) }
        #expect(try fixture.registryRows("SELECT count(*) FROM syncs WHERE coalesce(error, '') LIKE '%sk_live%'") == [["0"]])
    }

    @Test("registry commands check their arguments and say what to type")
    func usageErrors() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let cases: [([String], Int32, String)] = [
            (
                ["connection", "create", "orders"], 2,
                "error: `connection create` needs --package ID: connector-host connection create orders --package pkg_0123456789abcdef (package list shows the ids)\n"
            ),
            (
                ["connection", "create", "bad name", "--package", id], 1,
                "error: \"bad name\" cannot name a connection: use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. orders-prod)\n"
            ),
            (
                ["connection", "create", "orders", "--package", id, "--every", "0"], 2,
                "error: --every takes a duration such as 30s, 15m, 1h30m or 1d (a bare number is seconds), more than 0 and at most a year; not \"0\"\n"
            ),
            (
                ["connection", "create", "orders", "--package", id, "--every", "1.5"], 2,
                "error: --every takes whole seconds, at least 1 (e.g. 30s, 15m), not 1.5 s\n"
            ),
            (
                ["package", "download", id], 2,
                "error: `package download` needs --output FILE: connector-host package download \(id) --output package.zip\n"
            ),
            (
                ["run", "x", "--connection", "orders"], 2,
                "error: `run` takes DIR or --connection NAME, not both (got x and --connection orders)\n"
            ),
            (
                ["run", "--connection", "orders", "--warehouse", "w.db"], 2,
                "error: --warehouse does not go with --connection: a connection has its own configuration, warehouse and state, and its package is built once (connector-host connection show orders)\n"
            ),
            (
                ["run", "--connection", "nope"], 1,
                "error: no connection named \"nope\" in \(fixture.home)/registry.db; create one: connector-host connection create NAME --package ID\n"
            ),
            (
                ["connection", "delete", "orders"], 2,
                "error: connection delete removes the configuration, warehouse, state and history of orders; pass --yes to confirm when not on a terminal\n"
            ),
        ]
        for (arguments, status, message) in cases {
            let result = try fixture.cli(arguments)
            #expect(result.status == status, "\(arguments)")
            #expect(result.stderr == message, "\(arguments)")
        }
        try fixture.createConnection("orders", package: id)
        let taken = try fixture.cli(["connection", "create", "orders", "--package", id])
        #expect(taken.stderr == "error: a connection named \"orders\" exists already; choose another name, or delete it first\n")
    }
}

@Suite("The README's package example")
struct ReadmePackageExampleTests {
    @Test("packaging connectors/hello-python prints what the README shows, hash included")
    func readmeBlock() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let command = "swift run connector-host package connectors/hello-python\n"
        let start = try #require(readme.range(of: command)).upperBound
        let shown = readme[start...].split(separator: "\n", omittingEmptySubsequences: false).prefix { $0.hasPrefix("# ") }
            .map { String($0.dropFirst(2)) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("hello-python-\(UUID().uuidString).zip").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let result = try runCLI(["package", packageRoot.appendingPathComponent("connectors/hello-python").path, "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        var printed = result.stdout.split(separator: "\n").map(String.init)
        printed[0] = "/…/connectors/hello-python/files/hello-python.zip"
        #expect(printed == shown, "README.md shows another package of connectors/hello-python: update the example")
    }
}
