"""Fails `handshake`: the initialize result lacks connector.version and capabilities."""

from rawconnector import RawConnector


class BadHandshake(RawConnector):
    def on_initialize(self, params):
        return {"protocolVersion": 1, "connector": {"name": "bad-handshake"}}


if __name__ == "__main__":
    BadHandshake().run()
