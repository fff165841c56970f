"""Fails `select-tables`: declares selectTables but sends every table's operations anyway."""

from rawconnector import RawConnector


class IgnoresSelection(RawConnector):
    tables = RawConnector.tables + [{"table": "audit", "primaryKey": ["event"], "columns": {"event": "STRING"}}]

    def on_initialize(self, params):
        result = super().on_initialize(params)
        result["capabilities"]["selectTables"] = True
        return result

    def on_update(self, params):
        self.records([{"op": "upsert", "table": "audit", "data": {"event": "sync started"}}])
        return super().on_update(params)


if __name__ == "__main__":
    IgnoresSelection().run()
