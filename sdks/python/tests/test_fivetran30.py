"""The Fivetran Connector SDK 3.0 API over the protocol: schema=, op.warning,
op.error, FileUpload, log levels, type hints, the configuration form and its
setup tests. A real connector subprocess driven by fakehost.py."""

import base64
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from fakehost import FakeHost, fixture  # noqa: E402

F30 = fixture("fivetran30")


class Base(unittest.TestCase):
    def host(self, path=F30):
        h = FakeHost(path)
        self.addCleanup(h.kill)
        return h

    def error(self, resp, code=-32013):
        self.assertIn("error", resp, resp)
        self.assertEqual(resp["error"]["code"], code, resp)
        return resp["error"]

    def staging(self):
        d = tempfile.mkdtemp(prefix="staging-")
        self.addCleanup(shutil.rmtree, d, True)
        return d


class ImportTest(unittest.TestCase):
    def test_the_3_0_names_and_submodules(self):
        import fivetran_connector_sdk as ft
        from fivetran_connector_sdk import (ByteStream, ConfigurationForm, Connector, FileUpload, Logging,  # noqa: F401
                                            Operations, Test, form_field)
        import fivetran_connector_sdk.form_field
        import fivetran_connector_sdk.file_upload
        import fivetran_connector_sdk.configuration_form
        import fivetran_connector_sdk.operations
        import fivetran_connector_sdk.test
        self.assertEqual(ft.__all__, ["ByteStream", "FileUpload", "Logging", "Operations", "ConfigurationForm",
                                      "Test", "form_field"])
        self.assertIs(fivetran_connector_sdk.form_field.TextField, form_field.TextField)
        self.assertIs(fivetran_connector_sdk.file_upload.FileUpload, FileUpload)
        self.assertIs(fivetran_connector_sdk.test.Test, Test)
        self.assertIs(fivetran_connector_sdk.operations.Operations, Operations)
        self.assertIs(fivetran_connector_sdk.configuration_form.ConfigurationForm, ConfigurationForm)
        self.assertEqual([(l.name, int(l)) for l in Logging.Level],
                         [("DEBUG", 1), ("FINE", 2), ("INFO", 3), ("WARNING", 4), ("ERROR", 5), ("SEVERE", 6),
                          ("CRITICAL", 7)])
        self.assertTrue(isinstance(io.BytesIO(b""), ByteStream))
        self.assertFalse(isinstance(object(), ByteStream))

    def test_connector_takes_update_schema_configuration_form_positionally(self):
        from fivetran_connector_sdk import Connector

        def form():
            return None
        c = Connector(lambda c, s: None, None, form)
        self.assertIs(c.configuration_form_method, form)
        with self.assertRaises(TypeError) as cm:
            Connector(lambda c, s: None, configuration_form="nope")
        self.assertEqual(str(cm.exception),
                         "Connector(configuration_form=...) must be a function that returns a ConfigurationForm")

    def test_file_upload_strips_its_path_and_is_frozen(self):
        from fivetran_connector_sdk import FileUpload
        f = FileUpload("  a/b.txt ", io.BytesIO(b"x"))
        self.assertEqual((f.path, f.expected_bytes), ("a/b.txt", None))
        with self.assertRaises(Exception):
            f.path = "c"

    def test_form_validation_messages(self):
        from fivetran_connector_sdk import ConfigurationForm, form_field
        form = ConfigurationForm()
        with self.assertRaises(TypeError) as cm:
            form.add_field("host")
        self.assertEqual(str(cm.exception),
                         "add_field takes a form_field.TextField, DropdownField or ToggleField, got str")

        def probe(configuration):
            return None
        with self.assertRaises(ValueError) as cm:
            form.add_test(label="x", func=lambda c: None)
        self.assertEqual(str(cm.exception),
                         "add_test(label='x', ...): use a named function, not a lambda (tests are identified "
                         "by their function name)")
        form.add_test(label="first", func=probe)
        with self.assertRaises(ValueError) as cm:
            form.add_test(label="again", func=probe)
        self.assertEqual(str(cm.exception), "add_test(label='again', ...): a test function named 'probe' is "
                                            "already registered; give each test its own function")
        with self.assertRaises(ValueError) as cm:
            form.add_test(label=" ", func=probe)
        self.assertEqual(str(cm.exception), "add_test needs a non-empty label")
        with self.assertRaises(ValueError) as cm:
            form_field.DropdownField("r", "Region", fields=[])
        self.assertEqual(str(cm.exception), "DropdownField 'r' needs at least one option in fields=[...]")
        with self.assertRaises(ValueError) as cm:
            form_field.TextField("h", "Host", 7)
        self.assertEqual(str(cm.exception),
                         "TextField 'h': field_type must be TextField.plain_text or TextField.password, got 7")

    def test_operations_outside_a_session(self):
        from fivetran_connector_sdk import Operations as op
        from connector_host_sdk import ConnectorError
        with self.assertRaises(ConnectorError) as cm:
            op.error("boom", trace="t")
        self.assertEqual((cm.exception.message, cm.exception.trace), ("boom", "t"))
        self.assertFalse(isinstance(cm.exception, Exception))
        with self.assertRaises(TypeError) as cm:
            op.error("boom", trace=3)
        self.assertEqual(str(cm.exception), "trace must be a string or None, got int")


class SchemaKeywordTest(Base):
    def test_schema_on_ops_and_in_schema_entries(self):
        h = self.host()
        h.initialize()
        self.assertEqual(h.request("schema", {"configuration": {}})["result"]["tables"][1],
                         {"table": "docs", "schema": "archive", "primaryKey": ["id"]})
        h.events.clear()
        self.assertEqual(h.update({"mode": "sync"})["result"], {})
        self.assertEqual(h.ops, [
            {"op": "upsert", "table": "docs", "data": {"id": 1, "title": "a"}},
            {"op": "upsert", "table": "docs", "schema": "archive", "data": {"id": 1, "title": "old"}},
            {"op": "update", "table": "docs", "schema": "archive", "data": {"id": 1, "title": "older"}},
            {"op": "delete", "table": "docs", "schema": "archive", "keys": {"id": 1}},
            {"op": "truncate", "table": "docs", "schema": "archive"},
        ])
        line = [l for l in h.raw_lines if b'"records"' in l][0]
        self.assertIn(b'{"op":"upsert","table":"docs","schema":"archive","data":{"id":1,"title":"old"}}', line)
        self.assertEqual(h.warnings, ["rate limit close"])
        self.assertEqual(h.events[0], ("warning", "rate limit close"))  # sent at once, not batched
        self.assertEqual([lvl for lvl, _ in h.logs], [])  # both tables are declared: no warning
        self.assertEqual(h.bad_lines, [])

    def test_validation_of_warning_table_and_schema(self):
        h = self.host()
        h.initialize()
        self.assertEqual(h.update({"mode": "warning_validation"})["result"], {})
        self.assertEqual([m for _, m in h.logs], [
            "TypeError: message must be a string, got NoneType",
            "ValueError: message must be a non-empty string",
            "TypeError: table must be a string, got int",
            "ValueError: table must be a non-empty string",
            "ValueError: schema must be a non-empty string (or None for the default schema)",
            "TypeError: schema must be a string or None, got int",
        ])
        self.assertEqual(h.ops, [])

    def test_bad_schema_member_in_schema_is_32010(self):
        from connector_host_sdk.session import translate_schema
        from connector_host_sdk import SchemaError
        with self.assertRaises(SchemaError) as cm:
            translate_schema([{"table": "t", "schema": ""}])
        self.assertEqual(str(cm.exception), 'table t: "schema" must be a non-empty string')


class ErrorTest(Base):
    def test_op_error_fails_the_update_with_message_and_trace(self):
        h = self.host()
        h.initialize()
        err = self.error(h.update({"mode": "error"}))
        self.assertEqual(err, {"code": -32013, "message": "the source returned garbage",
                               "data": {"type": "ConnectorError", "traceback": "Traceback: line 1\nline 2"}})
        self.assertEqual(h.ops, [{"op": "upsert", "table": "docs", "data": {"id": 1, "title": "before the error"}}])
        self.assertNotIn("the source returned garbage", h.stderr)  # the host prints it, not the SDK
        self.assertEqual(h.request("shutdown", {})["result"], {})
        self.assertEqual(h.wait(), 0)

    def test_without_trace_the_traceback_is_omitted(self):
        h = self.host()
        h.initialize()
        self.assertEqual(self.error(h.update({"mode": "error_no_trace"})),
                         {"code": -32013, "message": "stop now", "data": {"type": "ConnectorError"}})

    def test_a_caught_op_error_still_fails_the_sync_and_refuses_later_ops(self):
        h = self.host()
        h.initialize()
        err = self.error(h.update({"mode": "error_swallowed"}))
        self.assertEqual(err["message"], "swallowed but still fatal")
        self.assertEqual(h.logs, [("info", "after op.error: ConnectorError")])
        self.assertEqual(h.ops, [])
        # the next sync starts clean
        self.assertEqual(h.update({"mode": "sync"})["result"], {})

    def test_op_error_from_another_thread_fails_the_sync(self):
        h = self.host()
        h.initialize()
        err = self.error(h.update({"mode": "error_thread"}))
        self.assertEqual(err["message"], "worker failed")
        self.assertIn("in work", err["data"]["traceback"])


class LoggingTest(Base):
    def test_exception_tracebacks_are_appended(self):
        h = self.host()
        h.initialize()
        h.update({"mode": "log_exception"})
        (l1, m1), (l2, m2), (l3, m3) = h.logs
        self.assertEqual((l1, l2, l3), ("error", "critical", "error"))
        for m, head in ((m1, "lookup failed\n"), (m2, "giving up\n")):
            self.assertTrue(m.startswith(head + "Traceback (most recent call last):\n"), m)
            self.assertTrue(m.endswith("KeyError: 'missing'"), m)
            self.assertIn('raise KeyError("missing")', m)
        self.assertEqual(m3, "no exception")

    def test_log_level_threshold(self):
        from connector_host_sdk import session as S
        from fivetran_connector_sdk import Logging as log
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        s = S.Session(0, w)
        s._initialized = True
        S._set_current(s)
        old = log.LOG_LEVEL
        try:
            log.LOG_LEVEL = log.Level.WARNING
            log.debug("d")
            log.fine("f")
            log.info("i")
            log.warning("w")
            log.severe("s")
            log.LOG_LEVEL = "critical"
            log.error("e")
            log.critical("c")
        finally:
            log.LOG_LEVEL = old
            S._set_current(None)
            os.close(w)
        lines = os.read(r, 65536).decode().splitlines()
        self.assertEqual([json.loads(l)["params"] for l in lines],
                         [{"level": "warning", "message": "w"}, {"level": "error", "message": "s"},
                          {"level": "critical", "message": "c"}])


class TypeHintTest(Base):
    HINTS = {"blob": "BINARY", "stamp": "UTC_DATETIME", "naive": "NAIVE_DATETIME", "day": "NAIVE_DATE",
             "money": {"type": "DECIMAL", "precision": 5, "scale": 3}}

    def test_undeclared_bytes_dates_and_decimals_carry_types(self):
        h = self.host()
        h.initialize()
        h.request("schema", {"configuration": {}})
        self.assertEqual(h.update({"mode": "hints"})["result"], {})
        rows = [op for op in h.ops if op["data"]["id"] in (0, 1, 2)]
        self.assertEqual(len(rows), 3)
        for op in rows:  # general path (first row) and row encoder (next rows) agree
            self.assertEqual(op["types"], self.HINTS)
            self.assertEqual(op["data"]["blob"], base64.b64encode(b"\x00\x01").decode())
            self.assertEqual(op["data"]["stamp"], "2024-03-01T12:00:00Z")
            self.assertEqual(op["data"]["naive"], "2024-03-01T12:00:00.250000")
            self.assertEqual(op["data"]["day"], "2024-02-29")
            self.assertEqual(op["data"]["money"], "19.990")
            self.assertEqual(op["data"]["nested"], {"d": "2020-01-01"})
        texts = [l for l in h.raw_lines if b'"records"' in l][0]
        self.assertEqual(texts.count(b',"types":{"blob":"BINARY","stamp":"UTC_DATETIME"'), 3)
        by_id = {op["data"]["id"]: op for op in h.ops}
        self.assertNotIn("types", by_id[10])  # only JSON-native values
        self.assertNotIn(b'"id":10,"plain":"only JSON-native values"},"types"', texts)
        self.assertEqual(by_id[11], {"op": "update", "table": "typed", "data": {"id": 11, "money": "-5"},
                                     "types": {"money": {"type": "DECIMAL", "precision": 1, "scale": 0}}})
        self.assertEqual(by_id[12], {"op": "upsert", "table": "typed",
                                     "data": {"id": 12, "nan": None, "huge": "1" * 39}})

    def test_without_a_schema_answer_every_column_may_be_hinted(self):
        h = self.host()
        h.initialize()
        h.update({"mode": "hints"})
        hints = dict(self.HINTS, declared_bytes="BINARY", declared_day="NAIVE_DATE")
        self.assertEqual([op["types"] for op in h.ops[:3]], [hints] * 3)


class FileUploadTest(Base):
    def test_files_are_staged_and_sent_with_the_op(self):
        staging = self.staging()
        h = self.host()
        h.initialize()
        self.assertEqual(h.update({"mode": "files"}, fileStaging=staging)["result"], {})
        first, second = h.ops
        self.assertEqual(first["data"], {"id": 1, "title": "report"})
        self.assertEqual(first["file"]["path"], "reports/2024/q1.pdf")
        self.assertEqual(first["file"]["size"], 13)
        self.assertEqual(os.path.dirname(first["file"]["source"]), staging)
        with open(first["file"]["source"], "rb") as f:
            self.assertEqual(f.read(), b"%PDF-1.7 data")
        self.assertEqual((second["op"], second["schema"], second["file"]["path"]),
                         ("update", "archive", "src/connector.py"))
        with open(second["file"]["source"], "rb") as f, open(F30, "rb") as g:
            self.assertEqual(f.read(), g.read())
        self.assertEqual(second["file"]["size"], os.path.getsize(F30))
        self.assertEqual(sorted(os.listdir(staging)),
                         sorted(os.path.basename(op["file"]["source"]) for op in h.ops))

    def test_expected_bytes_mismatch_fails_and_leaves_no_file(self):
        staging = self.staging()
        h = self.host()
        h.initialize()
        err = self.error(h.update({"mode": "file_mismatch"}, fileStaging=staging))
        self.assertEqual(err["message"], "ValueError: FileUpload 'a.txt': expected_bytes is 4 but the stream gave 3 bytes")
        self.assertEqual(os.listdir(staging), [])
        self.assertEqual(h.ops, [])

    def test_a_text_stream_is_refused(self):
        h = self.host()
        h.initialize()
        err = self.error(h.update({"mode": "file_text_stream"}, fileStaging=self.staging()))
        self.assertEqual(err["message"], "TypeError: FileUpload 'a.txt': stream.read() returned str, not bytes "
                                         "(open files in binary mode, 'rb')")

    def test_bad_paths(self):
        cases = {
            "": "ValueError: FileUpload path must not be empty",
            "/etc/passwd": "ValueError: FileUpload path '/etc/passwd' is absolute; give a path relative to the "
                           "table's storage folder, e.g. 'etc/passwd'",
            "a/../../b": "ValueError: FileUpload path 'a/../../b' contains a '..' segment; paths must stay inside "
                         "the table's storage folder",
            "dir/": "ValueError: FileUpload path 'dir/' ends with '/'; it must name a file, e.g. 'dir'",
            "a//b": "ValueError: FileUpload path 'a//b' contains '//'; separate folders with one '/'",
            "a\x00b": "ValueError: FileUpload path 'a\\x00b' contains a NUL character; remove it",
        }
        h = self.host()
        h.initialize()
        staging = self.staging()
        for path, message in cases.items():
            self.assertEqual(self.error(h.update({"mode": "file_bad_path", "path": path},
                                                 fileStaging=staging))["message"], message)
        self.assertEqual(os.listdir(staging), [])

    def test_an_older_host_without_file_staging_gets_a_clear_error(self):
        h = self.host()
        h.initialize()
        err = self.error(h.update({"mode": "files"}), -32603)
        self.assertEqual(err["message"], "ProtocolError: file uploads need a host that supports them: this host "
                                         "gave no fileStaging folder in the update request (update connector-host)")


class ConfigurationFormTest(Base):
    FORM = {"fields": [
        {"name": "api_key", "label": "API key", "type": "password", "required": True, "description": "Your key"},
        {"name": "host", "label": "Host", "type": "text", "required": False, "placeholder": "api.example.com"},
        {"name": "region", "label": "Region", "type": "dropdown", "required": False, "options": [
            {"value": "eu", "label": "Europe", "description": "Frankfurt"}, {"value": "2", "label": "2"}]},
        {"name": "verbose", "label": "Verbose logging", "type": "toggle", "required": False},
    ], "tests": ["Connect to the API", "Check the region", "Last check"]}

    def test_capabilities_and_the_form(self):
        h = self.host()
        self.assertEqual(h.initialize()["capabilities"], {"test": True, "configurationForm": True, "selectTables": False, "operationSites": True})
        self.assertEqual(h.request("configurationForm", {})["result"], self.FORM)

    def test_setup_tests_all_pass(self):
        h = self.host()
        h.initialize()
        self.assertEqual(h.request("test", {"configuration": {"api_key": "good"}})["result"], {
            "ok": True, "message": "3 setup tests passed", "tests": [
                {"label": "Connect to the API", "ok": True, "message": "passed"},
                {"label": "Check the region", "ok": True, "message": "passed"},
                {"label": "Last check", "ok": True, "message": "passed"}]})

    def test_the_first_failure_stops_the_run(self):
        h = self.host()
        h.initialize()
        self.assertEqual(h.request("test", {"configuration": {"api_key": "bad"}})["result"], {
            "ok": False, "message": 'setup test "Connect to the API" failed: 401 Unauthorized: check api_key',
            "tests": [
                {"label": "Connect to the API", "ok": False, "message": "401 Unauthorized: check api_key"},
                {"label": "Check the region", "ok": False, "message": "not run: an earlier setup test failed"},
                {"label": "Last check", "ok": False, "message": "not run: an earlier setup test failed"}]})

    def test_a_raising_test_and_a_wrong_return_value_fail_that_test(self):
        h = self.host()
        h.initialize()
        result = h.request("test", {"configuration": {"region": "raise"}})["result"]
        self.assertEqual(result["tests"][1], {"label": "Check the region", "ok": False,
                                              "message": "RuntimeError: region lookup exploded"})
        self.assertEqual(result["message"], 'setup test "Check the region" failed: RuntimeError: region lookup exploded')
        self.assertIn("region lookup exploded", h.stderr_containing("region lookup exploded"))
        result = h.request("test", {"configuration": {"region": "none"}})["result"]
        self.assertEqual(result["tests"][1]["message"],
                         "check_region must return Test.success() or Test.failure(message), got NoneType")

    def test_a_connector_without_a_form_has_neither(self):
        h = self.host(fixture("probe"))
        self.assertEqual(h.initialize()["capabilities"], {"test": False, "configurationForm": False, "selectTables": False, "operationSites": True})
        self.assertEqual(self.error(h.request("test", {"configuration": {}}), -32601)["message"],
                         "method not found: test")
        self.assertEqual(self.error(h.request("configurationForm", {}), -32601)["message"],
                         "method not found: configurationForm")


if __name__ == "__main__":
    unittest.main()
