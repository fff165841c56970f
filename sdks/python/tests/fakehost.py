"""A small fake connector-host for tests: spawns
``python3 -m connector_host_sdk.run FILE`` as a real subprocess with pipes,
speaks protocol v1 over its stdin/stdout and records everything it receives."""

import json
import os
import queue
import subprocess
import sys
import threading
import time

SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
REPO_DIR = os.path.dirname(os.path.dirname(SDK_DIR))


def fixture(name):
    return os.path.join(FIXTURES, name, "connector.py")


def sdk_env(extra=None):
    """The environment of a connector under test: this SDK on PYTHONPATH; ``extra``
    overrides (a value of None removes the variable)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SDK_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("CONNECTOR_HOST_BIN", None)
    env.pop("CONNECTOR_HOST_PYTHON_SDK", None)
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class HostTimeout(AssertionError):
    pass


class FakeHost(object):
    """``checkpoint_handler(host, msg)`` returns the reply members for a
    checkpoint request ({"result": {}} or {"error": {...}}), or None to leave
    it unanswered (the test answers later with ``reply``)."""

    def __init__(self, connector_file, env=None, checkpoint_handler=None, python=None):
        self.proc = subprocess.Popen(
            [python or sys.executable, "-m", "connector_host_sdk.run", connector_file],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=sdk_env(env), cwd=SDK_DIR)
        self.raw_lines = []      # every stdout line (bytes, without "\n")
        self.bad_lines = []      # stdout lines that are not JSON objects
        self.order_violations = []  # messages with "params" before "method"
        self.messages = []       # every parsed message, in order
        self.batches = []        # ops list of each records notification
        self.ops = []            # all ops, flattened
        self.logs = []           # (level, message)
        self.warnings = []       # message of each warning notification
        self.checkpoints = []    # (state, number of ops received before it)
        self.events = []         # ("records", n) | ("checkpoint", state) | ("log", level, msg) | ("warning", msg)
        #                          | ("response", id)
        self.pending_checkpoints = []
        self.sent_methods = {}   # id of each request we sent -> its method
        self.checkpoint_handler = checkpoint_handler or (lambda host, msg: {"result": {}})
        self._next_id = 1
        self._q = queue.Queue()
        self._stderr_chunks = []
        self._t_out = threading.Thread(target=self._read_stdout, daemon=True)
        self._t_err = threading.Thread(target=self._read_stderr, daemon=True)
        self._t_out.start()
        self._t_err.start()

    # -------------------------------------------------------------- plumbing
    def _read_stdout(self):
        for line in self.proc.stdout:
            self._q.put(line)
        self._q.put(None)

    def _read_stderr(self):
        for chunk in iter(lambda: self.proc.stderr.read1(65536) if hasattr(self.proc.stderr, "read1")
                          else self.proc.stderr.read(65536), b""):
            self._stderr_chunks.append(chunk)

    @property
    def stderr(self):
        return b"".join(self._stderr_chunks).decode("utf-8", "replace")

    def stderr_containing(self, text, timeout=10):
        """The connector's stderr once it contains text (or as it is after timeout seconds).

        stderr is read by a thread, so a line the connector wrote before it answered a request
        may not have been collected yet when the answer arrives."""
        deadline = time.monotonic() + timeout
        while text not in self.stderr and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.stderr

    def send(self, obj):
        self.send_raw((json.dumps(obj) + "\n").encode("utf-8"))

    def send_raw(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def wait(self, timeout=20):
        """Close stdin, wait for exit; returns the exit status."""
        self.close_stdin()
        rc = self.proc.wait(timeout)
        self._t_out.join(5)
        self._t_err.join(5)
        # drain what is left on stdout
        while True:
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self._record(item)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except Exception:
                pass

    # -------------------------------------------------------------- receiving
    def _record(self, raw):
        line = raw[:-1] if raw.endswith(b"\n") else raw
        self.raw_lines.append(line)
        try:
            msg = json.loads(line)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            self.bad_lines.append(line)
            return None
        if b'"params"' in line and b'"method"' in line and line.index(b'"params"') < line.index(b'"method"'):
            self.order_violations.append(line)
        if msg.get("jsonrpc") != "2.0":
            self.bad_lines.append(line)
        self.messages.append(msg)
        method = msg.get("method")
        if method == "records":
            ops = msg["params"]["ops"]
            self.batches.append(ops)
            self.ops.extend(ops)
            self.events.append(("records", len(ops)))
        elif method == "log":
            p = msg["params"]
            self.logs.append((p["level"], p["message"]))
            self.events.append(("log", p["level"], p["message"]))
        elif method == "warning":
            self.warnings.append(msg["params"]["message"])
            self.events.append(("warning", msg["params"]["message"]))
        elif method == "checkpoint" and "id" in msg:
            state = msg["params"]["state"]
            self.checkpoints.append((state, len(self.ops)))
            self.events.append(("checkpoint", state))
            reply = self.checkpoint_handler(self, msg)
            if reply is None:
                self.pending_checkpoints.append(msg)
            else:
                self.reply(msg["id"], reply)
        elif "id" in msg and method is None:
            self.events.append(("response", msg["id"]))
        return msg

    def reply(self, rid, members):
        out = {"jsonrpc": "2.0", "id": rid}
        out.update(members)
        self.send(out)

    def next_message(self, timeout=20):
        """Next stdout message (recorded and handled), None at EOF."""
        try:
            raw = self._q.get(timeout=timeout)
        except queue.Empty:
            raise HostTimeout("no message from the connector within %ss; stderr:\n%s"
                              % (timeout, self.stderr))
        if raw is None:
            self._q.put(None)  # stay at EOF
            return None
        msg = self._record(raw)
        return msg if msg is not None else {"_bad_line": raw}

    def expect_silence(self, seconds):
        """Assert that nothing arrives for ``seconds``."""
        try:
            raw = self._q.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError("unexpected message: %r" % (raw,))

    def wait_response(self, rid, timeout=20):
        while True:
            msg = self.next_message(timeout)
            if msg is None:
                raise AssertionError("connector closed stdout before answering request %r; "
                                     "stderr:\n%s" % (rid, self.stderr))
            if msg.get("id") == rid and "method" not in msg:
                return msg

    def send_request(self, method, params=None):
        rid = self._next_id
        self._next_id += 1
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        self.sent_methods[rid] = method
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return rid

    def request(self, method, params=None, timeout=20):
        return self.wait_response(self.send_request(method, params), timeout)

    # ------------------------------------------------------------ conveniences
    def initialize(self, configuration=None):
        resp = self.request("initialize", {
            "protocolVersion": 1,
            "host": {"name": "fake-host", "version": "0"},
            "configuration": configuration or {},
        })
        if "error" in resp:
            raise AssertionError("initialize failed: %r" % resp)
        return resp["result"]

    def update(self, configuration=None, state=None, timeout=60, **extra):
        """An update request; ``extra`` adds params (e.g. fileStaging="/dir")."""
        params = {"configuration": configuration or {}, "state": state if state is not None else {}}
        params.update(extra)
        return self.request("update", params, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False
