"""The benchmark's Python connector: workload W through the Python SDK (Fivetran-style API).

Configuration (strings): rows (required), checkpointEvery (default 100000), reportFile (optional:
this process's peak RSS and CPU time are written there as JSON when update ends). Rows come from
bench/workload/workload_w.py, the exact Python port of the reference generator, and go one
op.upsert per row, as a Fivetran connector would send them.
"""

import json
import os
import resource
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workload"))

import workload_w  # noqa: E402
from fivetran_connector_sdk import Connector  # noqa: E402
from fivetran_connector_sdk import Operations as op  # noqa: E402

COLUMNS = {
    "id": "LONG", "name": "STRING", "email": "STRING", "amount": "DOUBLE", "count": "LONG",
    "active": "BOOLEAN", "created_at": "UTC_DATETIME", "category": "STRING", "score": "DOUBLE",
    "note": "STRING",
}


def schema(configuration):
    return [{"table": "items", "primary_key": ["id"], "columns": COLUMNS}]


def update(configuration, state):
    rows = int(configuration["rows"])
    every = max(1, int(configuration.get("checkpointEvery", "100000")))
    upsert = op.upsert
    checkpoint = op.checkpoint
    for row in workload_w.rows(rows):
        upsert("items", row)
        i = row["id"]
        if i % every == 0 or i == rows:
            checkpoint({"row": i})
    report = configuration.get("reportFile")
    if report:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(report, "w") as f:
            json.dump({"maxRSSKiB": usage.ru_maxrss, "userSeconds": usage.ru_utime,
                       "systemSeconds": usage.ru_stime}, f)


connector = Connector(update=update, schema=schema, name="bench-python", version="1.0.0")
