#!/usr/bin/env python3
"""Throughput of the Python SDK's record path, for 10-column rows.

    python3 sdks/python/benchmarks/encode_throughput.py [ROWS]          # in-process, to /dev/null
    python3 sdks/python/benchmarks/encode_throughput.py --e2e [ROWS]    # subprocess + pipe + reader
    python3 sdks/python/benchmarks/encode_throughput.py --host [ROWS]   # the real connector-host

--host: writes a connector that generates ROWS rows up front and upserts
them, then runs ``connector-host run`` on it (found via $CONNECTOR_HOST_BIN,
then PATH) into a temporary directory and prints the host's summary.

In-process: rows are generated first (not timed), then each goes through the
real code path (Operations.upsert -> Session.upsert -> Encoder -> batch join ->
os.write) into /dev/null; a checkpoint-free update of ROWS upserts.

--e2e: spawns ``python3 -m connector_host_sdk.run`` on a generated connector
that builds and upserts ROWS rows, while this process plays the host: it reads
every stdout line and parses it with json.loads (so the number includes the
connector's row generation, the pipe and a Python JSON reader on the other side).
"""

import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time

SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, SDK_DIR)

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def _pool(rnd, size, length, alphabet):
    return ["".join(rnd.choice(alphabet) for _ in range(length)) for _ in range(size)]


def make_rows(n, seed=1):
    """n distinct 10-column rows; strings come from pools of 997 random ones
    so that generation stays cheap next to encoding."""
    rnd = random.Random(seed)
    names = _pool(rnd, 997, 12, string.ascii_letters)
    emails = [s + "@x.com" for s in _pool(rnd, 997, 14, string.ascii_lowercase)]
    notes = _pool(rnd, 997, 30, string.ascii_letters + " ")
    stamps = ["2024-%02d-%02dT%02d:%02d:%02dZ" % (rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 23),
                                                  rnd.randint(0, 59), rnd.randint(0, 59)) for _ in range(997)]
    rand = rnd.random
    rows = []
    for i in range(seed, seed + n):
        k = i % 997
        rows.append({
            "id": i,
            "name": names[k],
            "email": emails[(k * 7) % 997],
            "amount": round(rand() * 10000, 2),
            "count": (i * 7919) % 1000003,
            "active": (i & 1) == 0,
            "created_at": stamps[(k * 13) % 997],
            "category": WORDS[i % 8],
            "score": rand(),
            "note": notes[(k * 31) % 997],
        })
    return rows


def in_process(n, repeats=3):
    from connector_host_sdk import session as S
    from connector_host_sdk import Operations as op

    rows = make_rows(n)
    best = None
    for _ in range(repeats):
        out = os.open(os.devnull, os.O_WRONLY)
        r, w = os.pipe()
        s = S.Session(r, out)
        s._initialized = True
        s._accepting = True
        S._set_current(s)
        upsert = op.upsert
        t0 = time.perf_counter()
        for row in rows:
            upsert("bench", row)
        s.flush()
        dt = time.perf_counter() - t0
        S._set_current(None)
        for fd in (out, r, w):
            os.close(fd)
        best = dt if best is None else min(best, dt)
    line = S.Session(0, 1)._encode(rows[0])
    print("in-process: %d rows of 10 columns (%d bytes/row JSON) in %.3f s (best of %d) = %d rows/s"
          % (n, len(line), best, repeats, n / best))
    return n / best


CONNECTOR = '''
import random, string
from fivetran_connector_sdk import Connector, Operations as op
import sys
sys.path.insert(0, %(bench_dir)r)
from encode_throughput import make_rows

def update(configuration, state):
    n = int(configuration["rows"])
    chunk = 10000
    for start in range(0, n, chunk):
        for row in make_rows(min(chunk, n - start), seed=start):
            op.upsert("bench", row)
    op.checkpoint({"done": n})

connector = Connector(update=update)
'''


def end_to_end(n):
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "bench")
        os.mkdir(d)
        path = os.path.join(d, "connector.py")
        with open(path, "w") as f:
            f.write(CONNECTOR % {"bench_dir": os.path.dirname(os.path.abspath(__file__))})
        env = dict(os.environ, PYTHONPATH=SDK_DIR)
        p = subprocess.Popen([sys.executable, "-m", "connector_host_sdk.run", path],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

        def send(obj):
            p.stdin.write((json.dumps(obj) + "\n").encode())
            p.stdin.flush()

        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": 1, "configuration": {}}})
        json.loads(p.stdout.readline())
        t0 = time.perf_counter()
        send({"jsonrpc": "2.0", "id": 2, "method": "update",
              "params": {"configuration": {"rows": str(n)}, "state": {}}})
        rows = 0
        for line in p.stdout:
            msg = json.loads(line)
            if msg.get("method") == "records":
                rows += len(msg["params"]["ops"])
            elif msg.get("method") == "checkpoint":
                send({"jsonrpc": "2.0", "id": msg["id"], "result": {}})
            elif msg.get("id") == 2:
                break
        dt = time.perf_counter() - t0
        p.stdin.close()
        p.wait()
        assert rows == n, (rows, n)
        print("end-to-end (generate + encode + pipe + json.loads reader): %d rows in %.3f s = %d rows/s"
              % (n, dt, n / dt))
        return n / dt


HOST_CONNECTOR = '''
import sys, time
sys.path.insert(0, %(bench_dir)r)
from encode_throughput import make_rows
from fivetran_connector_sdk import Connector, Operations as op

def schema(configuration):
    return [{"table": "bench", "primary_key": ["id"]}]

def update(configuration, state):
    n = int(configuration["rows"])
    rows = make_rows(n)  # as if already fetched from a source
    t = time.perf_counter()
    for row in rows:
        op.upsert("bench", row)
    op.checkpoint({"done": n})
    dt = time.perf_counter() - t
    print("connector: %%d upserts + checkpoint in %%.2f s = %%d rows/s" %% (n, dt, n / dt))

connector = Connector(update=update, schema=schema)
'''


def with_host(n):
    from connector_host_sdk import find_host_binary
    binary = find_host_binary()
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "bench")
        os.mkdir(d)
        with open(os.path.join(d, "connector.py"), "w") as f:
            f.write(HOST_CONNECTOR % {"bench_dir": os.path.dirname(os.path.abspath(__file__))})
        with open(os.path.join(d, "configuration.json"), "w") as f:
            json.dump({"rows": str(n)}, f)
        env = dict(os.environ, CONNECTOR_HOST_PYTHON_SDK=SDK_DIR)
        p = subprocess.run([binary, "run", d], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        print(p.stdout)
        return p.returncode


if __name__ == "__main__":
    args = sys.argv[1:]
    mode = "in-process"
    for flag in ("--e2e", "--host"):
        if flag in args:
            mode = flag
            args.remove(flag)
    n = int(args[0]) if args else 200000
    if mode == "--e2e":
        end_to_end(n)
    elif mode == "--host":
        sys.exit(with_host(n))
    else:
        in_process(n)
