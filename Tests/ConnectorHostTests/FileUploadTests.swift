import ConnectorProtocol
import Foundation
import Testing

@testable import ConnectorHost

/// File uploads (Fivetran's `FileUpload`, PROTOCOL.md 6.11): staged by the SDK, stored at the
/// commit that covers their row, removed when no row points to them any more.
@Suite("File uploads")
struct FileUploadTests {
    /// A connector.py whose `update` does what `configuration["step"]` says.
    static let connector = """
        import io
        from fivetran_connector_sdk import Connector, FileUpload, Operations as op

        def schema(configuration):
            return [{"table": "docs", "primary_key": ["id"]}]

        def upload(path, text):
            return FileUpload(path, io.BytesIO(text.encode()), expected_bytes=len(text.encode()))

        def update(configuration, state):
            step = configuration["step"]
            if step == "1":
                op.upsert("docs", {"id": 1, "title": "one"}, file=upload("reports/a.txt", "first"))
                op.upsert("docs", {"id": 2, "title": "two"}, file=upload("b.txt", "second"))
                op.upsert("docs", {"id": 3, "title": "three"}, file=upload("reports/a.txt", "first"))
                op.checkpoint({"step": 1})
                op.upsert("docs", {"id": 4, "title": "four"}, file=upload("lost.txt", "rolled back"))
                raise RuntimeError("the source went away")
            if step == "2":
                op.upsert("docs", {"id": 1, "title": "one"}, file=upload("c.txt", "third"))
                op.update("docs", {"id": 2}, file=upload("b.txt", "second, again"))
                op.update("docs", {"id": 9}, file=upload("nobody.txt", "no row"))
                op.delete("docs", {"id": 2})
                op.upsert("other", {"k": "a\\\\b\\tc"}, schema="Files Schema", file=upload("x.txt", "x"))
                op.upsert("logs", {"line": "started", "n": 1.5}, file=upload("log.txt", "keyless"))
                op.checkpoint({"step": 2})
            if step == "3":
                op.upsert("docs", {"id": 3, "title": "three"}, file=upload("d.txt", "fourth"))
                op.checkpoint({"step": 3})

        connector = Connector(update=update, schema=schema)
        """

    /// The files under files/storage, relative, with their contents.
    static func stored(_ folder: ConnectorFixture) -> [String: String] {
        let root = folder.directory.appendingPathComponent("files/storage").path
        var found: [String: String] = [:]
        let walker = FileManager.default.enumerator(atPath: root)
        while let name = walker?.nextObject() as? String {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + name, isDirectory: &isFolder), !isFolder.boolValue {
                found[name] = try? String(contentsOfFile: root + "/" + name, encoding: .utf8)
            }
        }
        return found
    }

    static func staged(_ folder: ConnectorFixture) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder.directory.appendingPathComponent("files/.connector-host-staging").path))
            ?? []
    }

    @Test(
        "files land at the commit of their row under storage/<schema>/<table>/<path>; rolled-back ones never; a file no row points to is removed",
        arguments: Backend.all
    )
    func uploadsAcrossSyncs(_ backend: Backend) throws {
        let folder = try ConnectorFixture(files: ["connector.py": Self.connector, "configuration.json": #"{"step": "1"}"#])
        let configuration = folder.directory.appendingPathComponent("configuration.json").path
        let schema = backend == .postgres ? try TestSchema("files") : nil
        let destination = schema.map { ["--destination", $0.uri, "--schema", $0.name] } ?? []
        func rows(_ sql: String) throws -> [[String]] {
            guard let schema else { return try folder.rows(sql) }
            // PostgreSQL's booleans as SQLite shows them.
            return try schema.rows(sql).map {
                $0.map { $0 == "t" ? "1" : $0 == "f" ? "0" : $0 }
            }
        }

        let first = try runCLI(["run", folder.path] + destination)
        #expect(first.status == 1, "\(first.stdout)\n\(first.stderr)")
        #expect(Self.stored(folder) == ["tester/docs/reports/a.txt": "first", "tester/docs/b.txt": "second"])
        #expect(Self.staged(folder).isEmpty, "the rolled-back upload is not left staged")
        #expect(
            try rows(#"SELECT "id", "title", "_fivetran_file_path" FROM "docs" ORDER BY "id""#)
                == [["1", "one", "reports/a.txt"], ["2", "two", "b.txt"], ["3", "three", "reports/a.txt"]])

        try #"{"step": "2"}"#.write(toFile: configuration, atomically: true, encoding: .utf8)
        let second = try runCLI(["run", folder.path, "--json"] + destination)
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        // a.txt stays: row 3 still points to it. b.txt is replaced in place; the deleted row keeps it.
        #expect(
            Self.stored(folder) == [
                "tester/docs/reports/a.txt": "first", "tester/docs/b.txt": "second, again", "tester/docs/c.txt": "third",
                "tester_files_schema/other/x.txt": "x", "tester/logs/log.txt": "keyless",
            ])
        #expect(
            try rows(#"SELECT "id", "_fivetran_file_path", "_fivetran_deleted" FROM "docs" ORDER BY "id""#)
                == [["1", "c.txt", "0"], ["2", "b.txt", "1"], ["3", "reports/a.txt", "0"]])
        #expect(try rows(#"SELECT "k", "_fivetran_file_path" FROM "files_schema.other""#) == [["a\\b\tc", "x.txt"]])
        #expect(try rows(#"SELECT "line", "_fivetran_file_path" FROM "logs""#) == [["started", "log.txt"]])
        let report = try #require(JSONParser.parse(Array(second.stdout.utf8)).objectValue)
        #expect(report["counts"]?["fileUploads"] == .number(JSONNumber(5)), "every file op is counted: \(second.stdout)")

        try #"{"step": "3"}"#.write(toFile: configuration, atomically: true, encoding: .utf8)
        let third = try runCLI(["run", folder.path] + destination)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stdout.contains("file uploads    1"), "\(third.stdout)")
        // Row 3 moved to d.txt: no row points to reports/a.txt any more, so it goes with its folder.
        #expect(
            Self.stored(folder) == [
                "tester/docs/b.txt": "second, again", "tester/docs/c.txt": "third", "tester/docs/d.txt": "fourth",
                "tester_files_schema/other/x.txt": "x", "tester/logs/log.txt": "keyless",
            ])
        #expect(!FileManager.default.fileExists(atPath: folder.directory.appendingPathComponent("files/storage/tester/docs/reports").path))
        #expect(Self.staged(folder).isEmpty)
        #expect(try rows(#"SELECT count(*) FROM "_connector_file_moves""#) == [["0"]], "the journal is empty once its moves are done")
    }

    @Test("a file op whose source is outside the staging folder, or whose path leaves the table's folder, is an invalid operation")
    func refusedFiles() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString).txt").path
        try "secret".write(toFile: outside, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let cases: [(JSONValue, String)] = [
            (
                ["path": "a.txt", "source": .string(outside), "size": 6],
                "\"file\".source \"\(outside)\" is not a file of the staging folder"
            ),
            (
                ["path": "../a.txt", "source": .string(outside), "size": 1],
                "\"file\".path \"../a.txt\" has a \".\" or \"..\" segment; paths stay inside the table's folder"
            ),
            (
                ["path": "/etc/a.txt", "source": .string(outside), "size": 1],
                "\"file\".path \"/etc/a.txt\" is absolute; give it relative to the table's folder"
            ),
            (["path": "a.txt"], "\"file\" must be {\"path\": \"...\", \"source\": \"...\", \"size\": N}"),
        ]
        for (file, expected) in cases {
            let fixture = try ConnectorFixture(
                rawSchema: ["tables": [["table": "t", "primaryKey": ["id"]]]],
                steps: [[["op": "upsert", "table": "t", "data": ["id": 1], "file": file]]])
            let failure = try #require(fixture.sync().0.failure, "\(file)")
            #expect(failure.kind == .invalidOperation, "\(failure.message)")
            #expect(failure.message.contains(expected), "\(failure.message)")
            #expect(try fixture.rows(#"SELECT count(*) FROM sqlite_master WHERE name = 't'"#) == [["0"]])
        }
    }

    @Test("moves a commit journaled but a crash left undone (before the renames) are carried out by the next open")
    func journalFinishedAfterACrash() throws {
        let folder = try ConnectorFixture(files: ["connector.py": Self.connector, "configuration.json": #"{"step": "1"}"#])
        #expect(try runCLI(["run", folder.path]).status == 1)
        #expect(Self.stored(folder) == ["tester/docs/reports/a.txt": "first", "tester/docs/b.txt": "second"])
        // The state a host killed right after a COMMIT leaves: the journal rows are committed, the
        // staged file is still in the staging folder, and a file to remove is still stored.
        let staging = folder.directory.appendingPathComponent("files/.connector-host-staging").path
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let staged = staging + "/upload-crash"
        try "after the crash".write(toFile: staged, atomically: false, encoding: .utf8)
        do {
            let database = try SQLiteDatabase(path: folder.warehousePath)
            try database.run(
                #"INSERT INTO "_connector_file_moves" ("source", "destination") VALUES (?1, 'tester/docs/c.txt'), (NULL, 'tester/docs/b.txt')"#,
                [.text(staged)])
        }

        try #"{"step": "none"}"#.write(
            toFile: folder.directory.appendingPathComponent("configuration.json").path, atomically: true, encoding: .utf8)
        let next = try runCLI(["run", folder.path])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(Self.stored(folder) == ["tester/docs/reports/a.txt": "first", "tester/docs/c.txt": "after the crash"])
        #expect(Self.staged(folder).isEmpty)
        #expect(try folder.rows(#"SELECT count(*) FROM "_connector_file_moves""#) == [["0"]])
    }

    @Test("the Node helper stages files from data or from a local file; a wrong expectedBytes fails the op (skipped without node)")
    func nodeHelperUploads() throws {
        guard shell(["node", "--version"]).status == 0 else {
            print("skipped: node is not installed")
            return
        }
        let helper = try String(contentsOf: packageRoot.appendingPathComponent("sdks/node/protocol.js"), encoding: .utf8)
        let folder = try ConnectorFixture(
            command: ["node", "connector.js"],
            files: [
                "protocol.js": helper,
                "local.bin": "from disk",
                "configuration.json": #"{"step": "1"}"#,
                "connector.js": """
                const { run } = require('./protocol.js');
                run({
                  schema: () => [{ table: 'docs', primaryKey: ['id'] }],
                  async update(ctx) {
                    if (ctx.configuration.step === '1') {
                      await ctx.upsert('docs', { id: 1 }, { file: { path: 'a/one.txt', data: 'one', expectedBytes: 3 } });
                      await ctx.upsert('docs', { id: 2 }, { file: { path: 'two.bin', data: Buffer.from([0, 255]) } });
                      await ctx.update('docs', { id: 2 }, { file: { path: 'local.bin', from: 'local.bin' } });
                      await ctx.checkpoint({ step: 1 });
                    } else {
                      await ctx.upsert('docs', { id: 3 }, { file: { path: 'x.txt', data: 'four', expectedBytes: 3 } });
                    }
                  },
                });
                """,
            ])
        let first = try runCLI(["run", folder.path])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        #expect(first.stdout.contains("file uploads    3"), "\(first.stdout)")
        // two.bin is replaced by local.bin for row 2, so no row points to it any more.
        #expect(Self.stored(folder) == ["tester/docs/a/one.txt": "one", "tester/docs/local.bin": "from disk"])
        #expect(
            try folder.rows(#"SELECT "id", "_connector_file_path" FROM "docs" ORDER BY "id""#) == [["1", "a/one.txt"], ["2", "local.bin"]])

        try #"{"step": "2"}"#.write(
            toFile: folder.directory.appendingPathComponent("configuration.json").path, atomically: true, encoding: .utf8)
        let second = try runCLI(["run", folder.path])
        #expect(second.status == 1)
        #expect(
            second.stderr.contains(#"upsert on docs: options.file "x.txt": expectedBytes is 3 but the file has 4 bytes"#), "\(second.stderr)")
        #expect(Self.staged(folder).isEmpty, "the refused file is not left staged")
        #expect(try folder.rows(#"SELECT count(*) FROM "docs""#) == [["2"]])
    }
}
