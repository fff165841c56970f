import ConnectorHost
import Foundation
import Testing

/// Fivetran-style `connector.py` folders run unchanged under `connector-host run`.
///
/// What the Fivetran local tester documents, and where this host differs on purpose: tables and
/// columns are named as Fivetran names them (snake_case, here already the source names) with
/// Fivetran's system columns (`_fivetran_synced`, `_fivetran_deleted`); declared types are recorded and enforced, undeclared columns are inferred from the values
/// (integer -> LONG, other numbers -> DOUBLE, booleans, strings, dicts and lists -> JSON); FLOAT is
/// stored as a 64-bit double, so 0.1 stays 0.1 (the tester keeps 32 bits); UTC_DATETIME values are
/// converted to UTC; deletes and truncates are soft, with a deleted flag and a synced timestamp on
/// every row, and state advances only at checkpoints.
@Suite("Fivetran-style connector.py, end to end")
struct FivetranCompatibilityTests {
    static let fixture = packageRoot.appendingPathComponent("Tests/Fixtures/fivetran-style")

    /// A temporary folder holding only the fixture's connector.py and configuration.json.
    func fivetranFolder() throws -> ConnectorFixture {
        let files = try ["connector.py", "configuration.json"].map {
            ($0, try String(contentsOf: Self.fixture.appendingPathComponent($0), encoding: .utf8))
        }
        return try ConnectorFixture(files: Dictionary(uniqueKeysWithValues: files))
    }

    @Test("a folder with only connector.py and configuration.json syncs every operation, type and checkpoint, then resumes")
    func runsUnchanged() throws {
        let folder = try fivetranFolder()
        let first = try runCLI(["run", folder.path])
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        for line in ["upserts         4", "updates         1", "deletes         1", "truncates       1", "checkpoints     3"] {
            #expect(first.stdout.contains(line), "\(first.stdout)")
        }
        #expect(first.stderr.contains("] starting at cursor 0\n"), "print() reaches the log: \(first.stderr)")
        #expect(first.stderr.contains(" WARNING] Example: Fivetran-style connector on connector-host\n"))
        #expect(!first.stderr.contains("fivetran-style-secret") && !first.stdout.contains("fivetran-style-secret"))
        #expect(folder.stateFile() == #"{"cursor":3,"finished":true}"#)

        #expect(
            try folder.rows(
                #"SELECT "column_name", "type", coalesce("precision", ''), coalesce("scale", ''), "declared" FROM "_connector_columns" WHERE "table_name" = 'products' ORDER BY "position""#
            ) == [
                ["id", "INT", "", "", "1"], ["name", "STRING", "", "", "1"], ["price", "DECIMAL", "10", "2", "1"],
                ["weight", "FLOAT", "", "", "1"], ["rating", "DOUBLE", "", "", "1"], ["in_stock", "BOOLEAN", "", "", "1"],
                ["released", "NAIVE_DATE", "", "", "1"], ["restocked_at", "NAIVE_DATETIME", "", "", "1"],
                ["updated_at", "UTC_DATETIME", "", "", "1"], ["thumbnail", "BINARY", "", "", "1"], ["attributes", "JSON", "", "", "1"],
                ["spec", "XML", "", "", "1"], ["quantity", "SHORT", "", "", "1"], ["views", "LONG", "", "", "1"],
            ])
        let products = try folder.rows(
            #"SELECT "id", "name", "price", "weight", typeof("weight"), "rating", "in_stock", "released", "restocked_at", "updated_at", quote("thumbnail"), "attributes", "spec", "quantity", "views", "_fivetran_deleted" FROM "products" ORDER BY "id""#
        )
        #expect(
            products == [
                [
                    "1", "kettle", "17.49", "0.1", "real", "4.7", "1", "2024-02-29", "2024-03-01T10:30:00", "2024-03-01T10:00:00Z",
                    "X'0001FF'", #"{"color":"red","sizes":[1,2]}"#, #"<spec watts="2200"/>"#, "7", "1099511627776", "0",
                ],
                [
                    "2", "toaster", "34.50", "1.25", "real", "3.9", "0", "2023-11-05", "2024-02-01T08:00:00.250000",
                    "2024-03-02T09:15:00Z", "X''", "[]", "NULL", "-3", "0", "1",
                ],
                [
                    "3", "mug", "5.00", "0.3", "real", "NULL", "1", "2024-01-01", "NULL", "2024-03-04T04:59:59Z", "NULL",
                    #"{"color":null}"#, "<spec/>", "0", "12", "0",
                ],
            ])
        #expect(try folder.rows(#"SELECT "weight" = 0.1 FROM "products" WHERE "id" = 1"#) == [["1"]], "FLOAT keeps 64 bits")

        #expect(
            try folder.rows(
                #"SELECT "column_name", "type", "declared" FROM "_connector_columns" WHERE "table_name" = 'sync_events' ORDER BY "position""#
            ) == [
                ["kind", "STRING", "0"], ["count", "LONG", "0"], ["ratio", "DOUBLE", "0"], ["ok", "BOOLEAN", "0"],
                ["details", "JSON", "0"],
            ])
        let events = #"SELECT "kind", "count", "ratio", "ok", "details", "_fivetran_deleted" FROM "sync_events""#
        let expectedEvents = [["sync", "3", "0.6666666666666666", "1", #"{"pages":2,"source":"{\"api\": \"v1\"}"}"#, "0"]]
        #expect(try folder.rows(events) == expectedEvents)

        let second = try runCLI(["run", folder.path])
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stderr.contains("] starting at cursor 3\n"), "the second run resumes from the state")
        #expect(second.stdout.contains("upserts         1"))
        #expect(try folder.rows(#"SELECT count(*) FROM "products""#) == [["3"]])
        #expect(try folder.rows(events) == expectedEvents, "truncate, then the same row again: one live row")
        #expect(folder.stateFile() == #"{"cursor":3,"finished":true}"#)
    }

    @Test("requirements.txt is installed into files/venv (fivetran_connector_sdk lines skipped) and the connector runs with it")
    func requirementsInstallIntoVirtualEnvironment() throws {
        let folder = try ConnectorFixture(files: [
            "requirements.txt": "fivetran_connector_sdk\n./tinylib-1.0-py3-none-any.whl\n",
            "connector.py": """
            import sys
            import tinylib
            from fivetran_connector_sdk import Connector, Operations as op

            def schema(configuration):
                return [{"table": "t", "primary_key": ["id"], "columns": {"id": "INT", "value": "STRING", "venv": "BOOLEAN"}}]

            def update(configuration, state):
                op.upsert("t", {"id": 1, "value": tinylib.VALUE, "venv": sys.prefix != sys.base_prefix})
                op.checkpoint({"done": True})

            connector = Connector(update=update, schema=schema)
            """,
        ])
        try Self.writeWheel(into: folder.directory, module: "tinylib", version: "1.0", source: #"VALUE = "installed from a wheel""#)
        // No package index: the local wheel is all pip may use, and the fivetran line must not reach it.
        let result = try runCLI(["run", folder.path], environment: ["PIP_NO_INDEX": "1"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("building "), "the setup step is announced: \(result.stderr)")
        #expect(try folder.rows(#"SELECT "value", "venv" FROM "t""#) == [["installed from a wheel", "1"]])
        #expect(FileManager.default.fileExists(atPath: folder.directory.appendingPathComponent("files/venv/bin/python").path))
        let again = try runCLI(["run", folder.path], environment: ["PIP_NO_INDEX": "1"])
        #expect(again.status == 0, "\(again.stderr)")
    }

    /// Writes a minimal pure-Python wheel (a zip with the module, METADATA, WHEEL and RECORD).
    static func writeWheel(into directory: URL, module: String, version: String, source: String) throws {
        let script = """
            import base64, hashlib, sys, zipfile
            directory, module, version, source = sys.argv[1:5]
            info = "%s-%s.dist-info" % (module, version)
            files = {
                module + "/__init__.py": source + "\\n",
                info + "/METADATA": "Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\n" % (module, version),
                info + "/WHEEL": "Wheel-Version: 1.0\\nGenerator: connector-host-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
            }
            record = []
            with zipfile.ZipFile("%s/%s-%s-py3-none-any.whl" % (directory, module, version), "w") as wheel:
                for name, text in files.items():
                    data = text.encode()
                    wheel.writestr(name, data)
                    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                    record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
                record.append(info + "/RECORD,,")
                wheel.writestr(info + "/RECORD", "\\n".join(record) + "\\n")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pythonExecutable)
        process.arguments = ["-c", script, directory.path, module, version, source]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
