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
    """connector.debug(): the host runs as a child with --attach; the connector stays in this process."""

    def fake_host_binary(self, directory, exit_code=None):
        path = os.path.join(directory, "connector-host")
        with open(path, "w") as f:
            f.write("#!/bin/sh\n")
            if exit_code is not None:
                f.write("export FAKE_HOST_EXIT=%d\n" % exit_code)
            f.write('exec %s %s "$@"\n' % (sys.executable, os.path.join(HERE, "fake_attach_host.py")))
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path, os.path.join(directory, "record.json")

    def run_python(self, args, binary, record, extra_env=None):
        env = sdk_env({"CONNECTOR_HOST_BIN": binary, "FAKE_HOST_RECORD": record})
        env.update(extra_env or {})
        return subprocess.run([sys.executable] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=60)

    def test_debug_serves_the_host_from_this_process(self):
        with tempfile.TemporaryDirectory() as tmp:
            binary, record = self.fake_host_binary(tmp)
            code = ("import os, sys; sys.path.insert(0, %r); import connector; print('PID', os.getpid()); "
                    "connector.connector.debug(configuration={'mode': 'pid', 'title': 'in-process'}, "
                    "state={'cursor': 5}); print('DEBUG RETURNED')" % os.path.dirname(fixture("fivetran30")))
            p = self.run_python(["-c", code], binary, record)
            self.assertEqual(p.returncode, 0, p.stderr)
            out = p.stdout.decode()
            pid = int(out.split()[1])
            self.assertIn("DEBUG RETURNED", out)
            rec = read_json(record)
            self.assertNotEqual(rec["pid"], pid)
            self.assertEqual(rec["ops"], [{"op": "upsert", "table": "docs", "data": {"id": pid, "title": "in-process"}}])
            self.assertEqual(rec["checkpoints"], [{"seen_state": {"cursor": 5}}])
            self.assertEqual(rec["configuration"], {"mode": "pid", "title": "in-process"})
            self.assertEqual(rec["update"]["result"], {})
            self.assertEqual(rec["initialize"]["result"]["capabilities"], {"test": True, "configurationForm": True, "selectTables": False, "operationSites": True})
            self.assertEqual(rec["trailing"], "")  # the SDK closed its end after the host's
            argv = rec["argv"]
            self.assertEqual(argv[:2], ["run", os.path.dirname(fixture("fivetran30"))])
            self.assertEqual([argv[2], argv[4], argv[6:8], argv[8]],
                             ["--configuration", "--state", ["--log-level", "debug"], "--attach"])
            self.assertRegex(argv[9], r"^\d+,\d+$")
            self.assertEqual(rec["files_during_run"], {"--configuration": True, "--state": True})
            self.assertFalse(os.path.exists(argv[3]))  # temporary files removed afterwards
            self.assertFalse(os.path.exists(argv[5]))

    def test_debug_from_the_connector_file_and_the_host_exit_status(self):
        with tempfile.TemporaryDirectory() as tmp:
            binary, record = self.fake_host_binary(tmp, exit_code=3)
            conn = fixture("generator")
            p = self.run_python([conn], binary, record)
            self.assertEqual(p.returncode, 3, p.stderr)
            rec = read_json(record)
            self.assertEqual(rec["argv"][:4], ["run", os.path.dirname(conn), "--log-level", "debug"])
            self.assertEqual([op["data"]["id"] for op in rec["ops"] if op["op"] == "upsert"], [1, 2])
            self.assertEqual(rec["warnings"], [])
            self.assertEqual(rec["logs"][0], ["warning", "Example: generator-style update"])

    def test_a_failing_update_is_reported_by_the_host(self):
        with tempfile.TemporaryDirectory() as tmp:
            binary, record = self.fake_host_binary(tmp)
            code = ("import sys; sys.path.insert(0, %r); import connector; "
                    "from fivetran_connector_sdk import Logging; "
                    "connector.connector.debug(configuration={'mode': 'error'}, log_level=Logging.Level.WARNING)"
                    % os.path.dirname(fixture("fivetran30")))
            p = self.run_python(["-c", code], binary, record)
            self.assertEqual(p.returncode, 1, p.stderr)
            rec = read_json(record)
            self.assertEqual(rec["update"]["error"]["message"], "the source returned garbage")
            self.assertIn("--log-level", rec["argv"])
            self.assertEqual(rec["argv"][rec["argv"].index("--log-level") + 1], "warning")

    def test_a_host_without_attach_runs_the_connector_in_a_child(self):
        with tempfile.TemporaryDirectory() as tmp:
            binary, record = self.fake_host_binary(tmp)
            conn = fixture("generator")
            p = self.run_python([conn], binary, record, {"FAKE_HOST_ATTACH": "0"})
            self.assertEqual(p.returncode, 5, p.stderr)
            self.assertEqual(read_json(record)["argv"], ["run", os.path.dirname(conn), "--log-level", "debug"])
            self.assertIn(b"has no `run --attach`; the connector runs in a child process", p.stderr)

    def test_debug_in_a_venv_with_fivetran_s_package_uses_ours_through_the_debug_module(self):
        # python -m connector_host_sdk.debug binds fivetran_connector_sdk to this SDK first.
        with tempfile.TemporaryDirectory() as tmp:
            binary, record = self.fake_host_binary(tmp)
            shadow = os.path.join(tmp, "shadow", "fivetran_connector_sdk")
            os.makedirs(shadow)
            with open(os.path.join(shadow, "__init__.py"), "w") as f:
                f.write("raise ImportError('the other fivetran_connector_sdk was imported')\n")
            conn = fixture("generator")
            p = self.run_python(["-m", "connector_host_sdk.debug", conn], binary, record,
                                {"PYTHONPATH": os.path.join(tmp, "shadow") + os.pathsep + SDK_DIR})
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(len(read_json(record)["ops"]), 3)

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
