"""Fails `update`: sends its records and answers update without ever checkpointing."""

from rawconnector import RawConnector


class NeverCheckpoints(RawConnector):
    def on_update(self, params):
        self.records([{"op": "upsert", "table": "items", "data": {"id": 1, "name": "one"}}])
        return {}


if __name__ == "__main__":
    NeverCheckpoints().run()
