"""A connector that sends exactly what its configuration says, for host tests that need messages
no SDK would produce (invalid schemas, malformed operations).

configuration.json:
  "schema": the `schema` result, sent verbatim (default {"tables": []});
  "steps": during `update`, in order: an array is sent as the ops of one `records` message; a string
           is written verbatim as one stdout line; {"checkpoint": STATE} sends a checkpoint request and
           waits for its answer. Then `update` is answered with {}.
Python standard library only; protocol on stdout, nothing else.
"""
import json
import sys


def send(message):
    sys.stdout.write(json.dumps(dict({"jsonrpc": "2.0"}, **message), separators=(",", ":")) + "\n")
    sys.stdout.flush()


def wait_for(request_id):
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("method") == "cancel":
            sys.exit(0)
        if message.get("id") == request_id:
            if "error" in message:
                sys.exit("checkpoint refused: " + message["error"]["message"])
            return
    sys.exit(0)


def update(configuration):
    for number, step in enumerate(configuration.get("steps", [])):
        if isinstance(step, list):
            send({"method": "records", "params": {"ops": step}})
        elif isinstance(step, str):
            sys.stdout.write(step + "\n")
            sys.stdout.flush()
        elif isinstance(step, dict) and "checkpoint" in step:
            send({"id": "cp-%d" % number, "method": "checkpoint", "params": {"state": step["checkpoint"]}})
            wait_for("cp-%d" % number)
    return {}


configuration = {}
for line in sys.stdin:
    message = json.loads(line)
    method, request_id = message.get("method"), message.get("id")
    if request_id is None or method is None:
        continue
    params = message.get("params") or {}
    if method == "initialize":
        configuration = params.get("configuration") or {}
        result = {"protocolVersion": 1, "connector": {"name": "raw", "version": "1.0.0"}, "capabilities": {}}
    elif method == "schema":
        result = configuration.get("schema", {"tables": []})
    elif method == "update":
        result = update(configuration)
    elif method == "shutdown":
        result = {}
    else:
        send({"id": request_id, "error": {"code": -32601, "message": "method not found: " + method}})
        continue
    send({"id": request_id, "result": result})
