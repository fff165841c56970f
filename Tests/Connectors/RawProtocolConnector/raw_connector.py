"""A connector that sends exactly what its configuration says, for host tests that need messages
no SDK would produce (invalid schemas, malformed operations).

configuration.json:
  "schema": the `schema` result, sent verbatim (default {"tables": []});
  "capabilities", "test", "configurationForm": the initialize result's capabilities and the results
           of `test` and `configurationForm` (those requests are otherwise answered -32601);
  "steps": during `update`, in order: an array is sent as the ops of one `records` message; a string
           is written verbatim as one stdout line; {"checkpoint": STATE} sends a checkpoint request and
           waits for its answer. Then `update` is answered with {}.
Python standard library only; protocol on stdout, nothing else.

`raw_connector.py --attach-host HOST DIR [ARGS...]` plays an in-process connector that starts the
host itself (as the Python SDK's connector.debug() does): it runs `HOST run DIR --attach IN,OUT
ARGS...` on two pipes, speaks the protocol on its ends of them, and exits with the host's status.
"""
import json
import os
import subprocess
import sys

if len(sys.argv) > 3 and sys.argv[1] == "--attach-host":
    to_host_read, to_host_write = os.pipe()
    from_host_read, from_host_write = os.pipe()
    host = subprocess.Popen(
        [sys.argv[2], "run", sys.argv[3], "--attach", "%d,%d" % (to_host_read, from_host_write)] + sys.argv[4:],
        pass_fds=(to_host_read, from_host_write))
    os.close(to_host_read)
    os.close(from_host_write)
    os.dup2(from_host_read, 0)
    os.dup2(to_host_write, 1)
    os.close(from_host_read)
    os.close(to_host_write)
    sys.stdin = os.fdopen(0, "r", closefd=False)
    sys.stdout = os.fdopen(1, "w", closefd=False)
    ATTACHED_HOST = host
else:
    ATTACHED_HOST = None


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
        result = {"protocolVersion": 1, "connector": {"name": "raw", "version": "1.0.0"},
                  "capabilities": configuration.get("capabilities", {})}
    elif method == "schema":
        result = configuration.get("schema", {"tables": []})
    elif method == "update":
        result = update(configuration)
    elif method == "test" and "test" in configuration:
        result = configuration["test"]
    elif method == "configurationForm" and "configurationForm" in configuration:
        result = configuration["configurationForm"]
    elif method == "shutdown":
        result = {}
    else:
        send({"id": request_id, "error": {"code": -32601, "message": "method not found: " + method}})
        continue
    send({"id": request_id, "result": result})

if ATTACHED_HOST is not None:
    sys.stdout.close()
    os.close(1)
    sys.exit(ATTACHED_HOST.wait())
