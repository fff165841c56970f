"""Breaks no rule: passes every check."""

from rawconnector import RawConnector


class Good(RawConnector):
    name = "good"


if __name__ == "__main__":
    Good().run()
