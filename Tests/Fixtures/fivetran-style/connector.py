# A connector written exactly the way the public Fivetran Connector SDK examples are written, used
# unchanged by connector-host's end-to-end test (FivetranCompatibilityTests). It pages through a
# small in-file "API" of products, checkpointing after every page, and exercises every operation
# (upsert, update, delete, truncate, checkpoint), every declared data type, and inferred types.
# This folder holds only this file and configuration.json: no manifest, nothing installed.

# Import required classes from fivetran_connector_sdk
from fivetran_connector_sdk import Connector

# For enabling Logs in your connector code
from fivetran_connector_sdk import Logging as log

# For supporting Data operations like Upsert(), Update(), Delete() and checkpoint()
from fivetran_connector_sdk import Operations as op

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

# The "source": three products, served two per page by fetch_page().
PRODUCTS = [
    {
        "id": 1, "name": "kettle", "price": Decimal("19.99"), "weight": 0.1, "rating": 4.7,
        "in_stock": True, "released": date(2024, 2, 29), "restocked_at": datetime(2024, 3, 1, 10, 30),
        "updated_at": datetime(2024, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        "thumbnail": b"\x00\x01\xff", "attributes": {"color": "red", "sizes": [1, 2]},
        "spec": "<spec watts=\"2200\"/>", "quantity": 7, "views": 2 ** 40,
    },
    {
        "id": 2, "name": "toaster", "price": Decimal("34.5"), "weight": 1.25, "rating": 3.9,
        "in_stock": False, "released": date(2023, 11, 5), "restocked_at": datetime(2024, 2, 1, 8, 0, 0, 250000),
        "updated_at": datetime(2024, 3, 2, 9, 15, tzinfo=timezone.utc),
        "thumbnail": b"", "attributes": [], "spec": None, "quantity": -3, "views": 0,
    },
    {
        "id": 3, "name": "mug", "price": 5, "weight": 0.3, "rating": None,
        "in_stock": True, "released": date(2024, 1, 1), "restocked_at": None,
        "updated_at": datetime(2024, 3, 3, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
        "thumbnail": None, "attributes": {"color": None}, "spec": "<spec/>", "quantity": 0, "views": 12,
    },
]


def fetch_page(cursor: int, page_size: int):
    """Returns the products after `cursor`, at most `page_size` of them."""
    return [p for p in PRODUCTS if p["id"] > cursor][:page_size]


# Define the schema function which lets you configure the schema your connector delivers.
def schema(configuration: dict):
    return [
        {
            "table": "products",
            "primary_key": ["id"],
            "columns": {
                "id": "INT",
                "name": "STRING",
                "price": {"type": "DECIMAL", "precision": 10, "scale": 2},
                "weight": "FLOAT",
                "rating": "DOUBLE",
                "in_stock": "BOOLEAN",
                "released": "NAIVE_DATE",
                "restocked_at": "NAIVE_DATETIME",
                "updated_at": "UTC_DATETIME",
                "thumbnail": "BINARY",
                "attributes": "JSON",
                "spec": "XML",
                "quantity": "SHORT",
                "views": "LONG",
            },
        },
        {
            "table": "sync_events",  # No primary key, no columns: every column is inferred.
        },
    ]


# Define the update function, which is a required function, and is called during each sync.
def update(configuration: dict, state: dict):
    log.warning("Example: Fivetran-style connector on connector-host")
    page_size = int(configuration["page_size"])
    cursor = state.get("cursor", 0)
    print(f"starting at cursor {cursor}")  # Fivetran-style connectors print freely.

    while True:
        page = fetch_page(cursor, page_size)
        if not page:
            break
        for product in page:
            # The yield form of older Fivetran examples still works; yielded values are ignored.
            yield op.upsert(table="products", data=product)
        cursor = page[-1]["id"]
        log.fine(f"page done, cursor {cursor}")
        # Save the progress by checkpointing the state after every page.
        op.checkpoint(state={"cursor": cursor})

    # Change one column of an existing row (the primary key must be included).
    op.update(table="products", modified={"id": 1, "price": Decimal("17.49")})
    # Delete a row by its primary key.
    op.delete(table="products", keys={"id": 2})

    # Replace the events: truncate, then write the current ones (types inferred from the values).
    op.truncate(table="sync_events")
    op.upsert(table="sync_events", data={
        "kind": "sync", "count": len(PRODUCTS), "ratio": 2 / 3, "ok": True,
        "details": {"pages": 2, "source": json.dumps({"api": "v1"})},
    })
    log.info("sync finished")
    op.checkpoint(state={"cursor": cursor, "finished": True})


# This creates the connector object that will use the update and schema functions defined in this connector.py file.
connector = Connector(update=update, schema=schema)

# Check if the script is being run as the main module.
if __name__ == "__main__":
    connector.debug()
