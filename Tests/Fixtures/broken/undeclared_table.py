"""Fails `records`: writes to a table that its schema does not declare."""

from rawconnector import RawConnector


class UndeclaredTable(RawConnector):
    def on_update(self, params):
        self.records([{"op": "upsert", "table": "audit", "data": {"event": "sync started"}}])
        return super().on_update(params)


if __name__ == "__main__":
    UndeclaredTable().run()
