#!/usr/bin/env python3
"""A/B of the Python SDK's record path between two copies of the SDK, for a loaded machine.

    git archive REV sdks/python | tar -x -C /tmp/old
    python3 sdks/python/benchmarks/ab_record_path.py /tmp/old/sdks/python sdks/python [ROWS]

Rows are W rows (bench/workload/workload_w.py). Prints, for each copy: the compiled row encoder
alone (both copies loaded in one process, runs interleaved, best of 15: the load hits both alike),
then ``op.upsert`` into /dev/null and generator + ``op.upsert`` (best of 3 alternating child
processes), in microseconds a row (process CPU time).
"""

import gc
import importlib
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "..", "..", "..", "bench", "workload")
sys.path.insert(0, WORKLOAD)


def _load(sdk):
    for name in [m for m in sys.modules if m.startswith("connector_host_sdk")]:
        del sys.modules[name]
    sys.path.insert(0, sdk)
    try:
        return importlib.import_module("connector_host_sdk.encoder")
    finally:
        sys.path.pop(0)


def encoders(sdks, rows):
    prefix = '{"op":"upsert","table":"items","data":'
    keys = tuple(rows[0])
    found = {}
    for label, sdk in sdks:
        enc = _load(sdk)
        e = enc.Encoder()
        try:
            f = enc.make_row_encoder(prefix, keys, e.encode, None, None, tuple(rows[0].values()))
        except TypeError:  # a copy without the sample parameter
            f = enc.make_row_encoder(prefix, keys, e.encode)
        found[label] = f
    texts = [[f(r) for r in rows[:1000]] for f in found.values()]
    assert all(t == texts[0] for t in texts), "the copies encode differently"
    gc.disable()
    best = {label: float("inf") for label in found}
    for _ in range(15):
        for label, f in found.items():
            started = time.process_time()
            for r in rows:
                f(r)
            best[label] = min(best[label], time.process_time() - started)
    gc.enable()
    return {label: t / len(rows) * 1e6 for label, t in best.items()}


CHILD = r'''
import os, sys, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
import workload_w
from connector_host_sdk import session as S, fivetran
fivetran.bind()
from fivetran_connector_sdk import Operations as op
mode, n = sys.argv[3], int(sys.argv[4])
rows = list(workload_w.rows(n)) if mode == "upsert" else None
s = S.Session(0, os.open(os.devnull, os.O_WRONLY))
s._accepting = s._initialized = True
S._set_current(s)
upsert = op.upsert
started = time.process_time()
for r in (rows if rows is not None else workload_w.rows(n)):
    upsert("items", r)
s.flush()
print((time.process_time() - started) / n * 1e6)
'''


def child(sdk, mode, n):
    out = subprocess.run([sys.executable, "-c", CHILD, sdk, WORKLOAD, mode, str(n)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return float(out)


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    sdks = [("A " + sys.argv[1], os.path.abspath(sys.argv[1])), ("B " + sys.argv[2], os.path.abspath(sys.argv[2]))]
    n = int(sys.argv[3]) if len(sys.argv) == 4 else 100_000
    import workload_w
    rows = list(workload_w.rows(20_000))
    print("load average %.2f" % os.getloadavg()[0])
    for label, us in encoders(sdks, rows).items():
        print("row encoder   %-40s %.3f us" % (label, us))
    for mode in ("upsert", "generate+upsert"):
        best = {label: float("inf") for label, _ in sdks}
        for _ in range(3):
            for label, sdk in sdks:
                best[label] = min(best[label], child(sdk, mode, n))
        for label, us in best.items():
            print("%-13s %-40s %.3f us" % ("op.upsert" if mode == "upsert" else "gen+upsert", label, us))
    return 0


if __name__ == "__main__":
    sys.exit(main())
