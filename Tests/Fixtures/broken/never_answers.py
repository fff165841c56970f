"""Fails `unknown-request`: never answers a request it does not know (treats it like a notification)."""

from rawconnector import RawConnector


class NeverAnswers(RawConnector):
    def on_unknown_request(self, rid, method):
        pass


if __name__ == "__main__":
    NeverAnswers().run()
