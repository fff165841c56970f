"""Protocol behaviour, end to end: a real connector subprocess driven by the
fake host in fakehost.py."""

import base64
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakehost import FakeHost, fixture  # noqa: E402

PROBE = fixture("probe")


class HostTestCase(unittest.TestCase):
    def host(self, path=PROBE, **kw):
        h = FakeHost(path, **kw)
        self.addCleanup(h.kill)
        return h

    def assertClean(self, h):
        """Every stdout line was a JSON-RPC 2.0 object with method before params."""
        self.assertEqual(h.bad_lines, [], "non-protocol lines on stdout")
        self.assertEqual(h.order_violations, [], '"params" before "method"')

    def assertError(self, resp, code):
        self.assertIn("error", resp, resp)
        self.assertNotIn("result", resp)
        self.assertEqual(resp["error"]["code"], code, resp)
        return resp["error"]


class LifecycleTest(HostTestCase):
    def test_initialize_answers_version_name_capabilities(self):
        h = self.host()
        resp = h.request("initialize", {"protocolVersion": 1, "host": {"name": "fake", "version": "0"},
                                        "configuration": {"mode": "batch"}})
        self.assertEqual(resp["result"], {"protocolVersion": 1,
                                          "connector": {"name": "probe", "version": "0.0.0"},
                                          "capabilities": {"test": False, "configurationForm": False,
                                                           "selectTables": False, "operationSites": True}})
        self.assertEqual(h.wait(), 0)
        self.assertClean(h)

    def test_newer_protocol_version_is_answered_with_ours(self):
        h = self.host()
        resp = h.request("initialize", {"protocolVersion": 7, "configuration": {}})
        self.assertEqual(resp["result"]["protocolVersion"], 1)

    def test_request_before_initialize_gets_32002(self):
        h = self.host()
        for method in ("schema", "update", "shutdown", "no_such_method"):
            err = self.assertError(h.request(method, {}), -32002)
            self.assertEqual(err["message"], "not initialized")
        h.initialize()
        self.assertIn("result", h.request("schema", {"configuration": {}}))

    def test_unknown_request_gets_32601(self):
        h = self.host()
        h.initialize()
        err = self.assertError(h.request("frobnicate", {"x": 1}), -32601)
        self.assertIn("frobnicate", err["message"])
        # string ids are echoed as given
        h.send({"jsonrpc": "2.0", "id": "abc", "method": "frobnicate"})
        self.assertEqual(h.wait_response("abc")["error"]["code"], -32601)

    def test_unknown_notifications_are_ignored(self):
        h = self.host()
        h.initialize()
        h.send({"jsonrpc": "2.0", "method": "something_new", "params": {"a": 1}})
        resp = h.request("shutdown", {})
        self.assertEqual(resp["result"], {})
        self.assertEqual([m for m in h.messages if m.get("method")], [])

    def test_malformed_lines(self):
        h = self.host()
        h.send_raw(b"this is not json\n")
        msg = h.next_message()
        self.assertEqual(msg["id"], None)
        self.assertEqual(msg["error"]["code"], -32700)
        h.send_raw(b"[1,2]\n")
        self.assertEqual(h.next_message()["error"]["code"], -32600)
        h.send_raw(b"\r\n\n")  # blank lines are skipped
        h.send_raw(b'{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":1}}\r\n')
        self.assertEqual(h.wait_response(9)["result"]["protocolVersion"], 1)

    def test_request_with_null_or_bool_id_is_invalid(self):
        h = self.host()
        h.send({"jsonrpc": "2.0", "id": None, "method": "initialize", "params": {}})
        msg = h.next_message()
        self.assertEqual((msg["id"], msg["error"]["code"]), (None, -32600))
        h.send({"jsonrpc": "2.0", "id": True, "method": "initialize", "params": {}})
        self.assertEqual(h.next_message()["error"]["code"], -32600)

    def test_params_must_be_an_object(self):
        h = self.host()
        h.initialize()
        self.assertError(h.request("schema", [1, 2]), -32602)

    def test_exit_0_on_stdin_eof(self):
        h = self.host()
        self.assertEqual(h.wait(), 0)
        h2 = self.host()
        h2.initialize()
        h2.update({"mode": "batch", "n": "3", "m": "0"})
        self.assertEqual(h2.request("shutdown", {})["result"], {})
        self.assertEqual(h2.wait(), 0)
        self.assertClean(h2)

    def test_a_message_split_across_writes_and_several_in_one_write(self):
        h = self.host()
        line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"protocolVersion": 1}}).encode() + b"\n"
        h.send_raw(line[:10])
        time.sleep(0.05)
        h.send_raw(line[10:] + b'{"jsonrpc":"2.0","id":2,"method":"shutdown"}\n')
        self.assertIn("result", h.wait_response(1))
        self.assertEqual(h.wait_response(2)["result"], {})


class SchemaTest(HostTestCase):
    def test_primary_key_translated_and_columns_passed_through(self):
        h = self.host()
        h.initialize()
        resp = h.request("schema", {"configuration": {}})
        self.assertEqual(resp["result"], {"tables": [
            {"table": "items", "primaryKey": ["id"],
             "columns": {"id": "LONG", "price": {"type": "DECIMAL", "precision": 10, "scale": 2}}},
            {"table": "events", "primaryKey": ["a", "b"]},
            {"table": "loose"},
        ]})
        line = [l for l in h.raw_lines if b'"tables"' in l][0]
        self.assertNotIn(b"primary_key", line)

    def test_type_names_upper_cased_and_single_key_string(self):
        h = self.host()
        h.initialize()
        resp = h.request("schema", {"configuration": {"mode": "lower_types"}})
        self.assertEqual(resp["result"], {"tables": [
            {"table": "t", "primaryKey": ["id"],
             "columns": {"id": "LONG", "d": {"type": "DECIMAL", "precision": 5, "scale": 1}, "x": "NotAType"}}]})

    def test_writing_an_undeclared_table_warns_once(self):
        h = self.host()
        h.initialize()
        h.request("schema", {"configuration": {}})
        h.update({"mode": "batch", "n": "3", "m": "0"})  # "items": declared
        h.update({"mode": "echo_state"})  # "seen": not declared
        h.update({"mode": "echo_state"})
        warnings = [m for lvl, m in h.logs if lvl == "warning"]
        self.assertEqual(warnings, ['table "seen" is not declared by schema(); declare every table you '
                                    'write (hosts may reject ops on undeclared tables)'])

    def test_exception_in_schema_gets_32013(self):
        h = self.host()
        h.initialize()
        err = self.assertError(h.request("schema", {"configuration": {"mode": "schema_error"}}), -32013)
        self.assertEqual(err["message"], "RuntimeError: schema exploded")
        self.assertEqual(err["data"]["type"], "RuntimeError")

    def test_invalid_schema_gets_32010(self):
        h = self.host()
        h.initialize()
        err = self.assertError(h.request("schema", {"configuration": {"mode": "bad_schema"}}), -32010)
        self.assertIn("table", err["message"])


class ConfigurationTest(HostTestCase):
    def test_non_string_value_in_initialize(self):
        h = self.host()
        err = self.assertError(h.request("initialize", {"protocolVersion": 1,
                                                        "configuration": {"host": "db", "port": 5432}}),
                               -32012)
        self.assertIn('"port"', err["message"])
        self.assertNotIn("5432", err["message"])  # values may be secrets: never echoed
        self.assertEqual(err["data"], {"key": "port"})
        # still not initialized
        self.assertError(h.request("schema", {}), -32002)

    def test_non_string_value_in_update_and_schema(self):
        h = self.host()
        h.initialize({"mode": "batch"})
        for value in (True, 1.5, None, {"a": "b"}, ["x"]):
            err = self.assertError(h.update({"mode": "echo_state", "enabled": value}), -32012)
            self.assertIn('"enabled"', err["message"])
        err = self.assertError(h.request("schema", {"configuration": {"retries": 3}}), -32012)
        self.assertIn('"retries"', err["message"])
        self.assertEqual(h.ops, [])

    def test_configuration_error_raised_by_connector(self):
        h = self.host()
        h.initialize()
        err = self.assertError(h.update({"mode": "config_error"}), -32012)
        self.assertEqual(err["message"], "ConfigurationError: missing api_key")

    def test_large_host_lines(self):
        h = self.host()
        h.initialize()
        big = "é" * (3 << 20)
        h.update({"mode": "echo_state"}, {"blob": big})
        self.assertEqual(h.ops[0]["data"]["state"]["blob"], big)

    def test_configuration_and_state_reach_update(self):
        h = self.host()
        h.initialize({"mode": "echo_state", "from_init": "yes"})
        h.update({"mode": "echo_state", "k": "v"}, {"cursor": 41, "nested": {"a": [1]}})
        self.assertEqual(h.ops, [{"op": "upsert", "table": "seen", "data": {
            "id": 1, "state": {"cursor": 41, "nested": {"a": [1]}},
            "configuration": {"mode": "echo_state", "k": "v"}}}])
        # no configuration in update params: the one from initialize is used
        h.request("update", {"state": {}})
        self.assertEqual(h.ops[-1]["data"]["configuration"], {"mode": "echo_state", "from_init": "yes"})


class BatchingTest(HostTestCase):
    def test_1000_op_batches_flush_before_checkpoint_and_at_end(self):
        h = self.host()
        h.initialize()
        h.events.clear()
        resp = h.update({"mode": "batch", "n": "2500", "m": "10"})
        self.assertEqual(resp["result"], {})
        self.assertEqual(h.events, [("records", 1000), ("records", 1000), ("records", 500),
                                    ("checkpoint", {"after": 2500}), ("records", 10),
                                    ("response", resp["id"])])
        self.assertEqual([op["data"]["id"] for op in h.ops], list(range(2510)))
        self.assertEqual(h.checkpoints, [({"after": 2500}, 2500)])
        self.assertTrue(all(op == {"op": "upsert", "table": "items", "data": {"id": i}}
                            for i, op in enumerate(h.ops)))
        self.assertClean(h)

    def test_exactly_1000_ops_then_nothing_left_at_end(self):
        h = self.host()
        h.initialize()
        h.events.clear()
        resp = h.update({"mode": "batch", "n": "1000", "m": "0"})
        self.assertEqual(h.events, [("records", 1000), ("checkpoint", {"after": 1000}),
                                    ("response", resp["id"])])

    def test_about_1_mib_flush(self):
        h = self.host()
        h.initialize()
        h.update({"mode": "big_rows", "n": "250"})
        sizes = [len(l) for l in h.raw_lines if b'"method":"records"' in l]
        self.assertGreater(len(sizes), 2)
        self.assertTrue(all(s <= (1 << 20) + 20000 for s in sizes), sizes)
        self.assertTrue(all(s >= (1 << 20) for s in sizes[:-1]), sizes)
        self.assertEqual(len(h.ops), 250)
        self.assertTrue(all(len(b) < 1000 for b in h.batches))

    def test_ops_from_several_threads(self):
        h = self.host()
        h.initialize()
        h.update({"mode": "threads"})
        self.assertEqual(sorted(op["data"]["id"] for op in h.ops),
                         sorted(k * 1000 + i for k in range(4) for i in range(500)))
        self.assertTrue(all(len(b) <= 1000 for b in h.batches))
        self.assertEqual(h.checkpoints, [({"threads": 4}, 2000)])
        for k in range(4):  # each thread's ops stay in its own order
            ids = [op["data"]["id"] for op in h.ops if op["data"]["thread"] == k]
            self.assertEqual(ids, sorted(ids))
        self.assertClean(h)

    def test_op_text_is_taken_at_call_time(self):
        h = self.host()
        h.initialize()
        h.update({"mode": "mutate"})
        self.assertEqual([op["data"] for op in h.ops], [{"id": 1, "v": "first"}, {"id": 2, "v": "second"}])

    def test_keyword_forms_and_every_op_kind(self):
        h = self.host()
        h.initialize()
        h.update({"mode": "kwargs"})
        self.assertEqual(h.ops, [
            {"op": "upsert", "table": "items", "data": {"id": 1, "v": "a"}},
            {"op": "update", "table": "items", "data": {"id": 1, "v": "b"}},
            {"op": "delete", "table": "items", "keys": {"id": 1}},
            {"op": "truncate", "table": "items"},
        ])
        self.assertEqual(h.checkpoints, [({"done": True}, 4)])
        self.assertClean(h)


class CheckpointTest(HostTestCase):
    def test_checkpoint_blocks_until_ack(self):
        h = self.host(checkpoint_handler=lambda host, msg: None)  # answer by hand
        h.initialize()
        rid = h.send_request("update", {"configuration": {"mode": "checkpoint_then"}, "state": {}})
        while not h.pending_checkpoints:
            self.assertIsNotNone(h.next_message(), h.stderr)
        cp = h.pending_checkpoints.pop()
        self.assertEqual(cp["params"], {"state": {"cursor": 1}})
        self.assertEqual(h.ops, [{"op": "upsert", "table": "items", "data": {"id": 1}}])
        h.expect_silence(0.7)  # blocked: no log, no records, no answer
        h.reply(cp["id"], {"result": {}})
        resp = h.wait_response(rid)
        self.assertEqual(resp["result"], {})
        after = h.events[h.events.index(("checkpoint", {"cursor": 1})) + 1:]
        self.assertEqual(after, [("log", "info", "after checkpoint"), ("records", 1), ("response", rid)])

    def test_error_ack_raises_in_connector(self):
        def reject(host, msg):
            return {"error": {"code": -32011, "message": "column price: not a number", "data": {"opIndex": 0}}}
        h = self.host(checkpoint_handler=reject)
        h.initialize()
        err = self.assertError(h.update({"mode": "checkpoint_error"}), -32013)
        self.assertEqual(err["data"]["type"], "CheckpointError")
        self.assertIn("column price: not a number", err["message"])
        self.assertEqual(err["data"]["hostError"], {"code": -32011, "message": "column price: not a number"})
        self.assertEqual(len(h.ops), 1)  # nothing after the rejected checkpoint

    def test_checkpoint_ids_are_unique(self):
        h = self.host()
        h.initialize()
        h.update({"mode": "kwargs"})
        h.update({"mode": "kwargs"})
        ids = [m["id"] for m in h.messages if m.get("method") == "checkpoint"]
        self.assertEqual(len(ids), len(set(ids)))

    def test_cancel_while_waiting_for_ack(self):
        h = self.host(checkpoint_handler=lambda host, msg: None)
        h.initialize()
        rid = h.send_request("update", {"configuration": {"mode": "checkpoint_then"}, "state": {}})
        while not h.pending_checkpoints:
            self.assertIsNotNone(h.next_message())
        h.send({"jsonrpc": "2.0", "method": "cancel", "params": {"reason": "test"}})
        err = self.assertError(h.wait_response(rid), -32014)
        self.assertEqual(err["data"]["type"], "Cancelled")
        self.assertEqual(h.wait(), 0)


class UpdateErrorsTest(HostTestCase):
    def test_exception_in_update_gets_32013_with_type_message_traceback(self):
        h = self.host()
        h.initialize()
        err = self.assertError(h.update({"mode": "raise"}), -32013)
        self.assertEqual(err["message"], "ValueError: boom 42")
        self.assertEqual(err["data"]["type"], "ValueError")
        self.assertIn("Traceback", err["data"]["traceback"])
        self.assertIn('raise ValueError("boom 42")', err["data"]["traceback"])
        self.assertEqual(h.wait(), 0)
        # The traceback travels in the answer only: the host shows it once, not also from stderr.
        self.assertNotIn("Traceback", h.stderr)
        # buffered ops are flushed before the error answer (message order stays honest)
        self.assertEqual(h.ops, [{"op": "upsert", "table": "items", "data": {"id": 1}}])
        self.assertEqual([e[0] for e in h.events[-2:]], ["records", "response"])

    def test_cancel_notification_stops_update(self):
        h = self.host()
        h.initialize()
        rid = h.send_request("update", {"configuration": {"mode": "loop_until_cancelled"}, "state": {}})
        while not h.ops:
            self.assertIsNotNone(h.next_message())
        h.send({"jsonrpc": "2.0", "method": "cancel", "params": {"reason": "Ctrl-C"}})
        err = self.assertError(h.wait_response(rid), -32014)
        self.assertEqual(err["message"], "Cancelled: the host cancelled the sync")
        self.assertEqual(h.wait(), 0)

    def test_first_sigint_cancels_like_a_cancel_notification(self):
        h = self.host()
        h.initialize()
        rid = h.send_request("update", {"configuration": {"mode": "loop_until_cancelled"}, "state": {}})
        while not h.ops:
            self.assertIsNotNone(h.next_message())
        h.proc.send_signal(signal.SIGINT)
        self.assertError(h.wait_response(rid), -32014)
        self.assertEqual(h.wait(), 0)

    def test_stdin_eof_during_update_stops_it_and_exits_0(self):
        h = self.host()
        h.initialize()
        h.send_request("update", {"configuration": {"mode": "loop_until_cancelled"}, "state": {}})
        while not h.ops:
            self.assertIsNotNone(h.next_message())
        self.assertEqual(h.wait(), 0)

    def test_stdin_eof_exits_0_promptly_even_if_user_code_blocks(self):
        h = self.host()
        h.initialize()
        h.send_request("update", {"configuration": {"mode": "hang"}, "state": {}})
        time.sleep(0.5)
        start = time.monotonic()
        self.assertEqual(h.wait(timeout=15), 0)
        self.assertLess(time.monotonic() - start, 5)
        self.assertIn("stdin closed", h.stderr)

    def test_sys_exit_in_update_still_answers(self):
        h = self.host()
        h.initialize()
        err = self.assertError(h.update({"mode": "exit"}), -32013)
        self.assertEqual(err["data"]["type"], "SystemExit")
        self.assertEqual(h.wait(), 3)


class OutputTest(HostTestCase):
    def test_print_goes_to_log_messages_and_fd1_writes_to_stderr(self):
        h = self.host()
        h.initialize()
        resp = h.update({"mode": "print"})
        self.assertEqual(resp["result"], {})
        self.assertEqual(h.wait(), 0)
        self.assertClean(h)
        # print() and sys.stdout during a session are info log messages, in order with the others
        self.assertEqual(h.logs[:2], [("info", "PRINTED-BY-PRINT"), ("info", "WRITTEN-TO-SYS-STDOUT")])
        stdout = b"\n".join(h.raw_lines)
        for marker in ("PRINTED-AT-IMPORT", "LOGGED-AT-IMPORT", "WRITTEN-TO-FD-1", "WRITTEN-TO-DUNDER-STDOUT", "CHILD-PROCESS-STDOUT"):
            self.assertNotIn(marker.encode(), stdout)
            self.assertIn(marker, h.stderr)
        for marker in ("PRINTED-BY-PRINT", "WRITTEN-TO-SYS-STDOUT"):
            self.assertNotIn(marker, h.stderr)
        # user code (and its children) read /dev/null, not the protocol input
        self.assertIn(("info", "stdin read by user code: ''"), h.logs)
        self.assertEqual(h.ops, [{"op": "upsert", "table": "items", "data": {"id": 1}}])

    def test_log_levels(self):
        h = self.host()
        h.initialize()
        h.update({"mode": "logs"})
        self.assertEqual(h.logs, [
            ("debug", "a fine message"), ("debug", "a debug message"), ("info", "an info message"),
            ("warning", "a warning message"), ("error", "an error message"),
            ("error", "a severe message"), ("critical", "a critical message")])
        self.assertClean(h)

    def test_values_end_to_end(self):
        h = self.host()
        h.initialize()
        self.assertEqual(h.update({"mode": "values"})["result"], {})
        self.assertClean(h)
        row = h.ops[0]["data"]
        self.assertEqual(row, {
            "id": 1, "t": True, "f": False, "none": None, "small": -7, "big": 2 ** 70,
            "pi": 3.141592653589793, "tiny": 1e-300, "third": 1.0 / 3.0, "nan": None, "inf": None,
            "s": "héllo \"quoted\" \u2603\n",
            "dec": "12345.6700", "dec_exp": "1000",
            "dt_aware": "2024-03-01T10:30:45.123456Z", "dt_aware_no_us": "2024-03-01T00:00:00Z",
            "dt_naive": "2024-03-01T12:30:45", "dt_naive_us": "2024-03-01T12:30:45.000005",
            "date": "2024-02-29",
            "bytes": base64.b64encode(b"\x00\xffhi").decode(), "bytearray": "YWJj",
            "nested": {"a": [1, 2.5, {"d": "2020-01-01"}], "t": [1, "x"]},
            "list": ["1.5", "AQ==", None],
            "uuid": "12345678-1234-5678-1234-567812345678",
            "obj": "color:red",
        })
        line = [l for l in h.raw_lines if b'"method":"records"' in l][0]
        self.assertIn(str(2 ** 70).encode() + b",", line)  # a JSON integer, not a string
        self.assertIn("héllo".encode("utf-8"), line)  # UTF-8, not \\u escapes
        self.assertEqual(h.ops[1]["data"], {"id": 2, "nan_again": None})
        nan_logs = [m for lvl, m in h.logs if lvl == "warning" and "NaN" in m]
        self.assertEqual(len(nan_logs), 1)
        self.assertEqual(h.checkpoints[0][0], {"at": "2024-01-01T00:00:00Z", "n": 1})


class GeneratorTest(HostTestCase):
    def test_generator_update_yielding_ops(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "generator", "connector.py")
        h = self.host(path)
        h.initialize()
        resp = h.update({}, {"cursor": 10})
        self.assertEqual(resp["result"], {})
        self.assertEqual(h.ops, [
            {"op": "upsert", "table": "hello", "data": {"id": 11, "message": "hello, world!"}},
            {"op": "upsert", "table": "hello", "data": {"id": 12, "message": "hello, world!"}},
            {"op": "delete", "table": "hello", "keys": {"id": 11}},
        ])
        self.assertEqual(h.checkpoints, [({"cursor": 12}, 3)])
        self.assertIn(("warning", "Example: generator-style update"), h.logs)


class LoadingTest(HostTestCase):
    def test_sibling_imports_and_single_connector_instance(self):
        h = self.host(fixture("multi_file"))
        self.assertEqual(h.initialize()["connector"]["name"], "multi_file")
        h.update()
        self.assertEqual(h.ops, [{"op": "upsert", "table": "rows", "data": {"id": 0, "label": "row-0"}},
                                 {"op": "upsert", "table": "rows", "data": {"id": 1, "label": "row-1"}}])
        self.assertEqual(h.request("schema", {})["result"], {"tables": []})

    def test_file_without_connector_exits_non_zero_with_message(self):
        h = self.host(fixture("no_connector"))
        self.assertEqual(h.wait(), 1)
        self.assertIn("defines no Connector", h.stderr)
        self.assertEqual(h.raw_lines, [])


if __name__ == "__main__":
    unittest.main()
