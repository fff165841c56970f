"""Fails `unknown-notification`: answers an unknown notification with an error response."""

from rawconnector import RawConnector


class AnswersNotifications(RawConnector):
    def on_notification(self, method, params):
        if method != "cancel":
            self.error(None, -32601, "method not found: " + method)


if __name__ == "__main__":
    AnswersNotifications().run()
