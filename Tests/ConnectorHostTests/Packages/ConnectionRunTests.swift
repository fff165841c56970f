import ConnectorHost
import ConnectorPackaging
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("run --connection")
struct ConnectionRunTests {
    @Test("a connection syncs its package's code into its own warehouse and state; both histories record the package id and hash")
    func runsThePackage() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let hash = try #require(
            try JSONParser.parse(try fixture.cli(["package", "show", id, "--json"]).stdout)["file_sha256_hash"]?.stringValue)
        try fixture.createConnection("first", package: id, configuration: ["note": "one", "steps": "2"])
        try fixture.createConnection("second", package: id, configuration: ["note": "two"])
        for name in ["first", "second", "first"] {
            let result = try fixture.cli(["run", "--connection", name])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("\nconnector-host: \(name)\n") || result.stdout.contains("connector-host: \(name)"))
        }
        let first = try fixture.connection("first")
        let second = try fixture.connection("second")
        #expect(
            try fixture.warehouseRows(first, #"SELECT "n", "note" FROM "runs" ORDER BY "n""#) == [
                ["1", "one"], ["2", "one"], ["3", "one"], ["4", "one"],
            ])
        #expect(try fixture.warehouseRows(second, #"SELECT "n", "note" FROM "runs""#) == [["1", "two"]])
        #expect(try String(contentsOfFile: try #require(first["state"]?.stringValue), encoding: .utf8) == "{\"n\":4}\n")
        #expect(
            try fixture.warehouseRows(first, #"SELECT "status", "connection", "package_id", "package_sha256" FROM "_connector_syncs""#)
                == [["succeeded", "first", id, hash], ["succeeded", "first", id, hash]])
        #expect(
            try fixture.registryRows("SELECT status, trigger, package_id, file_sha256_hash, row_operations FROM syncs ORDER BY id")
                == [
                    ["succeeded", "manual", id, hash, "2"], ["succeeded", "manual", id, hash, "1"], ["succeeded", "manual", id, hash, "2"],
                ])
        #expect(first["last_sync"]?["status"]?.stringValue == "succeeded")
        #expect(first["succeeded_at"] != .null && first["failed_at"] == .null)
        // One unpacked copy for the package, shared.
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.home + "/cache").filter { !$0.hasSuffix(".lock") } == [hash])
    }

    @Test("a sample sync of a connection (run --connection --limit) is recorded as limited in both histories, not as a success")
    func limitedRun() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        try fixture.createConnection("sample", package: id, configuration: ["note": "one", "steps": "3"])
        let result = try fixture.cli(["run", "--connection", "sample", "--limit", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let connection = try fixture.connection("sample")
        #expect(try fixture.warehouseRows(connection, #"SELECT "status" FROM "_connector_syncs""#) == [["limited"]])
        #expect(try fixture.registryRows("SELECT status, row_operations FROM syncs") == [["limited", "1"]])
        #expect(connection["last_sync"]?["status"]?.stringValue == "limited")
        #expect(connection["succeeded_at"] == .null)
    }

    @Test("a tampered package is refused with a message naming both hashes; the warehouse and state are untouched")
    func tamperedPackage() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let connection = try fixture.createConnection("orders", package: id)
        #expect(try fixture.cli(["run", "--connection", "orders"]).status == 0)
        let hash = try #require(connection["file_sha256_hash"]?.stringValue)
        let file = fixture.home + "/packages/\(hash).zip"
        let warehouse = try #require(connection["warehouse"]?.stringValue)
        let state = try #require(connection["state"]?.stringValue)
        let before = try [warehouse, state].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        // Someone changes the stored package: one byte appended.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0x0A]))
        try handle.close()
        let tampered = try SHA256.hexDigest(ofFile: file)

        let result = try fixture.cli(["run", "--connection", "orders"])
        #expect(result.status == 1)
        #expect(
            result.stderr.hasSuffix(
                "error: package \(id) was changed after it was stored: its file \(file) has SHA-256 \(tampered), but the registry recorded \(hash). Nothing was run. Store the code again: connector-host package update \(id) DIR\n"
            ))
        #expect(result.stdout.isEmpty, "no sync report: no sync ran")
        let after = try [warehouse, state].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        #expect(after == before)
        let wal = FileManager.default.contents(atPath: warehouse + "-wal") ?? Data()
        #expect(wal.isEmpty, "nothing written to the warehouse's log either")
        #expect(try fixture.warehouseRows(connection, #"SELECT count(*) FROM "_connector_syncs""#) == [["1"]])
        let shown = try fixture.connection("orders")
        #expect(shown["last_sync"]?["status"]?.stringValue == "failed")
        #expect(shown["last_sync"]?["error"]?.stringValue?.contains("has SHA-256 \(tampered)") == true)
        #expect(try fixture.cli(["package", "download", id, "--output", fixture.root.path + "/x.zip"]).status == 1)
    }

    @Test("a changed or planted file in the unpacked cache is replaced from the verified package before the sync")
    func tamperedCache() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let connection = try fixture.createConnection("orders", package: id, configuration: ["note": "from the package"])
        #expect(try fixture.cli(["run", "--connection", "orders"]).status == 0)
        let unpacked = fixture.home + "/cache/" + (connection["file_sha256_hash"]?.stringValue ?? "")
        try "raise SystemExit('planted code ran')\n".write(toFile: unpacked + "/connector.py", atomically: true, encoding: .utf8)
        try "x = 1\n".write(toFile: unpacked + "/requests.py", atomically: true, encoding: .utf8)
        let result = try fixture.cli(["run", "--connection", "orders"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains(
                "the unpacked copy in \(unpacked) differs from the package (connector.py was changed; requests.py was added); unpacking it again"
            ))
        #expect(
            try fixture.warehouseRows(connection, #"SELECT "n", "note" FROM "runs""#) == [
                ["1", "from the package"], ["2", "from the package"],
            ])
        #expect(!FileManager.default.fileExists(atPath: unpacked + "/requests.py"))
    }

    @Test("requirements are installed once per package hash, shared by every connection of the package")
    func requirementsOncePerHash() throws {
        let fixture = try RegistryFixture()
        let folder = try fixture.folder(
            "with-requirements",
            [
                "requirements.txt": "fivetran_connector_sdk\n./tinylib-1.0-py3-none-any.whl\n",
                "connector.py": """
                import sys
                import tinylib
                from fivetran_connector_sdk import Connector, Operations as op

                def update(configuration, state):
                    op.upsert("t", {"id": 1, "value": tinylib.VALUE, "venv": sys.prefix != sys.base_prefix})
                    op.checkpoint({"done": True})

                connector = Connector(update=update)
                """,
            ])
        try FivetranCompatibilityTests.writeWheel(
            into: URL(fileURLWithPath: folder), module: "tinylib", version: "1.0", source: #"VALUE = "from the wheel""#)
        let id = try fixture.createPackage(folder)
        try fixture.createConnection("a", package: id)
        try fixture.createConnection("b", package: id)
        // No package index: the packaged wheel is all pip may use.
        let noIndex = ["PIP_NO_INDEX": "1"]
        let first = try fixture.cli(["run", "--connection", "a"], environment: noIndex)
        #expect(first.status == 0, "\(first.stderr)")
        let hash = try #require(try fixture.connection("a")["file_sha256_hash"]?.stringValue)
        #expect(
            first.stderr.contains("building package \(id) once for its hash \(hash.prefix(12)): pip install"),
            "\(first.stderr)")
        for name in ["b", "a"] {
            let again = try fixture.cli(["run", "--connection", name], environment: noIndex)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(!again.stderr.contains("building"), "\(again.stderr)")
        }
        #expect(try fixture.warehouseRows(try fixture.connection("b"), #"SELECT "value", "venv" FROM "t""#) == [["from the wheel", "1"]])
    }

    @Test("a second run of a connection while one syncs exits 75 and changes nothing; the first finishes")
    func oneAtATime() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let connection = try fixture.createConnection("slow", package: id, configuration: ["steps": "3", "sleep": "0.7"])
        let first = try fixture.start(["run", "--connection", "slow"])
        #expect(try fixture.waitUntil { try fixture.connection("slow")["status"]?["sync_state"]?.stringValue == "syncing" })
        let second = try fixture.cli(["run", "--connection", "slow"])
        #expect(second.status == 75)
        let pid = String(first.pid)
        #expect(
            second.stderr
                == "error: connection \"slow\" is already syncing (pid \(pid), which holds \(fixture.home)/connections/\(connection["id"]?.stringValue ?? "")/sync.lock); a connection never syncs twice at once, so this run did nothing\n"
        )
        let finished = first.finish()
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(try fixture.registryRows("SELECT status FROM syncs") == [["succeeded"]])
        #expect(try fixture.warehouseRows(connection, #"SELECT count(*) FROM "runs""#) == [["3"]])
    }

    @Test("after package update a connection's next run uses the new code and records the new hash")
    func updatedPackage() throws {
        let fixture = try RegistryFixture()
        let folder = try fixture.folder("counter")
        let id = try fixture.createPackage(folder)
        let connection = try fixture.createConnection("orders", package: id, configuration: ["note": "n"])
        #expect(try fixture.cli(["run", "--connection", "orders"]).status == 0)
        try RegistryFixture.countingConnector.replacingOccurrences(of: #"configuration.get("note", "")"#, with: #""version 2""#)
            .write(toFile: folder + "/connector.py", atomically: true, encoding: .utf8)
        let updated = try JSONParser.parse(try fixture.cli(["package", "update", id, folder, "--json"]).stdout)
        #expect(try fixture.cli(["run", "--connection", "orders"]).status == 0)
        #expect(
            try fixture.warehouseRows(connection, #"SELECT "n", "note" FROM "runs" ORDER BY "n""#) == [["1", "n"], ["2", "version 2"]])
        #expect(
            try fixture.warehouseRows(connection, #"SELECT "package_sha256" FROM "_connector_syncs" ORDER BY "id""#)
                == [[connection["file_sha256_hash"]?.stringValue ?? ""], [updated["file_sha256_hash"]?.stringValue ?? ""]])
    }
}

@Suite("inspect of a connection's warehouse")
struct ConnectionInspectTests {
    @Test("inspect shows the package id and hash each sync of a connection ran")
    func inspectShowsPackage() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let connection = try fixture.createConnection("orders", package: id)
        #expect(try fixture.cli(["run", "--connection", "orders"]).status == 0)
        let hash = connection["file_sha256_hash"]?.stringValue ?? ""
        let warehouse = connection["warehouse"]?.stringValue ?? ""
        let text = try fixture.cli(["inspect", fixture.root.path, "--warehouse", warehouse])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("\n     package: \(id) (sha256 \(hash))"), "\(text.stdout)")
        let json = try JSONParser.parse(try fixture.cli(["inspect", fixture.root.path, "--warehouse", warehouse, "--json"]).stdout)
        #expect(json["syncs"]?.arrayValue?.first?["packageId"]?.stringValue == id)
        #expect(json["syncs"]?.arrayValue?.first?["packageSha256"]?.stringValue == hash)
        #expect(json["syncs"]?.arrayValue?.first?["counts"]?["upserts"] == .number(JSONNumber(1)))
    }
}

@Suite("Connections run by an orchestrator")
struct OrchestratorTests {
    @Test("cron-style overlapping starts: every run either syncs or exits 75 doing nothing, and no two syncs of a connection overlap")
    func overlappingStarts() throws {
        let fixture = try RegistryFixture()
        let id = try fixture.createPackage(try fixture.folder("counter"))
        let connection = try fixture.createConnection("orders", package: id, configuration: ["steps": "2", "sleep": "0.4"])
        // What a crontab entry firing faster than the sync takes does: a new process every 0.3 s.
        var runs: [RunningCLI] = []
        for _ in 0..<8 {
            runs.append(try fixture.start(["run", "--connection", "orders", "--quiet"]))
            usleep(300_000)
        }
        let statuses = runs.map { $0.finish().status }
        #expect(statuses.allSatisfy { $0 == 0 || $0 == 75 }, "\(statuses)")
        #expect(statuses.contains(0) && statuses.contains(75), "\(statuses)")
        let syncs = try fixture.syncs(of: "orders")
        #expect(syncs.count == statuses.filter { $0 == 0 }.count)
        #expect(syncs.allSatisfy { $0.status == "succeeded" })
        for (earlier, later) in zip(syncs, syncs.dropFirst()) { #expect(later.started >= earlier.finished ?? .max) }
        // Each sync resumed from the one before: two rows per sync, numbered without gaps.
        #expect(
            try fixture.warehouseRows(connection, #"SELECT count(*), max("n") FROM "runs""#) == [
                ["\(2 * syncs.count)", "\(2 * syncs.count)"]
            ])
    }
}
