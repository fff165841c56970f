"""The benchmark's Python connector: workload W through the Python SDK (Fivetran-style API).

Configuration (strings): rows (required), checkpointEvery (default 100000), reportFile (optional:
this process's peak RSS and CPU time are written there as JSON when update ends), workloadDir
(optional: where workload_w.py is, when this file runs from a copy). Rows come from
bench/workload/workload_w.py, the exact Python port of the reference generator, and go one
op.upsert per row, as a Fivetran connector would send them.
"""

import json
import os
import resource
import sys

_WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workload")
sys.path.insert(0, _WORKLOAD)


def _import_workload(configuration):
    # bench/run's Fivetran case runs a copy of this file elsewhere and says where the port is.
    if configuration.get("workloadDir"):
        sys.path.insert(0, configuration["workloadDir"])
    import workload_w
    return workload_w
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
    workload_w = _import_workload(configuration)
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


# No name/version arguments: the same file runs under the Fivetran SDK's `fivetran debug`, whose
# Connector takes only update and schema.
connector = Connector(update=update, schema=schema)
