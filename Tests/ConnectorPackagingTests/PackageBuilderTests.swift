import Foundation
import Testing

@testable import ConnectorPackaging

@Suite("Packaging a connector folder")
struct PackageBuilderTests {
    /// A Python connector folder with everything a package must leave out.
    static func connectorFolder(creatingInReverse: Bool = false) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        var files: [(String, String, Bool)] = [
            ("connector.py", "from fivetran_connector_sdk import Connector\n", false),
            ("requirements.txt", "requests==2.32.3\n", false),
            ("helpers/util.py", "def helper(): return 1\n", false),
            ("bin/run.sh", "#!/bin/sh\n", true),
            (".gitignore", "*.log\n!.keep-me\n", false),
            (".keep-me", "re-included hidden file\n", false),
            ("configuration.json", "{\"api_key\": \"s3cr3t-value\"}\n", false),
            ("nested/configuration.json", "{\"password\": \"hunter22\"}\n", false),
            ("destination.json", "{\"token\": \"abc\"}\n", false),
            ("files/warehouse.db", "not really sqlite\n", false),
            ("files/state.json", "{}\n", false),
            (".venv/pyvenv.cfg", "home = /usr/bin\n", false),
            (".venv/lib/site.py", "x = 1\n", false),
            ("env2/pyvenv.cfg", "home = /usr/bin\n", false),
            ("env2/bin/python", "", true),
            ("__pycache__/connector.cpython-311.pyc", "bytecode", false),
            ("helpers/__pycache__/util.cpython-311.pyc", "bytecode", false),
            (".env", "SECRET=1\n", false),
            ("crash-reports/report.txt", "trace\n", false),
            ("options.toml", "api_key = 'x'\n", false),
            ("notes.log", "log line\n", false),
            ("connector-package.json", "{\"stale\": true}\n", false),
            ("empty.txt", "", false),
        ]
        if creatingInReverse { files.reverse() }
        for (path, content, executable) in files { try folder.write(path, content, executable: executable) }
        return folder
    }

    @Test("configurations, files/, virtual environments, __pycache__, hidden files and .gitignore'd files stay out")
    func exclusions() throws {
        let folder = try Self.connectorFolder()
        let contents = try PackageSource.contents(of: folder.path)
        #expect(
            contents.files.map(\.path) == [
                ".gitignore", ".keep-me", "bin/run.sh", "connector.py", "empty.txt", "helpers/util.py", "requirements.txt",
            ])
        #expect(contents.files.first { $0.path == "bin/run.sh" }?.isExecutable == true)
        let excluded = Dictionary(uniqueKeysWithValues: contents.excluded.map { ($0.path, $0.reason) })
        #expect(
            excluded == [
                ".env": .defaultExclusion, ".venv/": .virtualEnvironment, "__pycache__/": .neverPackaged,
                "configuration.json": .neverPackaged, "connector-package.json": .neverPackaged, "crash-reports/": .defaultExclusion,
                "destination.json": .neverPackaged, "env2/": .virtualEnvironment, "files/": .neverPackaged,
                "helpers/__pycache__/": .neverPackaged, "nested/configuration.json": .neverPackaged, "notes.log": .gitignore,
                "options.toml": .defaultExclusion,
            ])
    }

    @Test("a package holds the files and a metadata entry, in sorted order, with the SHA-256 that sha256sum prints")
    func build() throws {
        let folder = try Self.connectorFolder()
        let output = folder.path + "/files/connector.zip"
        let package = try PackageBuilder.build(directory: folder.path, output: output, sdkVersion: "0.1.0")
        #expect(package.path == output)
        let reader = try ZipReader(path: output)
        #expect(
            reader.entries.map(\.path) == [
                ".gitignore", ".keep-me", "bin/run.sh", "connector-package.json", "connector.py", "empty.txt", "helpers/util.py",
                "requirements.txt",
            ])
        let metadata = try reader.contents(of: try #require(reader.entry("connector-package.json")))
        #expect(
            String(decoding: metadata, as: UTF8.self)
                == "{\"command\":[\"python3\",\"-m\",\"connector_host_sdk.run\",\"connector.py\"],\"formatVersion\":1,\"language\":\"python\",\"protocolVersion\":1,\"sdkVersion\":\"0.1.0\"}\n"
        )
        #expect(try PackageMetadata(decoding: metadata, archive: output) == package.metadata)
        if available("sha256sum") {
            let printed = try #require(runProgram(["sha256sum", output])).stdout.split(separator: " ").first.map(String.init)
            #expect(package.sha256 == printed)
        } else {
            print("skipped the sha256sum comparison: sha256sum is not installed")
        }
        #expect(package.size == UInt64(try folder.read("files/connector.zip").count))
    }

    @Test("the same folder in two places, written in a different order at different times, gives byte-identical packages")
    func byteIdentical() throws {
        let first = try Self.connectorFolder()
        let second = try Self.connectorFolder(creatingInReverse: true)
        // Different modification times and a different umask-independent mode on a non-executable file.
        for path in ["connector.py", "helpers/util.py"] {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: second.path + "/" + path)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: second.path + "/requirements.txt")
        let a = try PackageBuilder.build(directory: first.path, output: first.path + "/files/a.zip", sdkVersion: "0.1.0")
        let b = try PackageBuilder.build(directory: second.path, output: second.path + "/files/b.zip", sdkVersion: "0.1.0")
        #expect(a.sha256 == b.sha256)
        #expect(try first.read("files/a.zip") == second.read("files/b.zip"))
    }

    @Test("an unpacked package packages again to the same bytes")
    func repackage() throws {
        let folder = try Self.connectorFolder()
        let package = try PackageBuilder.build(directory: folder.path, output: folder.path + "/files/p.zip", sdkVersion: "0.1.0")
        try ZipReader(path: package.path).extract(to: folder.path + "/files/unpacked")
        let again = try PackageBuilder.build(
            directory: folder.path + "/files/unpacked", output: folder.path + "/files/again.zip", sdkVersion: "0.1.0")
        #expect(again.sha256 == package.sha256)
    }

    @Test("an archive written inside the folder is not packaged into itself, and replaces the previous one")
    func outputInsideTheFolder() throws {
        let folder = try Self.connectorFolder()
        let first = try PackageBuilder.build(directory: folder.path, output: folder.path + "/package.zip", sdkVersion: "0.1.0")
        let second = try PackageBuilder.build(directory: folder.path, output: folder.path + "/package.zip", sdkVersion: "0.1.0")
        #expect(first.sha256 == second.sha256)
        #expect(try ZipReader(path: second.path).entry("package.zip") == nil)
    }

    @Test("a symbolic link is refused unless .gitignore leaves it out")
    func symbolicLinks() throws {
        let folder = try Self.connectorFolder()
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/link.py", withDestinationPath: "/etc/passwd")
        #expect(
            throws: PackagingError(
                "\(folder.path)/link.py is a symbolic link; a package holds regular files only. Replace it with the file it stands for, or list it in .gitignore"
            )
        ) { try PackageSource.contents(of: folder.path) }
        try folder.write(".gitignore", "*.log\nlink.py\n")
        #expect(try PackageSource.contents(of: folder.path).excluded.contains(ExcludedItem(path: "link.py", reason: .gitignore)))
    }

    @Test("a folder without a connector, a swiftProduct manifest and a command outside the folder are refused")
    func refusals() throws {
        let folder = try TemporaryFolder()
        try folder.write("README.md", "nothing here\n")
        #expect(
            throws: PackagingError(
                "\(folder.path) has neither connector.json nor connector.py, so the package could not start; package the folder that holds the connector"
            )
        ) { try PackageBuilder.build(directory: folder.path, output: folder.path + "/files/x.zip", sdkVersion: "0.1.0") }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/files/x.zip"))

        try folder.write("connector.json", "{\"swiftProduct\": \"hello-connector\"}")
        #expect(
            throws: PackagingError(
                "\(folder.path)/connector.json uses \"swiftProduct\", which builds a product of the Swift package around the folder; a package holds the folder alone. Give the folder its own Package.swift and use \"build\" and \"command\" (protocol/PACKAGE.md)"
            )
        ) { try PackageMetadata.detect(directory: folder.path, sdkVersion: "0.1.0") }

        try folder.write("connector.json", "{\"command\": [\"../../.build/debug/hello-connector\"]}")
        #expect(
            throws: PackagingError(
                "\(folder.path)/connector.json: the command ../../.build/debug/hello-connector lies outside the connector folder, so a package of the folder could not start it; move the program into the folder (and build it with \"build\")"
            )
        ) { try PackageMetadata.detect(directory: folder.path, sdkVersion: "0.1.0") }
    }

    @Test("a manifest's command, name and language go into the metadata as written")
    func manifestMetadata() throws {
        let folder = try TemporaryFolder()
        try folder.write("connector.json", "{\"name\": \"hello-node\", \"command\": [\"node\", \"connector.js\"]}")
        let metadata = try PackageMetadata.detect(directory: folder.path, sdkVersion: "0.1.0")
        #expect(metadata == PackageMetadata(language: "node", command: ["node", "connector.js"], sdkVersion: "0.1.0", name: "hello-node"))
        try folder.write("connector.json", "{\"command\": [\"./bin/connector\"], \"build\": [\"swift\", \"build\"]}")
        #expect(try PackageMetadata.detect(directory: folder.path, sdkVersion: "0.1.0").language == "swift")
    }

    @Test("metadata from a newer format or another protocol version is refused with what to do")
    func metadataVersions() throws {
        #expect(
            throws: PackagingError(
                "p.zip: connector-package.json has format version 2; this connector-host reads version 1. Package the connector again with this connector-host, or upgrade it"
            )
        ) {
            try PackageMetadata(
                decoding: Array(
                    "{\"formatVersion\":2,\"protocolVersion\":1,\"language\":\"x\",\"command\":[\"x\"],\"sdkVersion\":\"1\"}".utf8),
                archive: "p.zip")
        }
        #expect(
            throws: PackagingError(
                "p.zip: connector-package.json says the connector speaks protocol version 7; this connector-host speaks 1")
        ) {
            try PackageMetadata(
                decoding: Array(
                    "{\"formatVersion\":1,\"protocolVersion\":7,\"language\":\"x\",\"command\":[\"x\"],\"sdkVersion\":\"1\"}".utf8),
                archive: "p.zip")
        }
        #expect(throws: PackagingError("p.zip: connector-package.json needs \"command\": a non-empty array of strings")) {
            try PackageMetadata(
                decoding: Array("{\"formatVersion\":1,\"protocolVersion\":1,\"language\":\"x\",\"command\":[],\"sdkVersion\":\"1\"}".utf8),
                archive: "p.zip")
        }
    }
}

@Suite("Another tool producing packages")
struct ThirdPartyPackagerTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("protocol/examples/make_package.py").path

    @Test("protocol/examples/make_package.py, given the same files, writes the same bytes as the packager")
    func sameBytesFromPython() throws {
        guard available("python3") else {
            print("skipped: python3 is not installed")
            return
        }
        let folder = try PackageBuilderTests.connectorFolder()
        try folder.write("données/café.py", "print('é')\n")
        // The script applies the default exclusions without .gitignore's negations: no re-included hidden file here.
        try FileManager.default.removeItem(atPath: folder.path + "/.keep-me")
        let ours = try PackageBuilder.build(directory: folder.path, output: folder.path + "/files/ours.zip", sdkVersion: "0.1.0")
        let list = ours.contents.files.map(\.path).joined(separator: "\n") + "\n"
        let result = try #require(
            runProgram(["python3", Self.script, folder.path, folder.path + "/files/theirs.zip"], input: Array(list.utf8)))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(ours.sha256) \(folder.path)/files/theirs.zip\n")
        #expect(try folder.read("files/theirs.zip") == folder.read("files/ours.zip"))
    }

    @Test("fed by git ls-files, make_package.py packages what connector-host package does")
    func sameBytesFromGit() throws {
        guard available("python3"), available("git") else {
            print("skipped: python3 or git is not installed")
            return
        }
        let folder = try TemporaryFolder()
        try folder.write("connector.py", "import helpers\n")
        try folder.write("helpers/__init__.py", "")
        try folder.write("helpers/api.py", "URL = 'https://example.com'\n")
        try folder.write("run.sh", "#!/bin/sh\n", executable: true)
        try folder.write(".gitignore", "*.log\nscratch/\n")
        try folder.write("helpers/.gitignore", "*.tmp\n")
        try folder.write("configuration.json", "{\"api_key\": \"not-packaged\"}\n")
        try folder.write(".env", "TOKEN=not-packaged\n")
        try folder.write("debug.log", "x\n")
        try folder.write("helpers/cache.tmp", "x\n")
        try folder.write("scratch/notes.md", "x\n")
        try folder.write("files/state.json", "{}\n")
        let isolated = ["GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": folder.path]
        _ = runProgram(["git", "init", "-q", "."], directory: folder.path, environment: isolated)
        let listed = try #require(
            runProgram(["git", "ls-files", "-co", "--exclude-standard"], directory: folder.path, environment: isolated))
        let ours = try PackageBuilder.build(directory: folder.path, output: folder.path + "/files/ours.zip", sdkVersion: "0.1.0")
        let result = try #require(
            runProgram(["python3", Self.script, folder.path, folder.path + "/files/theirs.zip"], input: Array(listed.stdout.utf8)))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try folder.read("files/theirs.zip") == folder.read("files/ours.zip"))
        #expect(
            ours.contents.files.map(\.path) == [
                ".gitignore", "connector.py", "helpers/.gitignore", "helpers/__init__.py", "helpers/api.py", "run.sh",
            ])
    }
}
