"""Fails `version-negotiation` (a bad version): echoes whatever protocolVersion the host asks for."""

from rawconnector import RawConnector


class EchoesVersion(RawConnector):
    def on_initialize(self, params):
        result = super().on_initialize(params)
        result["protocolVersion"] = params["protocolVersion"]
        return result


if __name__ == "__main__":
    EchoesVersion().run()
