"""Fails `warning`: sends a warning notification without a message (its text under another name)."""

from rawconnector import RawConnector


class BadWarning(RawConnector):
    def on_update(self, params):
        self.send({"method": "warning", "params": {"text": "page 3 returned no items"}})
        return super().on_update(params)


if __name__ == "__main__":
    BadWarning().run()
