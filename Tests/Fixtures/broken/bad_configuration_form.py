"""Fails `configuration-form`: declares configurationForm and answers with a field of an unknown type."""

from rawconnector import RawConnector


class BadConfigurationForm(RawConnector):
    def on_initialize(self, params):
        result = super().on_initialize(params)
        result["capabilities"]["configurationForm"] = True
        return result

    def on_request(self, rid, method, params):
        if method == "configurationForm" and self.initialized:
            return self.answer(rid, {"fields": [{"name": "region", "label": "Region", "type": "number"}], "tests": []})
        return super().on_request(rid, method, params)


if __name__ == "__main__":
    BadConfigurationForm().run()
