"""Fails `stdout`: a debugging print() lands on stdout in the middle of update."""

from rawconnector import RawConnector


class PrintsToStdout(RawConnector):
    def on_update(self, params):
        print("fetching items...", flush=True)
        return super().on_update(params)


if __name__ == "__main__":
    PrintsToStdout().run()
