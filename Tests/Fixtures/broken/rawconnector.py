"""A conforming connector speaking protocol v1 by hand (stdlib only), for conformance tests.

Each script in this folder subclasses RawConnector and breaks exactly one rule; good.py breaks
none. The tests run `connector-host conformance` on each and assert which check fails and why.
Run one by hand with a manifest {"command": ["python3", "/abs/path/script.py"]} in a folder.
"""

import json
import sys


class RawConnector:
    name = "raw"
    version = "1.0.0"
    tables = [{"table": "items", "primaryKey": ["id"], "columns": {"id": "LONG", "name": "STRING"}}]

    def __init__(self):
        self.initialized = False
        self.next_checkpoint = 1

    # -- wire ---------------------------------------------------------------------------------

    def send(self, message):
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
        sys.stdout.flush()

    def read(self):
        """The next message from the host, or None at EOF."""
        while True:
            line = sys.stdin.readline()
            if not line:
                return None
            if line.strip():
                return json.loads(line)

    def answer(self, rid, result):
        self.send({"id": rid, "result": result})

    def error(self, rid, code, message):
        self.send({"id": rid, "error": {"code": code, "message": message}})

    # -- connector side -----------------------------------------------------------------------

    def records(self, ops):
        self.send({"method": "records", "params": {"ops": ops}})

    def checkpoint(self, state):
        """Sends a checkpoint and blocks until the host answers; raises on an error answer."""
        cid = "cp-%d" % self.next_checkpoint
        self.next_checkpoint += 1
        self.send({"id": cid, "method": "checkpoint", "params": {"state": state}})
        while True:
            message = self.read()
            if message is None:
                self.on_eof()
            if message.get("method") == "cancel":
                raise RuntimeError("cancelled")
            if message.get("id") == cid and "error" in message:
                raise RuntimeError("checkpoint refused: " + message["error"]["message"])
            if message.get("id") == cid:
                return

    def log(self, message):
        self.send({"method": "log", "params": {"level": "info", "message": message}})

    # -- handlers (override one to break one rule) --------------------------------------------

    def on_initialize(self, params):
        # Version 1 is the only one this connector speaks, whatever the host asks for.
        return {"protocolVersion": 1, "connector": {"name": self.name, "version": self.version},
                "capabilities": {"test": False}}

    def on_schema(self, params):
        return {"tables": self.tables}

    def on_update(self, params):
        state = params.get("state") or {}
        start = int(state.get("next", 1))
        self.log("starting at %d" % start)
        self.records([{"op": "upsert", "table": "items", "data": {"id": i, "name": "item %d" % i}}
                      for i in range(start, start + 3)])
        self.checkpoint({"next": start + 3})
        return {}

    def on_shutdown(self, params):
        return {}

    def on_unknown_request(self, rid, method):
        self.error(rid, -32601, "method not found: " + method)

    def on_notification(self, method, params):
        pass  # cancel and unknown notifications: nothing to do between requests

    def on_eof(self):
        sys.exit(0)

    def on_request(self, rid, method, params):
        """Answers one request; the dispatch every handler above plugs into."""
        handlers = {"initialize": self.on_initialize, "schema": self.on_schema,
                    "update": self.on_update, "shutdown": self.on_shutdown}
        if method != "initialize" and not self.initialized:
            return self.error(rid, -32002, "not initialized")
        if method not in handlers:
            return self.on_unknown_request(rid, method)
        try:
            result = handlers[method](params)
        except Exception as failure:  # a failing connector answers with an error
            return self.error(rid, -32013, "%s: %s" % (type(failure).__name__, failure))
        if method == "initialize":
            self.initialized = True
        self.answer(rid, result)

    def run(self):
        while True:
            message = self.read()
            if message is None:
                self.on_eof()
                return
            method, rid = message.get("method"), message.get("id")
            if method is None:
                continue  # a stray response: nothing is pending outside update
            if rid is None:
                self.on_notification(method, message.get("params") or {})
            else:
                self.on_request(rid, method, message.get("params") or {})


if __name__ == "__main__":
    RawConnector().run()
