import ConnectorProtocol
import Foundation
import Testing

@testable import ConnectorHost

/// A connector.py that uses every name and keyword of the Fivetran Connector SDK 3.0 API lands as
/// `fivetran debug` 3.0.0 lands it: the same tables, rows, files and counts (checked against it with
/// scripts/fivetran_parity.py on this very connector), and `connector-host test` runs its setup tests.
@Suite("Fivetran 3.0: every name and keyword")
struct FivetranEveryKeywordTests {
    static let connector = """
        # Every name and keyword of the Fivetran Connector SDK 3.0 API, offline.

        import datetime
        import io

        from fivetran_connector_sdk import (
            ByteStream,
            ConfigurationForm,
            Connector,
            FileUpload,
            Logging as log,
            Operations as op,
            Test,
            form_field,
        )


        def schema(configuration):
            return [
                {"table": "docs", "primary_key": ["id"], "columns": {"id": "INT", "title": "STRING"}},
                {"table": "docs", "schema": "archive", "primary_key": ["id"]},
                {"table": "events"},
            ]


        def check_connection(configuration):
            return Test.success()


        def check_key(configuration):
            if configuration.get("api_key") != "good":
                return Test.failure("401 Unauthorized: check api_key")
            return Test.success()


        def configuration_form():
            form = ConfigurationForm()
            form.add_field(form_field.TextField("api_key", "API key", form_field.TextField.password, required=True))
            form.add_field(form_field.ToggleField("verbose", "Verbose"))
            form.add_test(label="Connection", func=check_connection)
            form.add_test("API key", check_key)
            return form


        def update(configuration, state):
            log.info("starting from %r" % (state,))
            log.fine("fine detail")
            log.warning("a log warning")
            log.severe("severe, but going on")
            op.upsert("docs", {"id": 1, "title": "one", "createdAt": "2024-01-02T03:04:05Z"},
                      file=FileUpload("reports/one.txt", io.BytesIO(b"first file"), expected_bytes=10))
            op.upsert("docs", {"id": 2, "title": "two", "blob": b"\\x00\\x01"})
            op.update("docs", {"id": 2, "title": "two, again"}, file=FileUpload("two.txt", io.BytesIO(b"second")))
            op.upsert("docs", {"id": 1, "title": "archived", "val1": 1.5}, schema="archive")
            op.upsert("docs", {"id": 2, "title": "archived too"}, schema="archive",
                      file=FileUpload("a.txt", io.BytesIO(b"archived file")))
            op.delete("docs", {"id": 1}, schema="archive")
            op.upsert("events", {"kind": "start", "at": datetime.date(2024, 5, 1)})
            op.upsert("events", {"kind": "start", "at": datetime.date(2024, 5, 1)})
            op.upsert("events", {"kind": "stop", "n": "42"})
            op.warning("page 3 returned no items")
            op.checkpoint({"cursor": 1})
            op.truncate("docs", schema="archive")
            op.checkpoint(state={"cursor": 2})


        assert isinstance(io.BytesIO(), ByteStream)
        connector = Connector(update=update, schema=schema, configuration_form=configuration_form)

        if __name__ == "__main__":
            connector.debug()
        """

    @Test(
        "every 3.0 name and keyword: the tables, rows, files and counts fivetran debug gives; connector-host test runs the form's setup tests"
    )
    func everyKeyword() throws {
        let folder = try ConnectorFixture(files: ["connector.py": Self.connector, "configuration.json": #"{"api_key": "good"}"#])
        let name = folder.directory.lastPathComponent
        let run = try runCLI(["run", folder.path, "--json"])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let report = try #require(JSONParser.parse(Array(run.stdout.utf8)).objectValue)
        let counts = try #require(report["counts"]?.objectValue)
        for (name, value) in [
            ("upserts", 7), ("updates", 1), ("deletes", 1), ("truncates", 1), ("checkpoints", 2), ("fileUploads", 3), ("warnings", 1),
        ] {
            #expect(counts[name] == .number(JSONNumber(Int64(value))), "\(name): \(run.stdout)")
        }
        #expect(run.stderr.contains("[\(name) WARNING] page 3 returned no items"), "\(run.stderr)")
        #expect(run.stderr.contains("[\(name) ERROR] severe, but going on"), "\(run.stderr)")
        #expect(
            try folder.rows(#"SELECT "name", "schema" FROM "_connector_tables" ORDER BY "name""#)
                == [["archive.docs", "archive"], ["docs", "NULL"], ["events", "NULL"]])
        #expect(
            try folder.rows(
                #"SELECT "id", "title", "created_at", hex("blob"), "_fivetran_file_path", "_fivetran_deleted" FROM "docs" ORDER BY "id""#)
                == [
                    ["1", "one", "2024-01-02T03:04:05Z", "", "reports/one.txt", "0"], ["2", "two, again", "NULL", "0001", "two.txt", "0"],
                ])
        #expect(
            try folder.rows(#"SELECT "id", "title", "val_1", "_fivetran_file_path", "_fivetran_deleted" FROM "archive.docs" ORDER BY "id""#)
                == [["1", "archived", "1.5", "NULL", "1"], ["2", "archived too", "NULL", "a.txt", "1"]])
        // Two identical keyless rows are one (Fivetran's _fivetran_id); the string "42" types its column LONG.
        #expect(
            try folder.rows(#"SELECT "kind", "at", "n", "_fivetran_id" FROM "events" ORDER BY "kind""#)
                == [
                    ["start", "2024-05-01", "NULL", "VOVIjX9w5T7fYBBNrJVlFTBDZ6U="],
                    ["stop", "NULL", "42", "L+d+fpaGAf45KldzoDNvyMoQ6gg="],
                ])
        #expect(
            FileUploadTests.stored(folder) == [
                "tester/docs/reports/one.txt": "first file", "tester/docs/two.txt": "second", "tester_archive/docs/a.txt": "archived file",
            ])
        let state = try String(contentsOf: folder.directory.appendingPathComponent("files/state.json"), encoding: .utf8)
        #expect(try JSONParser.parse(Array(state.utf8)) == ["cursor": 2], "\(state)")

        let test = try runCLI(["test", folder.path])
        #expect(test.status == 0, "\(test.stdout)\n\(test.stderr)")
        #expect(
            test.stdout
                == "connector-host test: \(name)\n  PASS  Connection  passed\n  PASS  API key     passed\n2 passed, 0 failed\n2 setup tests passed\n"
        )
        let bad = folder.directory.appendingPathComponent("bad.json").path
        try #"{"api_key": "bad"}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        let failing = try runCLI(["test", folder.path, "--configuration", bad])
        #expect(failing.status == 1)
        #expect(
            failing.stdout
                == "connector-host test: \(name)\n  PASS  Connection  passed\n  FAIL  API key     401 Unauthorized: check api_key\n1 passed, 1 failed\nsetup test \"API key\" failed: 401 Unauthorized: check api_key\n",
            "\(failing.stdout)")
    }
}
