"""Fails `response-ids` (wrong ids): answers with the id turned into a string (1 becomes "1")."""

from rawconnector import RawConnector


class StringIDs(RawConnector):
    def answer(self, rid, result):
        super().answer(str(rid), result)

    def error(self, rid, code, message):
        super().error(str(rid), code, message)


if __name__ == "__main__":
    StringIDs().run()
