"""Fails `eof-exit`: treats stdin EOF without a shutdown as a crash and exits with status 1."""

import sys

from rawconnector import RawConnector


class EOFStatus(RawConnector):
    shut_down = False

    def on_shutdown(self, params):
        self.shut_down = True
        return {}

    def on_eof(self):
        sys.exit(0 if self.shut_down else 1)


if __name__ == "__main__":
    EOFStatus().run()
