"""Fails `resume`: the first run works, but it cannot read the state it checkpointed."""

from rawconnector import RawConnector


class ResumeFails(RawConnector):
    def on_update(self, params):
        if params.get("state"):
            raise KeyError("cursor")  # expects a key it never wrote
        return super().on_update(params)


if __name__ == "__main__":
    ResumeFails().run()
