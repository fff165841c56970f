"""Conforms, with a configuration form, setup tests (one of which fails, which is a result, not an error) and a warning."""

from rawconnector import RawConnector


class SetupGood(RawConnector):
    def on_initialize(self, params):
        result = super().on_initialize(params)
        result["capabilities"].update({"test": True, "configurationForm": True})
        return result

    def on_update(self, params):
        self.send({"method": "warning", "params": {"message": "page 3 returned no items"}})
        return super().on_update(params)

    def on_request(self, rid, method, params):
        if method == "configurationForm" and self.initialized:
            return self.answer(rid, {"fields": [
                {"name": "region", "label": "Region", "type": "dropdown", "options": [{"value": "eu", "label": "Europe"}]},
                {"name": "api_key", "label": "API key", "type": "password", "required": True}],
                "tests": ["Connection", "API key"]})
        if method == "test" and self.initialized:
            return self.answer(rid, {"ok": False, "message": "1 of 2 setup tests failed", "tests": [
                {"label": "Connection", "ok": True, "message": "reached the API"},
                {"label": "API key", "ok": False, "message": "401 Unauthorized"}]})
        return super().on_request(rid, method, params)


if __name__ == "__main__":
    SetupGood().run()
