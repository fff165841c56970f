"""Fails `not-initialized`: answers requests that arrive before initialize."""

from rawconnector import RawConnector


class NoInitGuard(RawConnector):
    def on_request(self, rid, method, params):
        self.initialized = True  # forgets the guard: anything is answered at any time
        super().on_request(rid, method, params)


if __name__ == "__main__":
    NoInitGuard().run()
