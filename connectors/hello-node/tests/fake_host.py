#!/usr/bin/env python3
"""A fake connector-host (stdlib only) that tests hello-node and its protocol.js.

It spawns the connector the way the real host will (the manifest's "command",
cwd = the connector directory), speaks the wire contract, checks every message,
acks checkpoints, and shuts the connector down. Edge cases of protocol.js
(batching, backpressure, errors, cancel, framing) run against
tests/edge_connector.js.

Run: python3 connectors/hello-node/tests/fake_host.py   (exit 0 when all pass)
"""

import json
import queue
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
CONNECTOR_DIR = TESTS_DIR.parent
TIMEOUT = 10.0  # seconds to wait for any one message or exit


class CheckFailed(Exception):
    pass


def check(condition, what):
    if not condition:
        raise CheckFailed(what)


class Connector:
    """One spawned connector: send lines, receive checked JSON-RPC messages."""

    def __init__(self, argv, cwd):
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages = queue.Queue()  # (raw line, parsed message) or None at EOF
        self.reading = threading.Event()
        self.reading.set()
        self.stderr_chunks = []
        self.next_id = 1
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        while True:
            self.reading.wait()  # cleared by pause_reading(): lets the pipe fill up
            line = self.proc.stdout.readline()
            if not line:
                self.messages.put(None)
                return
            self.messages.put(line)

    def _read_stderr(self):
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            self.stderr_chunks.append(chunk)

    @property
    def stderr(self):
        return b"".join(self.stderr_chunks).decode("utf-8", "replace")

    def pause_reading(self):
        self.reading.clear()

    def resume_reading(self):
        self.reading.set()

    # -- sending

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message):
        self.send_raw(json.dumps(message).encode() + b"\n")

    def request(self, method, params=None):
        """Sends a request; returns its id."""
        request_id = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method,
                   "params": {} if params is None else params})
        return request_id

    def notify(self, method, params=None):
        self.send({"jsonrpc": "2.0", "method": method, "params": params or {}})

    def answer(self, request_id, result=None, error=None):
        message = {"jsonrpc": "2.0", "id": request_id}
        if error is not None:
            message["error"] = error
        else:
            message["result"] = {} if result is None else result
        self.send(message)

    def close_stdin(self):
        self.proc.stdin.close()

    # -- receiving

    def recv(self, timeout=TIMEOUT):
        """The next stdout message, parsed; fails on anything that is not one JSON-RPC object."""
        try:
            line = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise CheckFailed(f"no message within {timeout}s; stderr:\n{self.stderr}")
        check(line is not None, f"connector closed stdout; stderr:\n{self.stderr}")
        check(line.endswith(b"\n"), f"unterminated line {line[:80]!r}")
        try:
            message = json.loads(line)
        except ValueError as err:
            raise CheckFailed(f"stdout line is not JSON ({err}): {line[:120]!r}")
        check(isinstance(message, dict), f"stdout line is not an object: {line[:120]!r}")
        check(message.get("jsonrpc") == "2.0", f"missing jsonrpc 2.0: {line[:120]!r}")
        message["_raw"] = line
        return message

    def expect_response(self, request_id, timeout=TIMEOUT):
        message = self.recv(timeout)
        check(message.get("id") == request_id and "method" not in message,
              f"expected the answer to request {request_id}, got {short(message)}")
        check(("result" in message) != ("error" in message),
              f"answer needs exactly one of result/error: {short(message)}")
        return message

    def call(self, method, params=None):
        """Request + its answer, with nothing else in between; returns the answer."""
        return self.expect_response(self.request(method, params))

    def expect_no_message(self, wait=0.3):
        try:
            line = self.messages.get(timeout=wait)
        except queue.Empty:
            return
        raise CheckFailed(f"unexpected stdout line {line[:120]!r}")

    def wait_exit(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"connector did not exit within {timeout}s after stdin EOF")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def short(message):
    text = json.dumps({k: v for k, v in message.items() if k != "_raw"})
    return text if len(text) < 300 else text[:300] + "..."


def spawn_hello():
    manifest = json.loads((CONNECTOR_DIR / "connector.json").read_text())
    check(manifest == {"name": "hello-node", "command": ["node", "connector.js"]},
          f"unexpected manifest {manifest}")
    return Connector(manifest["command"], CONNECTOR_DIR)


def spawn_edge():
    return Connector(["node", str(TESTS_DIR / "edge_connector.js")], CONNECTOR_DIR)


def initialize(conn, name):
    answer = conn.call("initialize", {"protocolVersion": 1,
                                      "host": {"name": "fake-host", "version": "0.0.0"},
                                      "configuration": {}})
    check("result" in answer, f"initialize failed: {short(answer)}")
    result = answer["result"]
    check(result["protocolVersion"] == 1, f"protocolVersion {result['protocolVersion']}")
    check(result["connector"]["name"] == name, f"connector name {result['connector']}")
    check(isinstance(result["connector"]["version"], str), "connector version is a string")
    check(isinstance(result["capabilities"].get("test"), bool), "capabilities.test is a boolean")
    return result


def expect_error(answer, code, message=None):
    check("error" in answer, f"expected error {code}, got {short(answer)}")
    check(answer["error"]["code"] == code, f"expected error {code}, got {short(answer)}")
    if message is not None:
        check(answer["error"]["message"] == message,
              f"expected message {message!r}, got {answer['error']['message']!r}")
    return answer["error"]


def shutdown(conn):
    answer = conn.call("shutdown")
    check(answer.get("result") == {}, f"shutdown answer {short(answer)}")
    conn.close_stdin()
    status = conn.wait_exit()
    check(status == 0, f"exit status {status} after shutdown; stderr:\n{conn.stderr}")


def run_update(conn, params, ack=True):
    """Sends update, acks checkpoints; returns (list of records batches and checkpoint
    states in arrival order, log notifications, the update answer)."""
    return finish_update(conn, conn.request("update", params), ack)


def finish_update(conn, update_id, ack=True):
    """run_update for an update request already sent."""
    events, logs = [], []
    while True:
        message = conn.recv()
        method = message.get("method")
        if method == "records":
            raw = message["_raw"]
            check(raw.index(b'"method"') < raw.index(b'"params"'), "records: method before params")
            check("id" not in message, "records is a notification")
            events.append(("records", message["params"]["ops"]))
        elif method == "checkpoint":
            check("id" in message, "checkpoint is a request")
            events.append(("checkpoint", message["params"]["state"]))
            if ack:
                conn.answer(message["id"])
        elif method == "log":
            logs.append(message["params"])
        elif method is None and message.get("id") == update_id:
            return events, logs, message
        else:
            raise CheckFailed(f"unexpected message during update: {short(message)}")


# ---------------------------------------------------------------------------------------
# Tests of hello-node itself

def test_hello_lifecycle():
    conn = spawn_hello()
    try:
        expect_error(conn.call("schema", {"configuration": {}}), -32002, "not initialized")
        expect_error(conn.call("frobnicate"), -32002, "not initialized")
        result = initialize(conn, "hello-node")
        check(result["capabilities"]["test"] is False, "hello-node has no test capability")
        check("secretKeys" not in result, "hello-node declares no secret keys")

        conn.notify("something/unknown", {"x": 1})  # ignored: no answer
        expect_error(conn.call("frobnicate"), -32601, "method not found: frobnicate")
        expect_error(conn.call("test", {"configuration": {}}), -32601)

        schema = conn.call("schema", {"configuration": {}})["result"]
        check(schema == {"tables": [{"table": "greeting", "primaryKey": ["id"],
                                     "columns": {"id": "LONG", "message": "STRING",
                                                 "created_at": "UTC_DATETIME"}}]},
              f"schema {schema}")

        cursor = 0
        for state in ({}, {"cursor": 3}):
            events, logs, answer = run_update(conn, {"configuration": {}, "state": state})
            check(answer.get("result") == {}, f"update answer {short(answer)}")
            check([kind for kind, _ in events] == ["records", "checkpoint"],
                  f"expected one records batch then a checkpoint, got {events}")
            ops = events[0][1]
            check([op["op"] for op in ops] == ["upsert"] * 3, f"ops {ops}")
            check([op["table"] for op in ops] == ["greeting"] * 3, f"ops {ops}")
            check([op["data"]["id"] for op in ops] == [cursor + 1, cursor + 2, cursor + 3],
                  f"ids {[op['data']['id'] for op in ops]} after cursor {cursor}")
            check(ops[0]["data"]["message"] == f"hello #{cursor + 1}", f"data {ops[0]['data']}")
            check(events[1][1] == {"cursor": cursor + 3}, f"checkpoint state {events[1][1]}")
            # console.log arrives as a log message, in order with ctx.log
            check(logs == [{"level": "info", "message": f"hello-node: starting after id {cursor}"},
                           {"level": "info", "message": f"wrote ids {cursor + 1}..{cursor + 3}"}],
                  f"logs {logs}")
            cursor += 3

        error = expect_error(conn.call("update", {"configuration": {}, "state": {"cursor": "x"}}), -32602)
        check("state.cursor" in error["message"], f"message {error['message']}")

        shutdown(conn)
        check("hello-node: starting after id 0" not in conn.stderr, "console.log is a log message, not stderr")
    finally:
        conn.kill()


def test_hello_exits_on_eof_before_initialize():
    conn = spawn_hello()
    try:
        conn.close_stdin()
        check(conn.wait_exit() == 0, "exit 0 on stdin EOF")
        check(conn.messages.get(timeout=TIMEOUT) is None, "nothing on stdout")
    finally:
        conn.kill()


def test_hello_exits_on_eof_while_waiting_for_checkpoint_ack():
    conn = spawn_hello()
    try:
        initialize(conn, "hello-node")
        conn.request("update", {"configuration": {}, "state": {}})
        check(conn.recv()["method"] == "log", "console.log's line first")
        check(conn.recv()["method"] == "records", "then records")
        check(conn.recv()["method"] == "checkpoint", "then a checkpoint")
        conn.close_stdin()  # never ack
        check(conn.wait_exit() == 0, "exit 0 on stdin EOF during update")
    finally:
        conn.kill()


# ---------------------------------------------------------------------------------------
# Edge cases of protocol.js (tests/edge_connector.js)

def test_exits_on_eof_while_a_timer_is_pending():
    conn = spawn_edge()
    try:
        initialize(conn, "edge")
        conn.request("update", {"configuration": {"mode": "sleepy"}, "state": {}})
        time.sleep(0.3)
        conn.close_stdin()
        check(conn.wait_exit(timeout=5) == 0, "exit 0 on stdin EOF, not after the 60 s timer")
    finally:
        conn.kill()


def test_batches_of_1000_and_flushes():
    conn = spawn_edge()
    try:
        initialize(conn, "edge")
        events, _, answer = run_update(conn, {"configuration": {"mode": "batch"}, "state": {}})
        check(answer.get("result") == {}, f"update answer {short(answer)}")
        shape = [(kind, len(body)) if kind == "records" else (kind, body) for kind, body in events]
        check(shape == [("records", 1000), ("records", 1000), ("records", 500),
                        ("checkpoint", {"n": 2500}), ("records", 13)], f"batches {shape}")
        ids = [op["data"]["id"] for kind, ops in events if kind == "records" for op in ops
               if op["op"] == "upsert"]
        check(ids == list(range(1, 2511)), "upserts in order")
        check(events[-1][1][-3:] == [{"op": "update", "table": "items", "data": {"id": 1, "name": "one"}},
                                     {"op": "delete", "table": "items", "keys": {"id": 2}},
                                     {"op": "truncate", "table": "other"}], f"last ops {events[-1][1][-3:]}")
        shutdown(conn)
    finally:
        conn.kill()


def test_backpressure_and_1mib_batches():
    conn = spawn_edge()
    rows, padding = 20000, 2000  # ~40 MB of records, far more than the pipe holds
    try:
        initialize(conn, "edge")
        conn.pause_reading()
        update_id = conn.request("update", {"configuration": {"mode": "big", "rows": rows, "padding": padding},
                                            "state": {}})
        time.sleep(1.5)
        conn.resume_reading()
        events, _, answer = finish_update(conn, update_id)
        check("result" in answer, f"update answer {short(answer)}")
        summary = answer["result"]["summary"]
        check(summary["drainWaits"] > 0, f"the connector waited for drain: {summary}")
        check(summary["maxBuffered"] < 4 << 20, f"stdout buffer stayed small (not ~40 MB): {summary}")
        batches = [body for kind, body in events if kind == "records"]
        ids = [op["data"]["id"] for ops in batches for op in ops]
        check(ids == list(range(1, rows + 1)), "all rows, in order")
        check(all(len(ops) < 1000 for ops in batches), "~1 MiB limit splits before 1000 ops")
        sizes = [len(json.dumps(ops, separators=(",", ":"))) for ops in batches]
        check(max(sizes) <= (1 << 20) + padding + 100, f"batch of {max(sizes)} bytes")
        check(events[-1] == ("checkpoint", {"n": rows}), "checkpoint last")
        shutdown(conn)
    finally:
        conn.kill()


def test_connector_error_answers_update_with_32013():
    conn = spawn_edge()
    try:
        initialize(conn, "edge")
        events, _, answer = run_update(conn, {"configuration": {"mode": "throws"}, "state": {}})
        check(events == [], f"the unflushed op is dropped, got {events}")
        error = expect_error(answer, -32013, "upstream exploded")
        check(error["data"]["type"] == "Error", f"data.type {error['data']}")
        check("edge_connector.js" in error["data"]["traceback"], "data.traceback is the stack")

        error = expect_error(conn.call("update", {"configuration": {"mode": "badOp"}, "state": {}}), -32013)
        check(error["data"]["type"] == "TypeError" and "data must be an object" in error["message"],
              f"bad op error {error}")

        check("result" in conn.call("schema", {"configuration": {}}), "still serving after a failed update")
        shutdown(conn)
    finally:
        conn.kill()


def test_checkpoint_ack_error_and_cancel():
    conn = spawn_edge()
    try:
        initialize(conn, "edge")
        params = {"configuration": {"mode": "checkpoint"}, "state": {}}

        # Ack: checkpoint() resolves with the host's result.
        events, _, answer = run_update(conn, params)
        check(answer.get("result") == {"summary": {"answer": {}}}, f"update answer {short(answer)}")

        # Error answer: checkpoint() rejects, and the update answer carries the host's code.
        update_id = conn.request("update", params)
        check(conn.recv()["method"] == "records", "records before checkpoint")
        checkpoint = conn.recv()
        check(checkpoint["method"] == "checkpoint", f"got {short(checkpoint)}")
        conn.answer(checkpoint["id"], error={"code": -32011, "message": "disk full"})
        error = expect_error(conn.expect_response(update_id), -32011)
        check("disk full" in error["message"], f"message {error['message']}")

        # Cancel while waiting for the ack: update answered -32014.
        update_id = conn.request("update", params)
        check(conn.recv()["method"] == "records", "records before checkpoint")
        checkpoint = conn.recv()
        conn.notify("cancel", {"reason": "user pressed Ctrl-C"})
        error = expect_error(conn.expect_response(update_id), -32014)
        check("user pressed Ctrl-C" in error["message"], f"message {error['message']}")
        conn.answer(checkpoint["id"])  # a late ack for a forgotten request is ignored

        shutdown(conn)
        check("unknown request id" in conn.stderr, "late ack noted on stderr")
    finally:
        conn.kill()


def test_console_stays_off_stdout():
    conn = spawn_edge()
    try:
        initialize(conn, "edge")
        events, logs, answer = run_update(conn, {"configuration": {"mode": "console"}, "state": {}})
        check(answer.get("result") == {"summary": {}}, f"update answer {short(answer)}")
        # log/info/debug/warn/error become log messages, in order with ctx.log; the others go to stderr
        check(logs == [{"level": "info", "message": "console.log line"}, {"level": "info", "message": "console.info line"},
                       {"level": "debug", "message": "console.debug line"}, {"level": "warning", "message": "console.warn line"},
                       {"level": "error", "message": "console.error line"}]
              + [{"level": level, "message": f"{level} message"} for level in ("debug", "info", "warning", "error")],
              f"logs {logs}")
        shutdown(conn)
        for what in ("dir", "table"):
            check(f"console.{what} line" in conn.stderr, f"console.{what} reaches stderr")
        for what in ("log", "info", "debug", "warn", "error"):
            check(f"console.{what} line" not in conn.stderr, f"console.{what} is a log message, not stderr")
    finally:
        conn.kill()


def test_framing_and_bad_input():
    conn = spawn_edge()
    try:
        conn.send_raw(b"this is not json\n")
        error = conn.recv()
        check(error.get("id", "missing") is None, f"parse error has id null: {short(error)}")
        expect_error(error, -32700)
        check("line 1" in error["error"]["message"], f"names the line: {error['error']['message']}")

        conn.send_raw(b"[1,2]\n")
        expect_error(conn.recv(), -32600)

        # CRLF line endings are tolerated.
        conn.send_raw(json.dumps({"jsonrpc": "2.0", "id": 100, "method": "initialize",
                                  "params": {"protocolVersion": 1, "configuration": {}}}).encode() + b"\r\n")
        answer = conn.expect_response(100)
        check(answer["result"]["capabilities"]["test"] is True, "edge has the test capability")
        check(answer["result"]["secretKeys"] == ["pin"], "edge declares its secret keys")
        check(answer["result"]["protocolVersion"] == 1, "version 1")

        # A UTF-8 character split across two writes, and a test request.
        line = json.dumps({"jsonrpc": "2.0", "id": 101, "method": "test",
                           "params": {"configuration": {"echo": "héllo ☃"}}}, ensure_ascii=False).encode()
        cut = line.index("☃".encode()) + 1
        conn.send_raw(line[:cut])
        time.sleep(0.2)
        conn.send_raw(line[cut:] + b"\n")
        answer = conn.expect_response(101)
        check(answer["result"] == {"ok": True, "message": "echo: héllo ☃"}, f"test answer {short(answer)}")

        # A second initialize is refused.
        conn.send_raw(b'{"jsonrpc":"2.0","id":102,"method":"initialize","params":{"protocolVersion":7}}\n')
        expect_error(conn.recv(), -32600, "already initialized")

        conn.send_raw(b'{"jsonrpc":"2.0","id":103,"method":"schema","params":[1]}\n')
        expect_error(conn.expect_response(103), -32602)

        conn.send({"jsonrpc": "2.0", "id": 999, "result": {}})  # answer to nothing: ignored
        conn.expect_no_message()
        shutdown(conn)
    finally:
        conn.kill()


def test_newer_protocol_version_is_answered_with_ours():
    conn = spawn_edge()
    try:
        answer = conn.call("initialize", {"protocolVersion": 2, "configuration": {}})
        check(answer["result"]["protocolVersion"] == 1, f"answer {short(answer)}")
        shutdown(conn)
    finally:
        conn.kill()


TESTS = [
    test_hello_lifecycle,
    test_hello_exits_on_eof_before_initialize,
    test_hello_exits_on_eof_while_waiting_for_checkpoint_ack,
    test_exits_on_eof_while_a_timer_is_pending,
    test_batches_of_1000_and_flushes,
    test_backpressure_and_1mib_batches,
    test_connector_error_answers_update_with_32013,
    test_checkpoint_ack_error_and_cancel,
    test_console_stays_off_stdout,
    test_framing_and_bad_input,
    test_newer_protocol_version_is_answered_with_ours,
]


def main():
    failures = 0
    for test in TESTS:
        started = time.monotonic()
        try:
            test()
        except Exception as err:  # CheckFailed, or a bug in the test itself
            failures += 1
            print(f"FAIL {test.__name__}: {err}")
            if not isinstance(err, CheckFailed):
                traceback.print_exc()
        else:
            print(f"ok   {test.__name__} ({time.monotonic() - started:.1f}s)")
    print(f"{len(TESTS) - failures}/{len(TESTS)} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
