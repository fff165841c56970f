"""Fails `update` and `error-reporting`: sends a checkpoint and goes on without waiting for the answer,
so it neither blocks until the data is durable nor notices a refused checkpoint."""

from rawconnector import RawConnector


class NoCheckpointWait(RawConnector):
    def checkpoint(self, state):
        self.send({"id": "cp", "method": "checkpoint", "params": {"state": state}})

    def on_update(self, params):
        result = super().on_update(params)
        self.records([{"op": "upsert", "table": "items", "data": {"id": 100, "name": "late"}}])
        return result


if __name__ == "__main__":
    NoCheckpointWait().run()
