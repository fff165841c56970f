#!/usr/bin/env python3
"""A small Singer tap for the adapter's tests (standard library only).

It speaks the Singer spec as taps do: `--about --format json`, `--config FILE --discover`,
`--config FILE [--catalog FILE] [--state FILE]`. What it sends is driven by its configuration:

  rows            how many rows of stream "items" to send (default 3), after the state's cursor
  state_every     a STATE message after every N rows (default 2) and at the end
  fail_after      exit with status 1 (a traceback on stderr) after sending this many rows
  garbage_at      print a line that is not JSON before this row
  version         full-table replication of stream "snapshot": ACTIVATE_VERSION with this version
  snapshot_rows   row ids of "snapshot" for this run (default [1, 2, 3])
  extra_stream    also send stream "extras", which discovery does not announce
  bad_state       send a STATE whose value is not an object
  api_token       secret (`--about` marks it so); printed to stderr to test masking
  shared_code     secret (`--about` marks it so) under a name the host would not guess
  discover_fails  make --discover fail with a message on stderr

Given `--no-discover` as its first argument it behaves like a tap without discovery mode
(argparse refuses --discover and --about) and sends SCHEMA messages at run time only.
"""
import json
import sys

ITEMS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "price": {"type": ["null", "number"]},
        "in_stock": {"type": ["null", "boolean"]},
        "updated_at": {"type": ["null", "string"], "format": "date-time"},
        "released": {"type": ["null", "string"], "format": "date"},
        "dimensions": {"type": ["null", "object"], "properties": {"w": {"type": "number"}}},
        "tags": {"type": ["null", "array"], "items": {"type": "string"}},
        "code": {"type": ["null", "integer", "string"]},
        "ratio": {"anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "null"}]},
        "anything": {},
    },
}
SNAPSHOT_SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}}


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def argument(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def catalog():
    streams = [
        {"tap_stream_id": "items", "stream": "items", "schema": ITEMS_SCHEMA, "key_properties": ["id"],
         "metadata": [{"breadcrumb": [], "metadata": {"table-key-properties": ["id"], "inclusion": "available"}},
                      {"breadcrumb": ["properties", "name"], "metadata": {"inclusion": "available"}}]},
        {"tap_stream_id": "snapshot", "stream": "snapshot", "schema": SNAPSHOT_SCHEMA, "key_properties": ["id"],
         "metadata": [{"breadcrumb": [], "metadata": {"table-key-properties": ["id"]}}]},
    ]
    return {"streams": streams}


def selected(catalog_document):
    """The streams the catalog selects (every stream when there is no catalog)."""
    if catalog_document is None:
        return {"items", "snapshot"}
    names = set()
    for stream in catalog_document["streams"]:
        top = [m for m in stream.get("metadata", []) if m.get("breadcrumb") == []]
        if top and top[0]["metadata"].get("selected") is True:
            names.add(stream["stream"])
    return names


def main():
    no_discover = len(sys.argv) > 1 and sys.argv[1] == "--no-discover"
    if no_discover and ("--discover" in sys.argv or "--about" in sys.argv):
        flag = "--discover" if "--discover" in sys.argv else "--about"
        sys.stderr.write("usage: singer_tap.py [-h] --config CONFIG [--state STATE]\n")
        sys.stderr.write("singer_tap.py: error: unrecognized arguments: %s\n" % flag)
        return 2
    if "--about" in sys.argv:
        emit({"name": "singer-fixture", "version": "1.2.3", "capabilities": ["catalog", "state", "discover", "about"],
              "settings": {"type": "object", "properties": {
                  "rows": {"type": "integer"},
                  "api_token": {"type": "string", "secret": True},
                  "shared_code": {"type": "string", "secret": True}}}})
        return 0
    config = json.load(open(argument("--config")))
    if "__secrets" in config:
        sys.stderr.write("the tap got the host's __secrets list\n")
        return 1
    if config.get("api_token"):
        sys.stderr.write("connecting with token %s\n" % config["api_token"])
    if config.get("shared_code"):
        sys.stderr.write("connecting with code %s\n" % config["shared_code"])
    if "--discover" in sys.argv:
        if config.get("discover_fails"):
            sys.stderr.write("CRITICAL could not list the streams: %s\n" % config["discover_fails"])
            return 1
        emit(catalog())
        return 0
    catalog_path = argument("--catalog") or argument("--properties")
    catalog_document = json.load(open(catalog_path)) if catalog_path else None
    streams = selected(catalog_document)
    if catalog_document is not None:
        for stream in catalog_document["streams"]:
            if stream["stream"] not in streams:
                continue
            for entry in stream.get("metadata", []):
                if entry.get("breadcrumb") == ["properties", "name"] and entry["metadata"].get("selected") is not True:
                    sys.stderr.write("field name of items is not selected\n")
                    return 1
    state = json.load(open(argument("--state"))) if argument("--state") else {}
    bookmarks = state.get("bookmarks", {})
    if "items" in streams:
        emit({"type": "SCHEMA", "stream": "items", "schema": ITEMS_SCHEMA, "key_properties": ["id"]})
        cursor = bookmarks.get("items", {}).get("cursor", 0)
        rows = config.get("rows", 3)
        every = config.get("state_every", 2)
        for offset in range(1, rows + 1):
            row_id = cursor + offset
            if config.get("garbage_at") == offset:
                sys.stdout.write("fetching page %d...\n" % offset)
                sys.stdout.flush()
            if config.get("fail_after") is not None and offset > config["fail_after"]:
                sys.stderr.write("Traceback (most recent call last):\n  File \"tap.py\", line 7, in sync\nConnectionError: the API hung up\n")
                return 1
            emit({"type": "RECORD", "stream": "items", "time_extracted": "2024-05-01T00:00:00Z", "record": {
                "id": row_id, "name": "item %d" % row_id, "price": row_id * 1.5, "in_stock": row_id % 2 == 0,
                "updated_at": "2024-05-01T12:00:%02d" % (row_id % 60) if row_id % 2 else "2024-05-01T12:00:00+0200",
                "released": "2024-05-%02d" % (1 + row_id % 28), "dimensions": {"w": row_id, "deep": {"x": [1, 2]}},
                "tags": ["a", "b"], "code": row_id if row_id % 2 else "C%d" % row_id, "ratio": row_id / 4,
                "anything": [row_id]}})
            if offset % every == 0 or offset == rows:
                bookmarks["items"] = {"cursor": row_id}
                emit({"type": "STATE", "value": {"bookmarks": bookmarks}})
    if config.get("bad_state"):
        emit({"type": "STATE", "value": [1, 2]})
    if "snapshot" in streams and config.get("version") is not None:
        version = config["version"]
        emit({"type": "SCHEMA", "stream": "snapshot", "schema": SNAPSHOT_SCHEMA, "key_properties": ["id"]})
        if bookmarks.get("snapshot", {}).get("version") != version:
            emit({"type": "ACTIVATE_VERSION", "stream": "snapshot", "version": version})
        bookmarks["snapshot"] = {"version": version}
        emit({"type": "STATE", "value": {"bookmarks": bookmarks}})
        for row_id in config.get("snapshot_rows", [1, 2, 3]):
            emit({"type": "RECORD", "stream": "snapshot", "version": version, "record": {"id": row_id, "label": "v%d" % version}})
        emit({"type": "ACTIVATE_VERSION", "stream": "snapshot", "version": version})
        emit({"type": "STATE", "value": {"bookmarks": bookmarks}})
    if config.get("extra_stream"):
        emit({"type": "SCHEMA", "stream": "extras", "schema": {"type": "object", "properties": {"k": {"type": "string"}}},
              "key_properties": ["k"]})
        emit({"type": "RECORD", "stream": "extras", "record": {"k": "one"}})
        emit({"type": "STATE", "value": {"bookmarks": bookmarks}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
