"""Optional: validate everything the SDK wrote in a few sessions against the
protocol's JSON Schemas (protocol/schemas in the repository). Skipped when
the third-party package jsonschema or the schema files are not available."""

import glob
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakehost import REPO_DIR, FakeHost, fixture  # noqa: E402

SCHEMA_DIR = os.path.join(REPO_DIR, "protocol", "schemas")

try:
    import jsonschema  # noqa: F401
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover
    Draft202012Validator = None


@unittest.skipIf(Draft202012Validator is None, "jsonschema is not installed")
@unittest.skipUnless(os.path.isfile(os.path.join(SCHEMA_DIR, "message.schema.json")),
                     "protocol/schemas not found")
class SchemaConformanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.validators = {}
        for path in glob.glob(os.path.join(SCHEMA_DIR, "*.schema.json")):
            name = os.path.basename(path)[: -len(".schema.json")]
            with open(path) as f:
                cls.validators[name] = Draft202012Validator(json.load(f))

    def check(self, host):
        self.assertTrue(host.messages)
        for msg in host.messages:
            kinds = ["message"]
            method = msg.get("method")
            if method is not None:
                kinds.append("%s.%s" % (method, "request" if "id" in msg else "notification"))
            elif "error" in msg:
                kinds.append("error.response")
            else:
                kinds.append("%s.result" % host.sent_methods[msg["id"]])
            for kind in kinds:
                self.assertIn(kind, self.validators, msg)
                errors = sorted(self.validators[kind].iter_errors(msg), key=str)
                self.assertEqual([e.message for e in errors], [], "%s: %s" % (kind, json.dumps(msg)[:500]))

    def test_fivetran_style_session(self):
        h = FakeHost(fixture("fivetran_style"))
        self.addCleanup(h.kill)
        h.initialize()
        h.request("schema", {"configuration": {}})
        h.update()
        h.request("shutdown", {})
        self.assertEqual(h.wait(), 0)
        self.check(h)

    def test_fivetran_3_0_session(self):
        import shutil
        import tempfile
        staging = tempfile.mkdtemp(prefix="staging-")
        self.addCleanup(shutil.rmtree, staging, True)
        h = FakeHost(fixture("fivetran30"))
        self.addCleanup(h.kill)
        h.initialize()
        h.request("configurationForm", {})
        h.request("test", {"configuration": {"api_key": "bad"}})
        h.request("test", {"configuration": {}})
        h.request("schema", {"configuration": {}})
        for mode in ("sync", "hints", "files", "error", "error_no_trace", "log_exception"):
            h.update({"mode": mode}, fileStaging=staging)
        h.request("shutdown", {})
        self.assertEqual(h.wait(), 0)
        self.check(h)
        ops = h.ops
        self.assertTrue(any("types" in op for op in ops) and any("file" in op for op in ops)
                        and any("schema" in op for op in ops))

    def test_probe_sessions(self):
        h = FakeHost(fixture("probe"))
        self.addCleanup(h.kill)
        h.request("schema", {"configuration": {}})  # -32002
        h.initialize()
        h.request("schema", {"configuration": {}})
        h.request("frobnicate", {})
        for mode in ("batch", "values", "logs", "kwargs", "raise", "config_error"):
            h.update({"mode": mode, "n": "1500", "m": "3"})
        h.update({"mode": "x", "bad": 1})  # -32012
        h.request("shutdown", {})
        self.assertEqual(h.wait(), 0)
        self.check(h)


if __name__ == "__main__":
    unittest.main()
