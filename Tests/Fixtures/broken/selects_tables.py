"""Conforms, with selectTables: sends the audit table's operations only when it is selected."""

from rawconnector import RawConnector


class SelectsTables(RawConnector):
    tables = RawConnector.tables + [{"table": "audit", "primaryKey": ["event"], "columns": {"event": "STRING"}}]

    def on_initialize(self, params):
        result = super().on_initialize(params)
        result["capabilities"]["selectTables"] = True
        return result

    def on_update(self, params):
        selected = [t["table"] for t in params.get("tables") or self.tables]
        if "audit" in selected:
            self.records([{"op": "upsert", "table": "audit", "data": {"event": "sync started"}}])
        return super().on_update(params)


if __name__ == "__main__":
    SelectsTables().run()
