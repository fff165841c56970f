#!/usr/bin/env python3
"""Table creation: the host against SQLite's own time to create the same tables.

usage: bench/table_creation.py [--declared N] [--undeclared M] [--host PATH] [--steps K]

Runs connector-host (release build by default) on a raw-protocol connector that declares N tables
in one schema, or sends upserts to M tables it never declared (one row each, 1,000 ops per records
line), and times the sync. Then replays the CREATE TABLE statements the host wrote (read back from
its warehouse) into a fresh SQLite file, in one transaction with the host's settings (WAL,
synchronous = FULL), through Python's sqlite3 module on the same libsqlite3: SQLite's own time for
the same tables. Each case runs at N/4, N/2 and N (K steps), so the growth shows; the last line is
machine-readable.

Both grow faster than linearly: SQLite itself spends time proportional to the number of tables on
every CREATE TABLE (it scans sqlite_master for the new entry and clears its foreign-key trigger
cache over every table), so the comparison that matters is the ratio to SQLite at each size.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONNECTOR = r'''
import json, sys
def send(message):
    message["jsonrpc"] = "2.0"
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()
configuration = {}
for line in sys.stdin:
    message = json.loads(line)
    method, rid = message.get("method"), message.get("id")
    if rid is None or method is None:
        continue
    if method == "initialize":
        configuration = message["params"]["configuration"]
        send({"id": rid, "result": {"protocolVersion": 1, "connector": {"name": "tables", "version": "1"}, "capabilities": {}}})
    elif method == "schema":
        tables = [{"table": "d%d" % i, "primaryKey": ["id"], "columns": {"id": "LONG", "v": "STRING"}}
                  for i in range(configuration["declared"])]
        send({"id": rid, "result": {"tables": tables}})
    elif method == "update":
        count = configuration["undeclared"]
        for first in range(0, count, 1000):
            ops = [{"op": "upsert", "table": "u%d" % i, "data": {"id": i, "v": "x"}} for i in range(first, min(count, first + 1000))]
            send({"method": "records", "params": {"ops": ops}})
        send({"id": "cp", "method": "checkpoint", "params": {"state": {"done": True}}})
        sys.stdin.readline()
        send({"id": rid, "result": {}})
    else:
        send({"id": rid, "result": {}})
'''


def host_run(host, declared, undeclared):
    """Seconds of one sync into a fresh warehouse, and the CREATE TABLE statements it made."""
    folder = tempfile.mkdtemp(prefix="table-creation-")
    try:
        with open(os.path.join(folder, "connector.py"), "w") as file:
            file.write(CONNECTOR)
        with open(os.path.join(folder, "connector.json"), "w") as file:
            json.dump({"name": "tables", "command": [sys.executable, "connector.py"]}, file)
        with open(os.path.join(folder, "configuration.json"), "w") as file:
            json.dump({"declared": declared, "undeclared": undeclared}, file)
        started = time.perf_counter()
        result = subprocess.run([host, "run", folder, "--quiet", "--idle-timeout", "3600", "--handshake-timeout", "3600"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit("connector-host failed (exit %d): %s" % (result.returncode, result.stderr.strip()[-2000:]))
        database = sqlite3.connect(os.path.join(folder, "files", "warehouse.db"))
        statements = [row[0] for row in database.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_connector\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid")]
        database.close()
        return seconds, statements
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sqlite_run(statements):
    """Seconds SQLite takes to create the same tables in one transaction, as the host does."""
    folder = tempfile.mkdtemp(prefix="table-creation-sqlite-")
    try:
        database = sqlite3.connect(os.path.join(folder, "tables.db"), isolation_level=None)
        database.execute("PRAGMA journal_mode = WAL")
        database.execute("PRAGMA synchronous = FULL")
        started = time.perf_counter()
        database.execute("BEGIN IMMEDIATE")
        for statement in statements:
            database.execute(statement)
        database.execute("COMMIT")
        seconds = time.perf_counter() - started
        database.close()
        return seconds
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--declared", type=int, default=20000)
    parser.add_argument("--undeclared", type=int, default=5000)
    parser.add_argument("--host", default=os.path.join(ROOT, ".build", "release", "connector-host"))
    parser.add_argument("--steps", type=int, default=3)
    arguments = parser.parse_args()
    if not os.path.exists(arguments.host):
        sys.exit("%s does not exist: swift build -c release --product connector-host (or pass --host)" % arguments.host)
    # The fixed cost of a sync (start-up, handshake, commit) without tables, subtracted from each run.
    baseline, _ = host_run(arguments.host, 0, 0)
    print("empty sync: %.2f s (subtracted below)" % baseline)
    print("%-11s %7s %10s %10s %6s" % ("case", "tables", "host s", "sqlite s", "ratio"))
    summary = []
    for kind, total in (("declared", arguments.declared), ("undeclared", arguments.undeclared)):
        if total <= 0:
            continue
        for step in range(arguments.steps, 0, -1):
            count = total // (2 ** (step - 1))
            seconds, statements = host_run(arguments.host, count if kind == "declared" else 0, count if kind == "undeclared" else 0)
            assert len(statements) == count, (kind, count, len(statements))
            own = sqlite_run(statements)
            host = max(seconds - baseline, 0.0)
            ratio = host / own if own > 0 else float("inf")
            print("%-11s %7d %10.2f %10.2f %6.2f" % (kind, count, host, own, ratio))
            summary.append("%s_%d=%.2f/%.2f" % (kind, count, host, own))
    print("table_creation: " + " ".join(summary))


if __name__ == "__main__":
    main()
