"""Fails `shutdown` (exits early): exits on shutdown before answering it."""

import sys

from rawconnector import RawConnector


class ExitsEarly(RawConnector):
    def on_shutdown(self, params):
        sys.exit(0)


if __name__ == "__main__":
    ExitsEarly().run()
