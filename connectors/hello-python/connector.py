# hello-python: the smallest useful Fivetran-style connector for connector-host.
# Each run adds 3 rows to the table "greeting" and advances a cursor kept in
# the state, so running it repeatedly keeps adding rows with continuing ids.
#
#   connector-host run connectors/hello-python
#
# or, with connector-host on PATH (or CONNECTOR_HOST_BIN set):
#
#   PYTHONPATH=sdks/python python3 connectors/hello-python/connector.py

# For supporting Connector operations like update() and schema()
from fivetran_connector_sdk import Connector

# For enabling logs in your connector code
from fivetran_connector_sdk import Logging as log

# For supporting data operations like upsert(), update(), delete() and checkpoint()
from fivetran_connector_sdk import Operations as op

from datetime import datetime, timezone

ROWS_PER_RUN = 3


# The schema function declares the tables this connector delivers.
# Columns that are not declared here are inferred from the values.
def schema(configuration: dict):
    return [
        {
            "table": "greeting",
            "primary_key": ["id"],
            "columns": {
                "id": "LONG",
                "message": "STRING",
                "created_at": "UTC_DATETIME",
            },
        }
    ]


# The update function is called on every sync.
# - configuration: the values of configuration.json (all strings)
# - state: what the last checkpoint saved ({} on the first run)
def update(configuration: dict, state: dict):
    greeting = configuration.get("greeting", "hello")
    cursor = int(state.get("cursor", 0))
    log.info(f"hello-python: starting after id {cursor}")

    now = datetime.now(timezone.utc)
    for row_id in range(cursor + 1, cursor + ROWS_PER_RUN + 1):
        op.upsert(
            table="greeting",
            data={"id": row_id, "message": f"{greeting}, world #{row_id}", "created_at": now},
        )

    # Commit the rows together with the new cursor: the next run continues from here.
    op.checkpoint(state={"cursor": cursor + ROWS_PER_RUN})
    log.info(f"hello-python: wrote ids {cursor + 1}..{cursor + ROWS_PER_RUN}")


connector = Connector(update=update, schema=schema)

if __name__ == "__main__":
    # Runs `connector-host run <this directory>`.
    connector.debug()
