#!/usr/bin/env python3
"""Validate the protocol examples against the JSON Schemas in this directory.

Checks, in order:
  1. every *.schema.json is valid JSON and a valid draft 2020-12 schema;
  2. every line of ../examples/*.transcript.jsonl is {"dir": ..., "message": {...}},
     the message matches message.schema.json and the schema for its kind
     (<method>.request, <method>.notification, <method>.result or error.response),
     travels in the right direction, and every response answers a pending request
     sent the other way; ops name declared tables and carry their primary keys;
  3. every line of ../conformance/*.transcript.jsonl, the same way, where entries may also be
     {"dir", "pause"|"close"|"exit"|"signal"|"invalid"} and may carry "check" (see
     ../conformance/README.md), and methods unknown to the protocol are the suite's probes;
  4. every ```json block of ../PROTOCOL.md whose lines are all JSON-RPC messages
     is validated the same way (blocks with anything else are skipped);
  5. every connector.json of the repository's connectors/ and examples/ folders, and every
     ```json block of PROTOCOL.md section 4.3 that is one object, matches
     connector.manifest.schema.json.

Usage: python3 protocol/schemas/check_examples.py        (exit 0 = all good)
Needs the third-party package `jsonschema` (pip install jsonschema); without it the
script says so and exits 0 without checking anything.
"""
import glob
import json
import os
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover
    print("check_examples: the 'jsonschema' package is not installed; skipping "
          "(pip install jsonschema to run the checks).")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOCOL_DIR = os.path.dirname(HERE)
H2C, C2H = "host->connector", "connector->host"

# Who may send which method, and whether it is a request or a notification.
METHODS = {
    "initialize": (H2C, "request"),
    "schema": (H2C, "request"),
    "test": (H2C, "request"),
    "update": (H2C, "request"),
    "shutdown": (H2C, "request"),
    "cancel": (H2C, "notification"),
    "records": (C2H, "notification"),
    "checkpoint": (C2H, "request"),
    "log": (C2H, "notification"),
    "warning": (C2H, "notification"),
    "configurationForm": (H2C, "request"),
}

failures = []
checked = 0


def fail(where, text):
    failures.append("%s: %s" % (where, text))


def load_validators():
    validators = {}
    for path in sorted(glob.glob(os.path.join(HERE, "*.schema.json"))):
        name = os.path.basename(path)[: -len(".schema.json")]
        try:
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
            Draft202012Validator.check_schema(schema)
        except (ValueError, jsonschema.exceptions.SchemaError) as e:
            fail(os.path.basename(path), "invalid schema: %s" % str(e).splitlines()[0])
            continue
        validators[name] = Draft202012Validator(schema)
    return validators


def validate(validators, name, message, where):
    global checked
    v = validators.get(name)
    if v is None:
        fail(where, "no schema named %s.schema.json" % name)
        return
    errors = sorted(v.iter_errors(message), key=lambda e: list(e.absolute_path))
    checked += 1
    for e in errors[:3]:
        path = "/".join(str(p) for p in e.absolute_path) or "(root)"
        fail(where, "%s: at %s: %s" % (name, path, e.message))


def kind_of(message, pending_any):
    """Schema name for a message; pending_any(id) -> method of the request it answers or None."""
    if "method" in message:
        suffix = "request" if "id" in message else "notification"
        return "%s.%s" % (message["method"], suffix)
    if "error" in message:
        return "error.response"
    method = pending_any(message.get("id"))
    return "%s.result" % method if method else None


class Semantics:
    """Light cross-message checks for a transcript: declared tables and primary keys."""

    def __init__(self):
        self.tables = None  # (schema, name) -> primary key list, once a schema result was seen

    def schema_result(self, result, where):
        self.tables = {}
        for t in result.get("tables", []):
            name = t.get("table")
            if name is None:
                continue
            identity = (t.get("schema"), name)
            if (identity[0], name.lower()) in ((sch, n.lower()) for sch, n in self.tables):
                fail(where, "table %r declared twice (names compare case-insensitively)" % name)
            self.tables[identity] = list(t.get("primaryKey") or [])
            for col, ty in (t.get("columns") or {}).items():
                if isinstance(ty, dict) and ty.get("type") == "DECIMAL":
                    p, s = ty.get("precision"), ty.get("scale")
                    if isinstance(p, int) and isinstance(s, int) and s > p:
                        fail(where, "%s.%s: DECIMAL scale %d > precision %d" % (name, col, s, p))

    def records(self, params, where):
        if self.tables is None:
            fail(where, "records before any schema result")
            return
        for i, op in enumerate(params.get("ops", [])):
            table = op.get("table")
            if (op.get("schema"), table) not in self.tables:
                fail(where, "op %d: table %r is not declared" % (i, table))
                continue
            pk = self.tables[(op.get("schema"), table)]
            kind = op.get("op")
            row = op.get("keys") if kind == "delete" else op.get("data")
            if kind == "update" and not pk:
                fail(where, "op %d: update on table %r, which has no primary key" % (i, table))
            if kind in ("upsert", "update", "delete") and isinstance(row, dict):
                for col in pk:
                    if row.get(col) is None:
                        fail(where, "op %d: primary-key column %r missing or null" % (i, col))


CONFORMANCE_EVENTS = {"pause", "close", "exit", "signal", "invalid"}
CONFORMANCE_CHECKS = {
    "handshake", "not-initialized", "version-negotiation", "stdout", "response-ids", "unknown-request",
    "unknown-notification", "schema", "update", "records", "resume", "eof-exit", "shutdown", "error-reporting",
}


def check_transcript(validators, path, conformance=False):
    name = os.path.basename(path)
    pending = {H2C: {}, C2H: {}}  # sender -> {json id: method}
    sem = Semantics()
    initialized = False
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            where = "%s:%d" % (name, lineno)
            if not line.strip():
                fail(where, "blank line (transcripts are pure JSONL)")
                continue
            try:
                entry = json.loads(line)
            except ValueError as e:
                fail(where, "not JSON: %s" % e)
                continue
            if conformance and isinstance(entry, dict):
                if "check" in entry and entry["check"] not in CONFORMANCE_CHECKS:
                    fail(where, "unknown check %r" % entry["check"])
                entry = {k: v for k, v in entry.items() if k != "check"}
                if len(entry) == 2 and "dir" in entry and set(entry) - {"dir"} <= CONFORMANCE_EVENTS:
                    continue
            if not isinstance(entry, dict) or set(entry) != {"dir", "message"}:
                fail(where, "each line must be exactly {\"dir\": ..., \"message\": {...}}")
                continue
            d, msg = entry["dir"], entry["message"]
            if d not in (H2C, C2H):
                fail(where, "dir must be %r or %r" % (H2C, C2H))
                continue
            other = C2H if d == H2C else H2C
            validate(validators, "message", msg, where)
            if not isinstance(msg, dict):
                continue
            key = json.dumps(msg.get("id"))
            if "method" in msg:
                method = msg["method"]
                want = METHODS.get(method)
                if want:
                    if want[0] != d:
                        fail(where, "%s must travel %s" % (method, want[0]))
                    if (want[1] == "request") != ("id" in msg):
                        fail(where, "%s must be a %s" % (method, want[1]))
                if "id" in msg:
                    if key in pending[d]:
                        fail(where, "id %s reused while a request with it is pending" % key)
                    pending[d][key] = method
                kind = kind_of(msg, None)
                if method in METHODS:
                    validate(validators, kind, msg, where)
                if method == "records":
                    sem.records(msg.get("params", {}), where)
            else:
                method = pending[other].pop(key, None)
                if method is None:
                    fail(where, "response id %s answers no pending request sent %s" % (key, other))
                kind = kind_of(msg, lambda _id: method)
                if "error" in msg:
                    validate(validators, "error.response", msg, where)
                elif method in METHODS:
                    validate(validators, kind, msg, where)
                    if method == "schema":
                        sem.schema_result(msg.get("result", {}), where)
                    if method == "initialize":
                        initialized = True
    if not initialized:
        fail(name, "no successful initialize in transcript")


def check_protocol_md(validators):
    path = os.path.join(PROTOCOL_DIR, "PROTOCOL.md")
    if not os.path.exists(path):
        fail("PROTOCOL.md", "missing")
        return 0
    text = open(path, encoding="utf-8").read()
    blocks = 0
    for m in re.finditer(r"^```json\n(.*?)^```", text, re.S | re.M):
        start = text.count("\n", 0, m.start()) + 2
        lines = [(start + i, l) for i, l in enumerate(m.group(1).split("\n")) if l.strip()]
        msgs = []
        for lineno, l in lines:
            try:
                obj = json.loads(l)
            except ValueError:
                break
            if not (isinstance(obj, dict) and obj.get("jsonrpc") is not None):
                break
            msgs.append((lineno, obj))
        if not msgs or len(msgs) != len(lines):
            continue  # not a block of protocol messages (e.g. a value or a schema fragment)
        blocks += 1
        pending = {}
        for lineno, msg in msgs:
            where = "PROTOCOL.md:%d" % lineno
            validate(validators, "message", msg, where)
            key = json.dumps(msg.get("id"))
            if "method" in msg:
                if "id" in msg:
                    pending[key] = msg["method"]
                if msg["method"] in METHODS:
                    validate(validators, kind_of(msg, None), msg, where)
            elif "error" in msg:
                pending.pop(key, None)
                validate(validators, "error.response", msg, where)
            else:
                method = pending.pop(key, None)
                if method in METHODS:
                    validate(validators, "%s.result" % method, msg, where)
    return blocks


def check_manifests(validators):
    """Step 5: the manifests of the repository and of PROTOCOL.md section 4.3."""
    root = os.path.dirname(PROTOCOL_DIR)
    paths = sorted(glob.glob(os.path.join(root, "connectors", "*", "connector.json"))
                   + glob.glob(os.path.join(root, "examples", "*", "connector.json")))
    for path in paths:
        with open(path, encoding="utf-8") as f:
            validate(validators, "connector.manifest", json.load(f), os.path.relpath(path, root))
    with open(os.path.join(PROTOCOL_DIR, "PROTOCOL.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("### 4.3 ", 1)[1].split("\n## ", 1)[0] if "### 4.3 " in text else ""
    blocks = re.findall(r"```json\n(.*?)```", section, re.S)
    for number, block in enumerate(blocks, 1):
        validate(validators, "connector.manifest", json.loads(block), "PROTOCOL.md 4.3 manifest example %d" % number)
    return len(paths) + len(blocks)


def main():
    validators = load_validators()
    transcripts = sorted(glob.glob(os.path.join(PROTOCOL_DIR, "examples", "*.transcript.jsonl")))
    if not transcripts:
        fail("examples", "no *.transcript.jsonl found")
    for path in transcripts:
        check_transcript(validators, path)
    vectors = sorted(glob.glob(os.path.join(PROTOCOL_DIR, "conformance", "*.transcript.jsonl")))
    for path in vectors:
        check_transcript(validators, path, conformance=True)
    transcripts += vectors
    blocks = check_protocol_md(validators)
    manifests = check_manifests(validators)
    print("check_examples: %d schemas, %d transcripts, %d PROTOCOL.md blocks, %d manifests, %d messages validated"
          % (len(validators), len(transcripts), blocks, manifests, checked))
    if failures:
        for line in failures:
            print("FAIL " + line)
        print("check_examples: %d problem(s)" % len(failures))
        return 1
    print("check_examples: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
