#!/usr/bin/env python3
"""A small Airbyte source for the adapter's tests (standard library only).

Commands as Airbyte sources have them: spec, check --config, discover --config,
read --config --catalog [--state]. Its configuration drives what it sends:

  api_key      secret (airbyte_secret); "wrong" makes check fail; printed to stderr to test masking
  account_pin  secret (airbyte_secret) under a name the host would not guess; printed to stderr and in a LOG
  credentials  {"client_secret": ...}: a secret nested in a oneOf branch of the spec
  rows         rows of stream "accounts" per run (default 3), after the cursor in the state
  state_kind   "stream" (default), "global" or "legacy": the shape of the STATE messages
  fail_after   a TRACE error (failure_type from fail_type, default system_error) after this many rows
  fail_type    the failure_type of that error
  events       row ids of the full-refresh stream "events" for this run (default [1, 2])
  noise        print a line that is not JSON on stdout
  crash        exit with status 3 after the first row, without a TRACE message

It checks that the state it is given on resume has the form it expects for state_kind (a list of
STREAM messages, a list with one GLOBAL message, or the legacy object) and fails otherwise.
"""
import json
import sys

SPEC = {
    "documentationUrl": "https://example.com",
    "connectionSpecification": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "api_key": {"type": "string", "airbyte_secret": True},
            "account_pin": {"type": "string", "airbyte_secret": True},
            "rows": {"type": "integer"},
            "state_kind": {"type": "string"},
            "fail_after": {"type": "integer"},
            "fail_type": {"type": "string"},
            "events": {"type": "array"},
            "noise": {"type": "boolean"},
            "crash": {"type": "boolean"},
            "credentials": {"oneOf": [
                {"type": "object", "properties": {"client_secret": {"type": "string", "airbyte_secret": True}}},
                {"type": "object", "properties": {"username": {"type": "string"}}},
            ]},
        },
    },
}
ACCOUNTS = {
    "name": "accounts",
    "json_schema": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["null", "string"]},
        "balance": {"type": "number"},
        "visits": {"type": "number", "airbyte_type": "integer"},
        "active": {"type": "boolean"},
        "updated": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
        "local_time": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_without_timezone"},
        "birthday": {"type": ["null", "string"], "format": "date"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
        "phones": {"type": "array", "items": {"type": "string"}},
        "score": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    }},
    "supported_sync_modes": ["full_refresh", "incremental"],
    "source_defined_cursor": True,
    "default_cursor_field": ["updated"],
    "source_defined_primary_key": [["id"]],
}
EVENTS = {
    "name": "events",
    "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}}},
    "supported_sync_modes": ["full_refresh"],
    "source_defined_primary_key": [["id"]],
}


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def argument(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


def log(level, message):
    emit({"type": "LOG", "log": {"level": level, "message": message}})


def trace_error(message, failure_type="system_error"):
    emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 0, "error": {
        "message": message, "internal_message": "internal: " + message, "failure_type": failure_type,
        "stack_trace": "Traceback (most recent call last):\n  File \"source.py\", line 1\nError: " + message}}})


def cursor_from(state, kind):
    """The accounts cursor of a state given on resume; fails unless it has the form of `kind`."""
    if state is None:
        return 0
    if kind == "legacy":
        if not isinstance(state, dict) or "accounts" not in state:
            raise ValueError("legacy state must be an object keyed by stream, got %r" % (state,))
        return state["accounts"]["cursor"]
    if not isinstance(state, list):
        raise ValueError("state must be a list of state messages, got %r" % (state,))
    if kind == "global":
        [message] = state
        assert message["type"] == "GLOBAL", message
        streams = message["global"]["stream_states"]
        assert message["global"]["shared_state"] == {"lsn": "shared"}, message
        return [s for s in streams if s["stream_descriptor"]["name"] == "accounts"][0]["stream_state"]["cursor"]
    for message in state:
        assert message["type"] == "STREAM", message
        assert "sourceStats" not in message, message
    accounts = [m for m in state if m["stream"]["stream_descriptor"]["name"] == "accounts"]
    return accounts[0]["stream"]["stream_state"]["cursor"] if accounts else 0


def state_message(kind, cursor):
    if kind == "legacy":
        return {"type": "LEGACY", "data": {"accounts": {"cursor": cursor}}}
    if kind == "global":
        return {"type": "GLOBAL", "global": {"shared_state": {"lsn": "shared"}, "stream_states": [
            {"stream_descriptor": {"name": "accounts"}, "stream_state": {"cursor": cursor}}]}}
    return {"type": "STREAM", "stream": {"stream_descriptor": {"name": "accounts"}, "stream_state": {"cursor": cursor}},
            "sourceStats": {"recordCount": 1.0}}


def main():
    command = sys.argv[1]
    if command == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return 0
    config = json.load(open(argument("--config")))
    for key in config:
        if key not in SPEC["connectionSpecification"]["properties"]:
            trace_error("unknown configuration key %s" % key, "config_error")
            return 1
    if config.get("api_key"):
        sys.stderr.write("using api key %s\n" % config["api_key"])
    if config.get("account_pin"):
        sys.stderr.write("logging in with pin %s\n" % config["account_pin"])
        if command == "read":
            log("INFO", "pin %s accepted" % config["account_pin"])
    if command == "check":
        log("INFO", "checking the connection")
        if config.get("api_key") == "wrong":
            emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": "401 Unauthorized: the API key is not valid"}})
        else:
            emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
        return 0
    if command == "discover":
        emit({"type": "CATALOG", "catalog": {"streams": [ACCOUNTS, EVENTS]}})
        return 0
    assert command == "read", command
    configured = json.load(open(argument("--catalog")))
    modes = {s["stream"]["name"]: s for s in configured["streams"]}
    # As a real source does, only the streams of the configured catalog are read.
    if "accounts" in modes:
        assert modes["accounts"]["sync_mode"] == "incremental", modes["accounts"]
        assert modes["accounts"]["cursor_field"] == ["updated"], modes["accounts"]
        assert modes["accounts"]["destination_sync_mode"] == "append_dedup", modes["accounts"]
    if "events" in modes:
        assert modes["events"]["sync_mode"] == "full_refresh", modes["events"]
    kind = config.get("state_kind", "stream")
    state = json.load(open(argument("--state"))) if argument("--state") else None
    try:
        cursor = cursor_from(state, kind)
    except (ValueError, AssertionError, KeyError, IndexError) as error:
        trace_error("the state is not in the form this source reads: %s" % error)
        return 1
    log("INFO", "Starting syncing")
    if config.get("noise"):
        sys.stdout.write("DeprecationWarning: something old\n")
    emit({"type": "TRACE", "trace": {"type": "STREAM_STATUS", "emitted_at": 0, "stream_status": {
        "stream_descriptor": {"name": "accounts"}, "status": "STARTED"}}})
    rows = config.get("rows", 3) if "accounts" in modes else 0
    for offset in range(1, rows + 1):
        row_id = cursor + offset
        if config.get("fail_after") is not None and offset > config["fail_after"]:
            pin = " (pin %s)" % config["account_pin"] if config.get("account_pin") else ""
            trace_error("the API returned 500 for page %d%s" % (offset, pin), config.get("fail_type", "system_error"))
            return 1
        emit({"type": "RECORD", "record": {"stream": "accounts", "emitted_at": 1, "data": {
            "id": row_id, "name": "account %d" % row_id, "balance": row_id + 0.25, "visits": row_id * 10,
            "active": True, "updated": "2024-05-01T10:00:%02dZ" % (row_id % 60),
            "local_time": "2024-05-01T10:00:00", "birthday": None,
            "address": {"city": "Oslo"}, "phones": ["+47 1"], "score": row_id if row_id % 2 else "high"}}})
        if config.get("crash"):
            return 3
        emit({"type": "STATE", "state": state_message(kind, row_id)})
    log("WARN", "accounts done")
    for row_id in config.get("events", [1, 2]) if "events" in modes else []:
        emit({"type": "RECORD", "record": {"stream": "events", "emitted_at": 1, "data": {"id": row_id, "kind": "click"}}})
    log("INFO", "Finished syncing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
