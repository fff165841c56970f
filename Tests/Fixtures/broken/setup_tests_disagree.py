"""Fails `setup-tests`: declares test and answers it with ok true although one of its setup tests failed."""

from rawconnector import RawConnector


class SetupTestsDisagree(RawConnector):
    def on_initialize(self, params):
        result = super().on_initialize(params)
        result["capabilities"]["test"] = True
        return result

    def on_request(self, rid, method, params):
        if method == "test" and self.initialized:
            return self.answer(rid, {"ok": True, "message": "2 setup tests", "tests": [
                {"label": "Connection", "ok": True, "message": "reached the API"},
                {"label": "API key", "ok": False, "message": "401 Unauthorized"}]})
        return super().on_request(rid, method, params)


if __name__ == "__main__":
    SetupTestsDisagree().run()
