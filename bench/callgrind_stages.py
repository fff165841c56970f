#!/usr/bin/env python3
"""Where the host's instructions go, per stage of the record path, from a callgrind profile.

    bench/callgrind_stages.py [--rows N] [--variant w] [--mode upsert] [--out FILE]
        profiles `connector-host run` of the Swift bench connector (release build, N rows, default
        100,000) under `valgrind --tool=callgrind` (the connector runs natively; only the host is
        instrumented) and prints instructions per row for each stage
    bench/callgrind_stages.py --profile FILE [--rows N]
        reads an existing callgrind output instead

Instruction counts are repeatable on a noisy machine, unlike wall time; they do not show waiting
(I/O, pipes) or cache misses, which bench/run's wall and CPU figures do.

Stages (inclusive instruction counts of these functions; the call graph is read from the profile):
  read        LineReader.nextLine: read(2) from the pipe, newline search
  decode      RecordScanner.scan: the JSON scan of the records envelope, the operations and their
              fields (on the prefetch thread when reading ahead)
  validate    Warehouse.upsert/update/delete minus sqlite3_step: column lookup, type checks,
              conversions and sqlite3_bind_*
  sqlite      sqlite3_step called from those operations: SQLite executing the statement
  commit      Warehouse.checkpoint and finishSync: state row, COMMIT, WAL checkpointing
  other       everything else: start-up, handshake, process launch, the JSON report, applying the
              scanned operations outside the warehouse calls, handing lines between threads
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

STAGES = [
    ("read", r"LineReaderC04nextC0"),
    ("decode", r"RecordScannerO4scan"),
    ("validate", r"ConnectorHost9WarehouseC(6upsert|6update|6delete)(yy|___)"),
    ("sqlite", None),
    ("commit", r"ConnectorHost9WarehouseC(10checkpoint|10finishSync)"),
]


def parse(path):
    """Self cost per function and inclusive cost per call edge (caller, callee), in Ir."""
    names = {}
    self_cost = defaultdict(int)
    calls = defaultdict(int)
    function = None
    callee = None
    pending_call = False
    total = 0

    def name(spec):
        match = re.match(r"\((\d+)\)(?: (.*))?", spec)
        if not match:
            return spec
        if match.group(2) is not None:
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), spec)

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                function = name(line[3:])
            elif line.startswith("cfn="):
                callee = name(line[4:])
            elif line.startswith("calls="):
                pending_call = True
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                if len(parts) < 2:
                    continue
                cost = int(parts[1])
                if pending_call:
                    if callee != function:
                        calls[(function, callee)] += cost
                    pending_call = False
                else:
                    self_cost[function] += cost
    return self_cost, calls, total


def inclusive(self_cost, calls, pattern):
    """Inclusive cost of the functions matching pattern, not counting calls among them twice."""
    regex = re.compile(pattern)
    matching = {f for f in self_cost if regex.search(f)} | {c for (_, c) in calls if regex.search(c)}
    cost = sum(self_cost[f] for f in matching)
    cost += sum(v for (caller, callee), v in calls.items() if caller in matching and callee not in matching)
    return cost


def edge_cost(calls, caller_pattern, callee_pattern):
    caller_regex, callee_regex = re.compile(caller_pattern), re.compile(callee_pattern)
    return sum(v for (caller, callee), v in calls.items() if caller_regex.search(caller) and callee_regex.search(callee))


def stages(path):
    self_cost, calls, total = parse(path)
    read = inclusive(self_cost, calls, STAGES[0][1])
    scan = inclusive(self_cost, calls, STAGES[1][1])
    operations = inclusive(self_cost, calls, STAGES[2][1])
    sqlite = edge_cost(calls, STAGES[2][1], r"^sqlite3_step$")
    commit = inclusive(self_cost, calls, STAGES[4][1])
    result = {
        "read": read,
        "decode": scan,
        "validate": operations - sqlite,
        "sqlite": sqlite,
        "commit": commit,
    }
    result["other"] = total - sum(result.values())
    result["total"] = total
    return result


def profile(rows, variant, mode, out):
    """Runs the host under callgrind on a fresh warehouse (update/delete passes first get rows upserted)."""
    binary = os.path.join(ROOT, ".build", "release", "connector-host")
    directory = os.path.join(ROOT, "bench", "connectors", "swift")
    env = dict(os.environ, CONNECTOR_HOST_SWIFT_BIN_PATH=os.path.dirname(binary))
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "warehouse.db")

        def run(configuration, wrapper):
            path = os.path.join(tmp, "configuration.json")
            with open(path, "w") as f:
                json.dump(dict(configuration, rows=str(rows), variant=variant), f)
            subprocess.run(wrapper + [binary, "run", directory, "--no-build", "--quiet", "--json", "--configuration",
                                      path, "--warehouse", db, "--state", db + ".state.json"],
                           env=env, check=True, stdout=subprocess.DEVNULL)

        if mode != "upsert":
            run({"mode": "upsert"}, [])
        run({"mode": mode}, ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, "-q", "--log-file=" + out + ".log"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--variant", default="w")
    parser.add_argument("--mode", default="upsert")
    parser.add_argument("--profile", help="an existing callgrind output file")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "out", "callgrind.host.out"))
    args = parser.parse_args()
    path = args.profile
    if path is None:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        profile(args.rows, args.variant, args.mode, args.out)
        path = args.out
    result = stages(path)
    print("callgrind: %s (%s rows)" % (path, format(args.rows, ",")))
    print("| stage | Ir per row | share |")
    print("|---|---:|---:|")
    for stage in ("read", "decode", "validate", "sqlite", "commit", "other", "total"):
        print("| %s | %s | %.1f%% |" % (stage, format(round(result[stage] / args.rows), ","),
                                        100.0 * result[stage] / result["total"]))


if __name__ == "__main__":
    sys.exit(main())
