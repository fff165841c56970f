"""The Fivetran-compatible surface: a Fivetran-style connector.py runs
unchanged, the hello-python connector, and connector.debug()."""

import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from fakehost import REPO_DIR, SDK_DIR, FakeHost, fixture, sdk_env  # noqa: E402

HELLO = os.path.join(REPO_DIR, "connectors", "hello-python", "connector.py")


def read_json(path):
    with open(path) as f:
        return json.load(f)


class FivetranStyleConnectorTest(unittest.TestCase):
    def test_full_sync_exact_ops(self):
        h = FakeHost(fixture("fivetran_style"))
        self.addCleanup(h.kill)
        init = h.initialize()
        self.assertEqual(init["connector"]["name"], "fivetran_style")
        schema = h.request("schema", {"configuration": {}})["result"]
        self.assertEqual(schema, {"tables": [
            {"table": "user", "primaryKey": ["id"],
             "columns": {"id": "STRING", "name": "STRING", "updated_at": "UTC_DATETIME"}},
            {"table": "order", "primaryKey": ["order_id"],
             "columns": {"order_id": "INT", "amount": {"type": "DECIMAL", "precision": 10, "scale": 2}}},
        ]})
        h.events.clear()
        resp = h.update({}, {})
        self.assertEqual(resp["result"], {})
        self.assertEqual(h.ops, [
            {"op": "upsert", "table": "user", "data": {"id": "u1", "name": "Ada", "updated_at": "2024-01-01T00:00:00Z"}},
            {"op": "upsert", "table": "user", "data": {"id": "u2", "name": "Grace", "updated_at": "2024-01-02T00:00:00Z"}},
            {"op": "update", "table": "user", "data": {"id": "u1", "name": "Ada Lovelace"}},
            {"op": "delete", "table": "user", "keys": {"id": "u2"}},
            {"op": "truncate", "table": "order"},
            {"op": "upsert", "table": "order", "data": {"order_id": 7, "amount": "19.99"}},
            {"op": "upsert", "table": "order", "data": {"order_id": 8, "amount": 5}},
        ])
        self.assertEqual(h.checkpoints, [({"cursor": "2024-01-02T00:00:00Z"}, 2),
                                         ({"cursor": "2024-01-03T00:00:00Z"}, 7)])
        self.assertEqual(h.events, [
            ("log", "warning", "Example: Fivetran-style connector"),
            ("log", "debug", "starting from cursor 0001-01-01T00:00:00Z"),
            ("records", 2), ("checkpoint", {"cursor": "2024-01-02T00:00:00Z"}),
            ("records", 5), ("checkpoint", {"cursor": "2024-01-03T00:00:00Z"}),
            ("response", resp["id"]),
        ])
        self.assertEqual(h.request("shutdown", {})["result"], {})
        self.assertEqual(h.wait(), 0)
        self.assertEqual(h.bad_lines, [])
        self.assertEqual(h.order_violations, [])


class HelloPythonTest(unittest.TestCase):
    def test_each_run_adds_three_rows_and_advances_the_cursor(self):
        config = read_json(os.path.join(os.path.dirname(HELLO), "configuration.json"))
        self.assertEqual(config, {"greeting": "hello"})
        h = FakeHost(HELLO)
        self.addCleanup(h.kill)
        self.assertEqual(h.initialize(config)["connector"]["name"], "hello-python")
        self.assertEqual(h.request("schema", {"configuration": config})["result"]["tables"][0]["primaryKey"], ["id"])
        state = {}
        for run in range(2):
            before = len(h.ops)
            self.assertEqual(h.update(config, state)["result"], {})
            new = h.ops[before:]
            self.assertEqual([op["data"]["id"] for op in new], [run * 3 + 1, run * 3 + 2, run * 3 + 3])
            self.assertTrue(all(op["op"] == "upsert" and op["table"] == "greeting" for op in new))
            self.assertEqual(new[0]["data"]["message"], "hello, world #%d" % (run * 3 + 1))
            self.assertTrue(new[0]["data"]["created_at"].endswith("Z"))
            state = h.checkpoints[-1][0]
            self.assertEqual(state, {"cursor": run * 3 + 3})
        self.assertEqual(h.wait(), 0)


class ImportSurfaceTest(unittest.TestCase):
    def test_imports_and_return_values(self):
        from fivetran_connector_sdk import Connector, Logging as log, Operations as op
        import connector_host_sdk
        self.assertTrue(issubclass(Connector, connector_host_sdk.Connector))
        for name in ("upsert", "update", "delete", "truncate", "checkpoint"):
            self.assertTrue(callable(getattr(op, name)))
        for name in ("fine", "debug", "info", "warning", "error", "severe", "critical"):
            self.assertTrue(callable(getattr(log, name)))
        self.assertTrue(hasattr(log, "Level"))

    def test_ops_outside_a_session_raise_clearly(self):
        from fivetran_connector_sdk import Operations as op
        from connector_host_sdk import ProtocolError
        with self.assertRaises(ProtocolError) as cm:
            op.upsert("t", {"id": 1})
        self.assertIn("connector-host", str(cm.exception))

    def test_connector_requires_callable_update(self):
        from fivetran_connector_sdk import Connector
        with self.assertRaises(TypeError):
            Connector(update=None)

    def test_connector_name_and_version_override(self):
        from fivetran_connector_sdk import Connector
        c = Connector(update=lambda c, s: None, name="custom", version="2.1.0")
        self.assertEqual((c.name, c.version), ("custom", "2.1.0"))
        self.assertEqual(c.source_file, os.path.abspath(__file__))


class DebugTest(unittest.TestCase):
    def fake_host_binary(self, directory):
        path = os.path.join(directory, "connector-host")
        record = os.path.join(directory, "argv.json")
        with open(path, "w") as f:
            f.write("#!%s\nimport json, sys\n" % sys.executable)
            f.write("args = sys.argv[1:]\n")
            f.write("if '--configuration' in args:\n")
            f.write("    args.append(json.load(open(args[args.index('--configuration') + 1])))\n")
            f.write("import os\nargs.append(os.environ.get('CONNECTOR_HOST_PYTHON_SDK'))\n")
            f.write("json.dump(args, open(%r, 'w'))\n" % record)
            f.write("sys.exit(7)\n")
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path, record

    def test_debug_execs_connector_host_run_dir(self):
        with tempfile.TemporaryDirectory() as tmp:
            binary, record = self.fake_host_binary(tmp)
            conn = fixture("generator")
            p = subprocess.run([sys.executable, conn], env=sdk_env({"CONNECTOR_HOST_BIN": binary}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            self.assertEqual(p.returncode, 7, p.stderr)
            self.assertEqual(read_json(record), ["run", os.path.dirname(conn), SDK_DIR])

    def test_debug_with_configuration_passes_a_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            binary, record = self.fake_host_binary(tmp)
            code = ("import sys; sys.path.insert(0, %r); import connector; "
                    "from fivetran_connector_sdk import Logging; "
                    "connector.connector.debug(configuration={'greeting': 'hi'}, "
                    "log_level=Logging.Level.FINE)"
                    % os.path.dirname(HELLO))
            p = subprocess.run([sys.executable, "-c", code], env=sdk_env({"CONNECTOR_HOST_BIN": binary}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            self.assertEqual(p.returncode, 7, p.stderr)
            args = read_json(record)
            self.assertEqual(args.pop(), SDK_DIR)
            self.assertEqual(args[:4], ["run", os.path.dirname(HELLO), "--log-level", "debug"])
            self.assertEqual(args[4], "--configuration")
            self.assertEqual(args[-1], {"greeting": "hi"})
            self.assertFalse(os.path.exists(args[5]))  # temporary file removed

    def test_debug_without_connector_host_fails_clearly(self):
        env = sdk_env({"PATH": "/nonexistent"})
        p = subprocess.run([sys.executable, fixture("generator")], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"cannot find the connector-host executable", p.stderr)
        self.assertIn(b"CONNECTOR_HOST_BIN", p.stderr)

    def test_debug_is_a_no_op_under_the_host(self):
        # The probe fixture has `if __name__ == "__main__": connector.debug()`;
        # under the host the file is imported as a module, so nothing happens,
        # and a stray debug() call inside the host is ignored as well.
        h = FakeHost(fixture("probe"))
        self.addCleanup(h.kill)
        h.initialize()
        self.assertEqual(h.wait(), 0)


if __name__ == "__main__":
    unittest.main()
