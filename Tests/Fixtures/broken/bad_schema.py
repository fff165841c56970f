"""Fails `schema`: declares DECIMAL without precision and scale (records cannot be checked then)."""

from rawconnector import RawConnector


class BadSchema(RawConnector):
    tables = [{"table": "items", "primaryKey": ["id"], "columns": {"id": "LONG", "name": "STRING", "price": "DECIMAL"}}]


if __name__ == "__main__":
    BadSchema().run()
