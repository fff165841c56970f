"""Fails `error-reporting`: when its checkpoint is refused it exits with status 1 and never answers update."""

import sys

from rawconnector import RawConnector


class ExitsOnFailure(RawConnector):
    def checkpoint(self, state):
        try:
            super().checkpoint(state)
        except RuntimeError as failure:
            sys.stderr.write("fatal: %s\n" % failure)
            sys.exit(1)


if __name__ == "__main__":
    ExitsOnFailure().run()
