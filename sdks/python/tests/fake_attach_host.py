"""A stand-in for ``connector-host run DIR --attach FD_IN,FD_OUT ...`` in tests of
``connector.debug()``: speaks protocol v1 over the two inherited descriptors
(initialize, schema, update with auto-acknowledged checkpoints, shutdown),
then writes what it saw as JSON to $FAKE_HOST_RECORD and exits with
$FAKE_HOST_EXIT (default 0; 1 when update failed)."""

import json
import os
import sys


def main(argv):
    if argv[1:] == ["--help"]:
        print("usage: connector-host run DIR [--attach FD_IN,FD_OUT] ..." if os.environ.get("FAKE_HOST_ATTACH", "1") == "1"
              else "usage: connector-host run DIR ...")
        return 0
    record = {"argv": argv, "pid": os.getpid()}
    if "--attach" not in argv:
        with open(os.environ["FAKE_HOST_RECORD"], "w") as f:
            json.dump(record, f)
        return 5
    args = list(argv)
    assert args[0] == "run", args
    directory = args[1]
    options = {}
    i = 2
    while i < len(args):
        options[args[i]] = args[i + 1]
        i += 2
    fd_in, fd_out = (int(x) for x in options["--attach"].split(","))
    config_path = options.get("--configuration", os.path.join(directory, "configuration.json"))
    configuration = json.load(open(config_path)) if os.path.exists(config_path) else {}
    state = json.load(open(options["--state"])) if "--state" in options else {}
    record["files_during_run"] = {k: os.path.exists(options[k]) for k in ("--configuration", "--state")
                                  if k in options}
    reader = os.fdopen(fd_in, "rb")
    writer = os.fdopen(fd_out, "wb", buffering=0)
    ops, checkpoints, logs, warnings = [], [], [], []

    def send(obj):
        writer.write((json.dumps(obj) + "\n").encode())

    def call(rid, method, params):
        send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        for line in reader:
            msg = json.loads(line)
            m = msg.get("method")
            if m == "records":
                ops.extend(msg["params"]["ops"])
            elif m == "log":
                logs.append([msg["params"]["level"], msg["params"]["message"]])
            elif m == "warning":
                warnings.append(msg["params"]["message"])
            elif m == "checkpoint":
                checkpoints.append(msg["params"]["state"])
                send({"jsonrpc": "2.0", "id": msg["id"], "result": {}})
            elif msg.get("id") == rid:
                return msg
        raise SystemExit("fake host: the connector closed the protocol stream")

    record["initialize"] = call(1, "initialize", {"protocolVersion": 1, "host": {"name": "fake", "version": "0"},
                                                  "configuration": configuration})
    record["schema"] = call(2, "schema", {"configuration": configuration})
    record["update"] = call(3, "update", {"configuration": configuration, "state": state})
    record["shutdown"] = call(4, "shutdown", {})
    writer.close()
    record["trailing"] = reader.read().decode()
    record.update(ops=ops, checkpoints=checkpoints, logs=logs, warnings=warnings, configuration=configuration,
                  state=state)
    with open(os.environ["FAKE_HOST_RECORD"], "w") as f:
        json.dump(record, f)
    failed = "error" in record["update"]
    return int(os.environ.get("FAKE_HOST_EXIT", "1" if failed else "0"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
