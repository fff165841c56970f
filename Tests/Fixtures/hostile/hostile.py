"""A hostile connector for the host's failure tests: raw protocol, scripted by its configuration.

Standard library only. The configuration (sent in `initialize`) may hold, per host request, a list
of actions to run instead of the normal answer:

    {"initialize": [...], "schema": [...], "update": [...], "shutdown": [...], "tables": [...]}

`tables` is the schema's answer. Without a list, a request gets its normal answer; within a list,
`{"reply": true}` sends it (for `update`: `{}`). The actions:

    {"send": OBJECT}             one JSON line (the envelope's "jsonrpc" is added when missing)
    {"raw": TEXT}                TEXT written as is (no newline added), Latin-1 encoded, so any byte fits
    {"rawUTF8": TEXT}            TEXT written as is (no newline added), UTF-8 encoded
    {"repeat": [TEXT, N]}        TEXT written N times
    {"records": [OP, ...]}       a records notification
    {"rows": [TABLE, FIRST, N]}  a records notification upserting {"id": i, "value": "row i"}
    {"checkpoint": STATE}        a checkpoint request (id "cp-N"), then waits for its answer
    {"checkpointNoWait": STATE}  a checkpoint request without waiting
    {"stderr": TEXT}             a line on stderr
    {"exit": CODE}               exits at once with CODE
    {"kill": SIGNAL}             sends itself SIGNAL (e.g. "SIGKILL", "SIGSEGV")
    {"killHost": SIGNAL}         sends the host (its parent) SIGNAL
    {"sleep": SECONDS}
    {"hang": true}               sleeps until killed
    {"ignore": [SIGNAL, ...]}    ignores these signals from now on (e.g. ["SIGTERM"])
    {"closeStdout": true}        closes stdout but keeps running
    {"closeStdin": true}         closes stdin (the host's next write fails with EPIPE)
    {"pidFile": PATH}            writes its pid to PATH
    {"touch": PATH}              creates PATH (a marker for a test waiting on progress)
    {"waitFor": PATH}            waits until PATH exists
    {"statFiles": [PATH, ...]}   writes "mode PATH 0o600" to stderr for each existing PATH
    {"env": [NAME, ...]}         writes "env NAME=value" (or "env NAME unset") to stderr
    {"readUntilEOF": true}       reads stdin until EOF (a `cancel` is noted on stderr), then exits 0
    {"stderrState": true}        writes "state: STATE" (the state `update` received) to stderr
    {"unlink": [PATH, ...]}      deletes these files (those that exist)
    {"spawn": {"argv": [...], "newSession": BOOL, "pidFile": PATH}}
                                 starts a process that inherits stdout and stderr (in a new session
                                 when newSession, else in this process's group) and writes its pid to PATH
    {"stderrRaw": TEXT}          TEXT written to stderr as is (no newline added), Latin-1 encoded
"""

import json
import os
import signal
import subprocess
import sys
import time

stdout = sys.stdout.buffer
checkpoints = 0


def write(data):
    stdout.write(data)
    stdout.flush()


def send(message):
    message = dict(message)
    message.setdefault("jsonrpc", "2.0")
    write((json.dumps(message, separators=(",", ":")) + "\n").encode())


def read_message():
    line = sys.stdin.buffer.readline()
    if not line:
        sys.exit(0)  # stdin EOF: the host has finished with us
    return json.loads(line)


def wait_for_answer(request_id):
    while True:
        message = read_message()
        if message.get("method") == "cancel":
            sys.stderr.write("hostile: got cancel: %s\n" % message["params"].get("reason"))
            sys.stderr.flush()
            continue
        if message.get("id") == request_id:
            if "error" in message:
                sys.stderr.write("hostile: checkpoint refused: %s\n" % message["error"]["message"])
                sys.exit(2)
            return


def signal_number(name):
    return getattr(signal, name)


def run(actions, reply, params):
    global checkpoints
    for action in actions:
        (kind, argument), = action.items()
        if kind == "reply":
            reply()
        elif kind == "send":
            send(argument)
        elif kind == "raw":
            write(argument.encode("latin-1"))
        elif kind == "rawUTF8":
            write(argument.encode("utf-8"))
        elif kind == "stderrRaw":
            sys.stderr.buffer.write(argument.encode("latin-1"))
            sys.stderr.flush()
        elif kind == "unlink":
            for path in argument:
                if os.path.lexists(path):
                    os.unlink(path)
        elif kind == "spawn":
            child = subprocess.Popen(argument["argv"], stdin=subprocess.DEVNULL, start_new_session=argument.get("newSession", False))
            if "pidFile" in argument:
                with open(argument["pidFile"], "w") as file:
                    file.write(str(child.pid))
        elif kind == "repeat":
            write(argument[0].encode("latin-1") * argument[1])
        elif kind == "records":
            send({"method": "records", "params": {"ops": argument}})
        elif kind == "rows":
            table, first, count = argument
            ops = [{"op": "upsert", "table": table, "data": {"id": i, "value": "row %d" % i}} for i in range(first, first + count)]
            send({"method": "records", "params": {"ops": ops}})
        elif kind in ("checkpoint", "checkpointNoWait"):
            checkpoints += 1
            request_id = "cp-%d" % checkpoints
            send({"id": request_id, "method": "checkpoint", "params": {"state": argument}})
            if kind == "checkpoint":
                wait_for_answer(request_id)
        elif kind == "stderr":
            sys.stderr.write(argument + "\n")
            sys.stderr.flush()
        elif kind == "exit":
            os._exit(argument)
        elif kind == "kill":
            os.kill(os.getpid(), signal_number(argument))
            time.sleep(10)
        elif kind == "killHost":
            os.kill(os.getppid(), signal_number(argument))
        elif kind == "sleep":
            time.sleep(argument)
        elif kind == "hang":
            while True:
                time.sleep(60)
        elif kind == "ignore":
            for name in argument:
                signal.signal(signal_number(name), signal.SIG_IGN)
        elif kind == "closeStdout":
            os.close(1)
        elif kind == "closeStdin":
            os.close(0)
        elif kind == "pidFile":
            with open(argument, "w") as file:
                file.write(str(os.getpid()))
        elif kind == "readUntilEOF":
            while True:
                line = sys.stdin.buffer.readline()
                if not line:
                    sys.exit(0)
                message = json.loads(line)
                if message.get("method") == "cancel":
                    sys.stderr.write("hostile: got cancel: %s\n" % message["params"].get("reason"))
                    sys.stderr.flush()
        elif kind == "stderrState":
            sys.stderr.write("state: %s\n" % json.dumps(params.get("state"), separators=(",", ":"), sort_keys=True))
            sys.stderr.flush()
        elif kind == "touch":
            open(argument, "w").close()
        elif kind == "waitFor":
            while not os.path.exists(argument):
                time.sleep(0.01)
        elif kind == "statFiles":
            for path in argument:
                if os.path.exists(path):
                    sys.stderr.write("mode %s %s\n" % (path, oct(os.stat(path).st_mode & 0o777)))
            sys.stderr.flush()
        elif kind == "env":
            for name in argument:
                value = os.environ.get(name)
                sys.stderr.write("env %s\n" % (name + " unset" if value is None else name + "=" + value))
            sys.stderr.flush()
        else:
            raise SystemExit("hostile: unknown action %r" % kind)


def main():
    configuration = {}
    while True:
        message = read_message()
        method, request_id = message.get("method"), message.get("id")
        if method is None or request_id is None:
            continue
        if method == "initialize":
            configuration = message["params"].get("configuration", {})
            result = {"protocolVersion": 1, "connector": {"name": "hostile", "version": "1.0.0"}, "capabilities": {}}
        elif method == "schema":
            result = {"tables": configuration.get("tables", [])}
        else:
            result = {}

        def reply(result=result, request_id=request_id):
            send({"id": request_id, "result": result})

        run(configuration.get(method, [{"reply": True}]), reply, message.get("params") or {})


main()
