#!/usr/bin/env python3
"""Checks that connector-host lands Fivetran connectors as `fivetran debug` (Fivetran Connector SDK 3.0.0) lands them.

    scripts/fivetran_parity.py --examples CHECKOUT --venv VENV --all-offline
    scripts/fivetran_parity.py --examples CHECKOUT --venv VENV examples/quickstart_examples/hello template_connector
    scripts/fivetran_parity.py --list

CHECKOUT is a checkout of github.com/fivetran/fivetran_connector_sdk (the public examples); VENV a virtual
environment with the real SDK and the mock API the examples call:

    python3 -m venv VENV && VENV/bin/pip install fivetran-connector-sdk==3.0.0 fivetran-api-playground

Each example folder is copied to a temporary directory three times. Two copies run under `fivetran debug` (the
reference, run twice so that values that change from run to run -- times, random ids, signatures -- are found and
compared by presence only); the third runs under `connector-host run --naming fivetran` (the binary given by --host,
default .build/debug/connector-host: build it first with `swift build`). Nothing of the example is changed, except
that the mock API's address is rewritten in its .py files when the mock could not get its usual port 5001, and a
configuration.json is written: the example's own one, with the placeholders the example's README says to fill (the
mock's credentials, an error-simulation mode, a throwaway GPG key), or `{}` when the example has none (`fivetran
debug` refuses to run without one). A requirements.txt package the venv lacks is installed into the venv first
(packages it has are never upgraded or downgraded, so the SDK's own duckdb stays); connector-host installs the
requirements into its own files/venv as it always does.

`fivetran debug` runs with DO_NOT_TRACK=1 and, first on PATH, a `pipreqs` that does nothing (the SDK runs pipreqs to
check requirements.txt, which needs the network). The mock API (fivetran-api-playground) is started on a free port
when an example needs it and stopped at the end; its data are generated when it starts, so all runs of one harness
invocation see the same data.

Both warehouses are then dumped to one normalised form and compared:
- tables by (schema, table), with Fivetran's layout: the default schema `tester`, `schema=X` as `tester_x`;
- columns and their types, mapped to the protocol's 14 types (XML is compared as STRING: DuckDB stores both as
  VARCHAR), and the primary key (`_fivetran_id` for a table without one);
- live rows and soft-deleted rows, as multisets (matched by primary key when the first differences are shown), with
  `_fivetran_synced` left out; values normalised: timestamps to UTC ISO 8601, decimals canonical, FLOAT rounded to
  32 bits, JSON compact, binary as hex;
- the final state.json, the files under files/storage (path and SHA-256), the outcome (exit status 0 or not) and the
  operation counts (upserts, updates, deletes, truncates, checkpoints; file uploads once the host reports them).
connector-host's own names are mapped to Fivetran's (`_connector_synced` -> `_fivetran_synced`, ...). If the host has
no `--naming` flag yet, the script says "host lacks --naming" and applies Fivetran's renaming (its own
implementation of the rules in /work/contracts/fivetran-behaviour.md) to the host's table and column names before
comparing, so that the rest of the comparison still means something.

Prints one line per example, SAME or DIFF (with the first differences), SKIP (a prerequisite is missing) or ERROR (the
harness could not run it), and a summary line. Exits 0 when every example is SAME, 1 otherwise, 2 on a usage error.

Options: --syncs N runs N syncs in a row in each copy before comparing (default 1); --keep DIR keeps the copies, logs
and dumps there; --json FILE writes every result as JSON; --max-diffs N (default 8) differences shown per example;
--timeout S (default 300) per run.

Standard library only, plus duckdb, which is imported inside the venv's Python (this script runs itself there to read
Fivetran's warehouse.db). No file of Fivetran's is copied or vendored here.
"""

import argparse
import contextlib
import decimal
import hashlib
import json
import math
import os
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_HOST = os.path.join(ROOT, ".build", "debug", "connector-host")
MOCK_PORT = 5001  # the address every example that calls the mock API has written in its code

# The example folders (relative to the checkout) that run without any network or service but the mock API, and why.
# "mock" names the configuration keys to fill with the mock's credentials; "config" fixed values to fill.
OFFLINE_EXAMPLES = {
    "template_connector": {
        "why": "offline: get_data() returns built-in rows; configuration placeholders are only checked for presence"},
    "examples/quickstart_examples/hello": {"why": "offline: one constant row, no configuration"},
    "examples/quickstart_examples/base_64_encoding_decoding": {"why": "offline: encodes and decodes built-in strings"},
    "examples/quickstart_examples/configuration": {
        "why": "offline: decrypts with the Fernet key its configuration.json carries (cryptography)"},
    "examples/quickstart_examples/multiple_code_files_with_sub_directory_structure": {
        "why": "offline: generated rows, a helper module in a sub-folder"},
    "examples/quickstart_examples/simple_three_step_cursor": {"why": "offline: a counter in the state"},
    "examples/common_patterns_for_connectors/complex_configuration_options": {
        "why": "offline: parses configuration and a config.py; placeholders are only type-checked"},
    "examples/common_patterns_for_connectors/cursors/time_window": {
        "why": "offline: generated rows over time windows from the state"},
    "examples/common_patterns_for_connectors/data_handling_patterns": {
        "why": "offline: a local mock_api.py with faker (requirements.txt)"},
    "examples/common_patterns_for_connectors/errors": {
        "why": "offline: simulated errors; README: error_simulation_type 0 is the normal run",
        "config": {"error_simulation_type": "0"}},
    "examples/common_patterns_for_connectors/gpg_private_keys": {
        "why": "offline: signs a message with a GPG key from the configuration (python_gnupg, the gpg binary); "
               "the harness generates a throwaway key",
        "gpg": True},
    "examples/common_patterns_for_connectors/hashes": {"why": "offline: hashes built-in rows"},
    "examples/common_patterns_for_connectors/key_based_replication": {
        "why": "offline: a local DuckDB database as the source (duckdb)"},
    "examples/common_patterns_for_connectors/priority_first_sync_for_high_volume_initial_syncs": {
        "why": "offline: a local mock_api.py with Faker (requirements.txt); the URL in it is never called"},
    "examples/common_patterns_for_connectors/schema_change": {"why": "offline: built-in rows whose types change"},
    "examples/common_patterns_for_connectors/specified_types": {"why": "offline: one row of every declared type"},
    "examples/common_patterns_for_connectors/three_operations": {"why": "offline: upsert, update, delete of uuid rows"},
    "examples/common_patterns_for_connectors/tracking_tables": {
        "why": "offline: generated rows, initialSyncStart given in its configuration.json"},
    "examples/common_patterns_for_connectors/truncate_operation": {"why": "offline: built-in rows, then truncate"},
    "examples/common_patterns_for_connectors/unspecified_types": {"why": "offline: one row of every inferred type"},
    "examples/common_patterns_for_connectors/authentication/api_key": {
        "why": "mock API /auth/api_key; README: the API key the mock prints", "mock": {"api_key": "API_KEY"}},
    "examples/common_patterns_for_connectors/authentication/http_basic": {
        "why": "mock API /auth/http_basic; README: the user name and password the mock prints",
        "mock": {"username": "HTTP_BASIC_USERNAME", "password": "HTTP_BASIC_PASSWORD"}},
    "examples/common_patterns_for_connectors/authentication/http_bearer": {
        "why": "mock API /auth/http_bearer; README: the bearer token the mock prints",
        "mock": {"bearer_token": "HTTP_BEARER_TOKEN"}},
    "examples/common_patterns_for_connectors/authentication/session_token": {
        "why": "mock API /auth/session_token; README: the user name and password the mock prints",
        "mock": {"username": "SESSION_AUTH_USERNAME", "password": "SESSION_AUTH_PASSWORD"}},
    "examples/common_patterns_for_connectors/complex_error_handling_multithreading": {
        "why": "mock API /pagination/next_page_url, fetched by threads"},
    "examples/common_patterns_for_connectors/cursors/multiple_tables_with_cursors": {
        "why": "mock API /cursors (companies and their departments)"},
    "examples/common_patterns_for_connectors/export/csv": {"why": "mock API /export/csv"},
    "examples/common_patterns_for_connectors/incremental_sync_strategies/keyset_pagination": {
        "why": "mock API /pagination/keyset"},
    "examples/common_patterns_for_connectors/incremental_sync_strategies/offset_pagination": {
        "why": "mock API /pagination/offset"},
    "examples/common_patterns_for_connectors/incremental_sync_strategies/replay_sync": {
        "why": "mock API /incremental/timestamp"},
    "examples/common_patterns_for_connectors/incremental_sync_strategies/step_size_sync": {
        "why": "mock API /incremental/step"},
    "examples/common_patterns_for_connectors/incremental_sync_strategies/timestamp_sync": {
        "why": "mock API /incremental/timestamp",
        "endless": "never ends, under fivetran debug as anywhere: the mock's `since` is inclusive, so the last record "
                   "comes back on every page and the loop never sees an empty one"},
    "examples/common_patterns_for_connectors/pagination/keyset": {"why": "mock API /pagination/keyset"},
    "examples/common_patterns_for_connectors/pagination/next_page_url": {"why": "mock API /pagination/next_page_url"},
    "examples/common_patterns_for_connectors/pagination/offset_based": {"why": "mock API /pagination/offset"},
    "examples/common_patterns_for_connectors/pagination/page_number": {"why": "mock API /pagination/page_number"},
    "examples/common_patterns_for_connectors/pagination/scroll_token": {"why": "mock API /pagination/keyset"},
}

# The protocol's 14 types as Fivetran's DuckDB warehouse stores them (XML and STRING are both VARCHAR).
DUCKDB_TYPES = {
    "BOOLEAN": "BOOLEAN", "SMALLINT": "SHORT", "INTEGER": "INT", "BIGINT": "LONG", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE",
    "DATE": "NAIVE_DATE", "TIMESTAMP": "NAIVE_DATETIME", "TIMESTAMP WITH TIME ZONE": "UTC_DATETIME", "BLOB": "BINARY",
    "VARCHAR": "STRING", "JSON": "JSON",
}
SYNCED, DELETED, ROW_ID, FILE_PATH = "_fivetran_synced", "_fivetran_deleted", "_fivetran_id", "_fivetran_file_path"
HOST_SYSTEM_COLUMNS = {"_connector_synced": SYNCED, "_connector_deleted": DELETED, "_connector_id": ROW_ID,
                       "_connector_file_path": FILE_PATH}
SYSTEM_TYPES = {SYNCED: "UTC_DATETIME", DELETED: "BOOLEAN", ROW_ID: "STRING", FILE_PATH: "STRING"}
DEFAULT_SCHEMA = "tester"
COUNT_NAMES = {"Upserts": "upserts", "Updates": "updates", "Deletes": "deletes", "Truncates": "truncates",
               "Checkpoints": "checkpoints", "File uploads": "fileUploads"}
VOLATILE = "<varies>"  # what a value that changes between two `fivetran debug` runs is compared as


class HarnessError(Exception):
    """The harness could not run an example (a missing prerequisite, a tool that would not start)."""


class Skip(HarnessError):
    """A prerequisite of one example is missing on this machine."""


# --- Fivetran's naming, as measured (see fivetran-behaviour.md, "Naming") ---------------------------------------------

def fivetran_column_name(name):
    """A column name under `--naming fivetran`: accents dropped, every character other than an ASCII letter, digit or
    underscore made an underscore, an underscore put where a lower-case letter meets a capital and where digits start or
    stop (also before a leading digit), lower case, runs of underscores made one."""
    decomposed = unicodedata.normalize("NFD", name)
    folded = unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))
    word = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in folded)
    out, after_lower, after_digit = [], False, False
    for c in word:
        if (after_lower and c.isupper()) or (after_digit != c.isdigit()):
            out.append("_")
        out.append(c.lower())
        after_lower, after_digit = c.islower(), c.isdigit()
    return re.sub("_+", "_", "".join(out))


def fivetran_table_name(name):
    """A table name: as a column's, then leading underscores dropped when a letter follows them."""
    column = fivetran_column_name(name)
    match = re.fullmatch(r"_+([A-Za-z][A-Za-z0-9_]*)", column)
    return match.group(1) if match else column


def fivetran_schema_name(declared):
    """The destination schema of `schema=declared`: `tester_<declared>`, lower case, non-word characters made underscores
    (a schema is not split into words and keeps its runs of underscores)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{DEFAULT_SCHEMA}_{declared}").lower()


# --- reading Fivetran's warehouse.db (runs inside the venv, which has duckdb) --------------------------------------------

def dump_duckdb(path):
    """Every table of a `fivetran debug` warehouse as JSON-ready values; timestamps, dates, decimals and JSON as text,
    binary as hex, FLOAT and DOUBLE as doubles."""
    import duckdb  # the venv's: the SDK's core depends on it

    con = duckdb.connect(path, read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    metadata = {}
    tables = []
    for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2").fetchall():
        if schema == "main" and table == "_fivetran_metadata":
            metadata = dict(con.execute('SELECT key, value FROM main."_fivetran_metadata"').fetchall())
            continue
        columns = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position", [schema, table]).fetchall()
        key = con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() WHERE schema_name = ? AND table_name = ? "
            "AND constraint_type = 'PRIMARY KEY'", [schema, table]).fetchone()
        selects = []
        for name, kind in columns:
            quoted = '"' + name.replace('"', '""') + '"'
            if kind == "BLOB":
                selects.append(f"hex({quoted})")
            elif kind in ("FLOAT", "DOUBLE"):
                selects.append(f"CAST({quoted} AS DOUBLE)")
            elif kind in ("BOOLEAN", "SMALLINT", "INTEGER", "BIGINT"):
                selects.append(quoted)
            else:
                selects.append(f"CAST({quoted} AS VARCHAR)")
        rows = con.execute(f'SELECT {", ".join(selects)} FROM "{schema}"."{table}"').fetchall() if selects else []
        tables.append({"schema": schema, "table": table, "columns": columns, "key": list(key[0]) if key else [],
                       "rows": [list(r) for r in rows]})
    return {"metadata": metadata, "tables": tables}


# --- normalised values ---------------------------------------------------------------------------------------------

_MOMENT = re.compile(r"(\d{4,})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?")


def _moment(text, utc):
    """`YYYY-MM-DDTHH:MM:SS[.ffffff]` (and `Z` when `utc`), in UTC, without trailing zeros in the fraction."""
    import datetime

    match = _MOMENT.fullmatch(text.strip())
    if not match:
        return text
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    value = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micros)
    if offset and offset not in ("Z", "z"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        value -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    out = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        out += ("." + f"{value.microsecond:06d}").rstrip("0")
    return out + ("Z" if utc else "")


def _single(value):
    """A float as the shortest text that reads back as the same 32-bit float."""
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 18):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return repr(float(text))
    return repr(single)


def normalise_value(value, kind):
    """The comparable form of one stored value of a column of `kind` (one of the 14 types)."""
    if value is None:
        return None
    if kind == "BOOLEAN":
        return bool(int(value)) if not isinstance(value, str) else value.lower() in ("true", "1", "t")
    if kind in ("SHORT", "INT", "LONG"):
        return int(value)
    if kind in ("FLOAT", "DOUBLE"):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return repr(number)
        if kind == "FLOAT":
            try:
                return _single(number)
            except OverflowError:
                return repr(math.copysign(math.inf, number))
        return repr(number)
    if kind.startswith("DECIMAL"):
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return str(value)
        return format(number.normalize(), "f") if number else "0"
    if kind == "NAIVE_DATE":
        return str(value)[:10]
    if kind in ("NAIVE_DATETIME", "UTC_DATETIME"):
        return _moment(str(value), kind == "UTC_DATETIME")
    if kind == "BINARY":
        return value.hex() if isinstance(value, (bytes, bytearray, memoryview)) else str(value).lower()
    if kind == "JSON":
        try:
            return json.dumps(json.loads(value), separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


# --- the normalised warehouse --------------------------------------------------------------------------------------

def _table(columns, key, rows):
    """`columns` {name: type}, `key` [names], `rows` [{name: normalised value}] with DELETED as a bool and no SYNCED."""
    return {"columns": columns, "key": key, "rows": rows}


def fivetran_warehouse(dump):
    """The normalised form of a `dump_duckdb` result, keyed by (schema, table)."""
    out = {}
    for t in dump["tables"]:
        columns = {}
        for name, kind in t["columns"]:
            decimal_match = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", kind)
            columns[name] = f"DECIMAL({decimal_match[1]},{decimal_match[2]})" if decimal_match else DUCKDB_TYPES.get(kind, kind)
        names = [n for n, _ in t["columns"]]
        rows = []
        for raw in t["rows"]:
            row = {n: normalise_value(v, columns[n]) for n, v in zip(names, raw)}
            row.pop(SYNCED, None)
            row[DELETED] = bool(row.get(DELETED))
            rows.append(row)
        columns.pop(SYNCED, None)
        columns.pop(DELETED, None)
        out[(t["schema"], t["table"])] = _table(columns, t["key"], rows)
    return out


def _host_schema_name(schema):
    """Fivetran's name for a host table's schema: the host records NULL for the default schema and the (mapped) declared
    schema otherwise, which Fivetran puts after its default one (PROTOCOL.md 6.10)."""
    return DEFAULT_SCHEMA if schema in (None, "") else fivetran_schema_name(schema)


def host_warehouse(path, renaming):
    """The normalised form of connector-host's SQLite warehouse. `renaming` applies Fivetran's names to a host that does
    not (no --naming yet). The host keeps each table's schema in `_connector_tables.schema` (NULL for the default one)
    and stores a table of schema S as the SQLite table `S.table` (PROTOCOL.md 6.10); a warehouse without that column
    has every table in the default schema."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    physical = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    table_rows = [dict(r) for r in con.execute('SELECT * FROM "_connector_tables"')]
    column_rows = [dict(r) for r in con.execute('SELECT * FROM "_connector_columns" ORDER BY "position"')]
    out = {}
    for meta in table_rows:
        name = meta.get("name") or meta.get("table_name")
        schema = meta.get("schema") or None
        candidates = [name, f"{schema}.{name}" if schema else None]
        sqlite_name = next((c for c in candidates if c and c in physical), None)
        if sqlite_name is None:
            raise HarnessError(f"host warehouse {path}: no SQLite table for {schema or ''}.{name} "
                               f"(looked for {[c for c in candidates if c]}); update host_warehouse() to the host's layout")
        declared = {}
        for c in column_rows:
            if c.get("table_name") != name or (schema and c.get("schema", schema) != schema):
                continue
            kind = c.get("type") or "STRING"
            if kind == "DECIMAL":
                kind = f"DECIMAL({c.get('precision')},{c.get('scale')})"
            declared[c["column_name"]] = "STRING" if kind == "XML" else kind
        quoted = '"' + sqlite_name.replace('"', '""') + '"'
        sqlite_columns = [r[1] for r in con.execute(f"PRAGMA table_info({quoted})")]
        rename_column = fivetran_column_name if renaming else (lambda n: n)
        columns, names = {}, {}
        for column in sqlite_columns:
            system = HOST_SYSTEM_COLUMNS.get(column, column if column in SYSTEM_TYPES else None)
            if system:
                names[column], kind = system, SYSTEM_TYPES[system]
            else:
                names[column], kind = rename_column(column), declared.get(column, "STRING")
            columns[names[column]] = kind
        key = json.loads(meta.get("primary_key") or "[]")
        key = [rename_column(k) for k in key] if key else [ROW_ID]
        rows = []
        for raw in con.execute(f"SELECT * FROM {quoted}"):
            row = {names[c]: normalise_value(raw[c], columns[names[c]]) for c in sqlite_columns}
            row.pop(SYNCED, None)
            row[DELETED] = bool(row.get(DELETED))
            rows.append(row)
        columns.pop(SYNCED, None)
        columns.pop(DELETED, None)
        logical = name[len(schema) + 1:] if schema and name.startswith(schema + ".") else name
        table = fivetran_table_name(logical) if renaming else logical
        out[(_host_schema_name(schema), table)] = _table(columns, key, rows)
    con.close()
    return out


def stored_files(project):
    """files/storage, as {relative path: SHA-256}."""
    root = os.path.join(project, "files", "storage")
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return found


def read_state(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except ValueError as e:
        return f"<not JSON: {e}>"


# --- running the two sides -----------------------------------------------------------------------------------------

class Tools:
    """The venv, the host, and the pieces the runs share (the pipreqs stand-in, the mock API, a GPG key)."""

    def __init__(self, venv, host, scratch, timeout):
        self.venv = os.path.abspath(venv)
        self.python = os.path.join(self.venv, "bin", "python")
        self.fivetran = os.path.join(self.venv, "bin", "fivetran")
        for tool in (self.python, self.fivetran):
            if not os.access(tool, os.X_OK):
                raise HarnessError(f"{tool} not found: --venv must be a virtual environment with "
                                   "`pip install fivetran-connector-sdk==3.0.0 fivetran-api-playground`")
        self.host = os.path.abspath(host)
        if not os.access(self.host, os.X_OK):
            raise HarnessError(f"{self.host} not found: build it with `swift build` or give --host PATH")
        self.scratch = scratch
        self.timeout = timeout
        self.shim = os.path.join(scratch, "shim")
        os.makedirs(self.shim, exist_ok=True)
        with open(os.path.join(self.shim, "pipreqs"), "w") as f:
            f.write("#!/bin/sh\n# stands in for pipreqs, which fivetran debug runs and which needs the network\nexit 0\n")
        os.chmod(os.path.join(self.shim, "pipreqs"), 0o755)
        self.host_has_naming = "--naming" in self._output([self.host, "help", "run"])
        self.sdk_version = self._output([self.python, "-c", "import importlib.metadata as m; print(m.version('fivetran-connector-sdk'))"]).strip()
        self.mock = None
        self.mock_port = None
        self.mock_credentials = None
        self.gpg_key = None

    @staticmethod
    def _output(command):
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
        except (OSError, subprocess.TimeoutExpired) as e:
            raise HarnessError(f"cannot run {command[0]}: {e}")

    def fivetran_env(self):
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([self.shim, os.path.join(self.venv, "bin"), env.get("PATH", "")])
        env["DO_NOT_TRACK"] = "1"
        env["VIRTUAL_ENV"] = self.venv
        env.pop("PYTHONPATH", None)
        return env

    # The mock API ---------------------------------------------------------------------------------------------------

    def start_mock(self):
        """Starts fivetran-api-playground (without Flask's reloader, which would generate other credentials in a child)
        on port 5001 if free, else on a free port; returns its port and credentials."""
        if self.mock is not None:
            return
        port = MOCK_PORT if _port_free(MOCK_PORT) else _free_port()
        launcher = (
            "import json, sys, fivetran_api_playground as p\n"
            "names = ['API_KEY', 'HTTP_BASIC_USERNAME', 'HTTP_BASIC_PASSWORD', 'HTTP_BEARER_TOKEN',"
            " 'SESSION_AUTH_USERNAME', 'SESSION_AUTH_PASSWORD']\n"
            "print(json.dumps({n: getattr(p, n) for n in names}), flush=True)\n"
            "p.app.run(host='127.0.0.1', port=int(sys.argv[1]), debug=False, use_reloader=False)\n")
        log = open(os.path.join(self.scratch, "mock-api.log"), "w")
        self.mock = subprocess.Popen([self.python, "-c", launcher, str(port)], stdout=subprocess.PIPE, stderr=log,
                                     text=True, env=self.fivetran_env())
        line = self.mock.stdout.readline()
        try:
            self.mock_credentials = json.loads(line)
        except ValueError:
            self.stop_mock()
            raise HarnessError(f"the mock API did not start (is fivetran-api-playground installed in the venv?); "
                               f"see {log.name}")
        deadline = time.monotonic() + 30
        while _port_free(port):
            if self.mock.poll() is not None or time.monotonic() > deadline:
                self.stop_mock()
                raise HarnessError(f"the mock API did not listen on port {port}; see {log.name}")
            time.sleep(0.1)
        self.mock_port = port
        print(f"mock API (fivetran-api-playground) on 127.0.0.1:{port}", flush=True)

    def stop_mock(self):
        if self.mock is not None:
            self.mock.terminate()
            try:
                self.mock.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.mock.kill()
                self.mock.wait()
            self.mock = None

    # A throwaway GPG key ----------------------------------------------------------------------------------------------

    def make_gpg_key(self):
        if self.gpg_key:
            return self.gpg_key
        if not shutil.which("gpg"):
            raise Skip("needs the gpg binary (apt-get install gnupg)")
        home = tempfile.mkdtemp(prefix="gpg-", dir=self.scratch)
        passphrase = "parity-" + hashlib.sha1(home.encode()).hexdigest()[:8]
        common = ["gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase]
        made = subprocess.run(common + ["--quick-gen-key", "Parity Harness <parity@example.invalid>", "default", "default",
                                        "never"], capture_output=True, text=True)
        exported = subprocess.run(common + ["--armor", "--export-secret-keys"], capture_output=True, text=True)
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True)
        if made.returncode or not exported.stdout.strip():
            raise Skip(f"could not make a GPG key: {made.stderr.strip()[:200]}")
        self.gpg_key = {"private_key": exported.stdout, "passphrase": passphrase}
        return self.gpg_key

    # Requirements ----------------------------------------------------------------------------------------------------

    def ensure_requirements(self, example_dir):
        """Installs into the venv the requirements.txt packages it does not have at all."""
        path = os.path.join(example_dir, "requirements.txt")
        if not os.path.exists(path):
            return
        wanted = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line or line.startswith("-"):
                    continue
                name = re.split(r"[<>=!~\[; ]", line, 1)[0]
                wanted[name] = line
        if not wanted:
            return
        probe = ("import importlib.metadata as m, sys\n"
                 "for n in sys.argv[1:]:\n"
                 "    try: m.version(n)\n"
                 "    except m.PackageNotFoundError: print(n)\n")
        missing = self._output([self.python, "-c", probe, *wanted]).split()
        if not missing:
            return
        print(f"  installing into the venv: {' '.join(wanted[n] for n in missing)}", flush=True)
        done = subprocess.run([self.python, "-m", "pip", "install", "-q", *(wanted[n] for n in missing)],
                              capture_output=True, text=True)
        if done.returncode:
            raise HarnessError(f"pip install {' '.join(wanted[n] for n in missing)} failed: "
                               f"{done.stderr.strip().splitlines()[-1:]}")


def _port_free(port):
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _free_port():
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_copy(source, target, configuration, mock_port):
    """Copies an example (without a `files/` folder a previous run left) and writes its configuration.json."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("files", "__pycache__", ".venv", "venv"))
    with open(os.path.join(target, "configuration.json"), "w", encoding="utf-8") as f:
        json.dump(configuration, f, indent=2)
    if mock_port and mock_port != MOCK_PORT:
        for folder, _, names in os.walk(target):
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    with open(path, encoding="utf-8") as f:
                        text = f.read()
                    moved = re.sub(r"(127\.0\.0\.1|localhost):5001\b", rf"\g<1>:{mock_port}", text)
                    if moved != text:
                        with open(path, "w", encoding="utf-8") as f:
                            f.write(moved)


def configuration_for(example_dir, spec, tools):
    """The example's configuration.json with its placeholders filled, or {}."""
    path = os.path.join(example_dir, "configuration.json")
    configuration = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            configuration = json.load(f)
    configuration.update(spec.get("config", {}))
    for key, credential in spec.get("mock", {}).items():
        configuration[key] = tools.mock_credentials[credential]
    if spec.get("gpg"):
        configuration.update(tools.make_gpg_key())
    return configuration


def run_logged(command, cwd, env, log_path, timeout, stdout=None):
    """Runs a command in its own process group, stderr (and stdout, unless `stdout` is a file) to `log_path`; on timeout
    the whole group is killed. Returns (exit status or "timeout", the log's text)."""
    with open(log_path, "w") as log:
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout or log, stderr=log if stdout else subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            status = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, 9)
            child.wait()
            status = "timeout"
        except BaseException:  # Ctrl-C: the child is in its own session, so it did not get the signal
            os.killpg(child.pid, 9)
            child.wait()
            raise
    with open(log_path, encoding="utf-8", errors="replace") as f:
        return status, f.read()


def fivetran_counts(output):
    """The counts table `fivetran debug` prints last."""
    counts = {}
    for label, count in re.findall(r"^\s*(Upserts|Updates|Deletes|Truncates|Checkpoints|File uploads)\s*\|\s*(\d+)",
                                   output, re.M):
        counts[COUNT_NAMES[label]] = int(count)
    return counts


def first_error(output):
    """The first line of the error a failed run printed."""
    match = re.search(r"Error: (.+)", output) or re.search(r"^error: (.+)", output, re.M)
    return match.group(1).strip()[:300] if match else None


def run_fivetran(tools, project, syncs, log_dir, label, gnupg):
    env = tools.fivetran_env()
    if gnupg:
        env["GNUPGHOME"] = tempfile.mkdtemp(prefix="gnupg-", dir=tools.scratch)
    counts, status, output = {}, None, ""
    for n in range(syncs):
        status, output = run_logged([tools.fivetran, "debug"], project, env,
                                    os.path.join(log_dir, f"{label}-sync{n + 1}.log"), tools.timeout)
        for k, v in fivetran_counts(output).items():
            counts[k] = counts.get(k, 0) + v
        if status != 0:
            break
    if gnupg:
        subprocess.run(["gpgconf", "--homedir", env["GNUPGHOME"], "--kill", "gpg-agent"], capture_output=True)
    db = os.path.join(project, "files", "warehouse.db")
    warehouse = {}
    if os.path.exists(db):
        dumped = subprocess.run([tools.python, os.path.abspath(__file__), "--dump-duckdb", db], capture_output=True,
                                text=True)
        if dumped.returncode:
            raise HarnessError(f"cannot read {db}: {dumped.stderr.strip()[-300:]}")
        warehouse = fivetran_warehouse(json.loads(dumped.stdout))
    return {"status": "succeeded" if status == 0 else f"failed ({status})", "error": first_error(output) if status else None,
            "counts": counts, "warehouse": warehouse, "state": read_state(os.path.join(project, "files", "state.json")),
            "files": stored_files(project)}


def run_host(tools, project, syncs, log_dir, gnupg):
    env = dict(os.environ)
    if gnupg:
        env["GNUPGHOME"] = tempfile.mkdtemp(prefix="gnupg-", dir=tools.scratch)
    command = [tools.host, "run", project, "--json"] + (["--naming", "fivetran"] if tools.host_has_naming else [])
    counts, status, report = {}, None, {}
    for n in range(syncs):
        log_path = os.path.join(log_dir, f"host-sync{n + 1}.log")
        report_path = os.path.join(log_dir, f"host-sync{n + 1}.json")
        with open(report_path, "w") as report_file:
            status, _ = run_logged(command, project, env, log_path, tools.timeout, stdout=report_file)
        with open(report_path, encoding="utf-8", errors="replace") as f:
            stdout = f.read()
        try:
            report = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
        except ValueError:
            report = {}
        for k in COUNT_NAMES.values():
            if k in report.get("counts", {}):
                counts[k] = counts.get(k, 0) + report["counts"][k]
        if status != 0:
            break
    if gnupg:
        subprocess.run(["gpgconf", "--homedir", env["GNUPGHOME"], "--kill", "gpg-agent"], capture_output=True)
    db = os.path.join(project, "files", "warehouse.db")
    error = " ".join(((report.get("error") or {}).get("message") or "").split()) if status else None
    if status and not error:
        with open(os.path.join(log_dir, f"host-sync{n + 1}.log"), encoding="utf-8", errors="replace") as f:
            error = first_error(f.read())
    return {"status": "succeeded" if status == 0 else f"failed ({status})", "error": (error or "")[:300] or None,
            "counts": counts,
            "warehouse": host_warehouse(db, not tools.host_has_naming) if os.path.exists(db) else {},
            "state": read_state(os.path.join(project, "files", "state.json")), "files": stored_files(project)}


# --- comparing -----------------------------------------------------------------------------------------------------

def _row_text(row):
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)


def volatility(first, second):
    """What differs between two `fivetran debug` runs of one example: {(schema, table): set of columns, or None when
    even the row count differs}, the state paths that differ, and the counts that differ."""
    tables = {}
    for name in set(first["warehouse"]) & set(second["warehouse"]):
        a, b = first["warehouse"][name], second["warehouse"][name]
        if len(a["rows"]) != len(b["rows"]):
            tables[name] = None
            continue
        varying = set()
        for column in set(a["columns"]) | set(b["columns"]) | {DELETED}:
            values_a = sorted(_row_text(r.get(column)) for r in a["rows"])
            values_b = sorted(_row_text(r.get(column)) for r in b["rows"])
            if values_a != values_b:
                varying.add(column)
        if varying and ROW_ID in a["columns"]:
            varying.add(ROW_ID)  # the hash of a row that varies varies
        if varying:
            tables[name] = varying
    state_paths = set()
    _json_differences(first["state"], second["state"], (), state_paths)
    counts = {k for k in set(first["counts"]) | set(second["counts"]) if first["counts"].get(k) != second["counts"].get(k)}
    if any(v is None for v in tables.values()):
        counts |= set(first["counts"])  # how many rows a run gets varies, so do the counts, whether these two runs show it or not
    return {"tables": tables, "state": state_paths, "counts": counts}


def _json_differences(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in set(a) | set(b):
            _json_differences(a.get(k), b.get(k), path + (k,), out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _json_differences(x, y, path + (i,), out)
    elif a != b:
        out.add(path)


def _mask_state(state, paths, path=()):
    if path in paths:
        return VOLATILE if state is not None else None
    if isinstance(state, dict):
        return {k: _mask_state(v, paths, path + (k,)) for k, v in state.items()}
    if isinstance(state, list):
        return [_mask_state(v, paths, path + (i,)) for i, v in enumerate(state)]
    return state


def _qualified(name):
    return f"{name[0]}.{name[1]}"


def _show(value):
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 160 else text[:157] + "..."


def compare(reference, host, varying):
    """The differences between the reference run and the host's run, most telling first."""
    diffs = []
    if reference["status"] != host["status"]:
        diffs.append(f"outcome: fivetran {reference['status']}"
                     + (f" ({reference['error']})" if reference.get("error") else "")
                     + f", host {host['status']}" + (f" ({host['error']})" if host.get("error") else ""))
    ref_tables, host_tables = reference["warehouse"], host["warehouse"]
    for name in sorted(set(ref_tables) - set(host_tables)):
        diffs.append(f"table {_qualified(name)}: only in fivetran ({len(ref_tables[name]['rows'])} rows)")
    for name in sorted(set(host_tables) - set(ref_tables)):
        diffs.append(f"table {_qualified(name)}: only in host ({len(host_tables[name]['rows'])} rows)")
    for name in sorted(set(ref_tables) & set(host_tables)):
        diffs.extend(_compare_table(name, ref_tables[name], host_tables[name], varying["tables"].get(name, set())))
    ref_state = _mask_state(reference["state"], varying["state"])
    host_state = _mask_state(host["state"], varying["state"])
    if ref_state != host_state:
        diffs.append(f"state.json: fivetran {_show(ref_state)}, host {_show(host_state)}")
    if reference["files"] != host["files"]:
        only_ref = sorted(set(reference["files"]) - set(host["files"]))
        only_host = sorted(set(host["files"]) - set(reference["files"]))
        changed = sorted(p for p in set(reference["files"]) & set(host["files"]) if reference["files"][p] != host["files"][p])
        diffs.append(f"files/storage: only in fivetran {only_ref[:3]}, only in host {only_host[:3]}, content differs {changed[:3]}")
    for k in sorted(set(reference["counts"]) | set(host["counts"])):
        if k in varying["counts"] or k not in host["counts"] or k not in reference["counts"]:
            continue  # a count the host does not report yet is not compared
        if reference["counts"][k] != host["counts"][k]:
            diffs.append(f"count {k}: fivetran {reference['counts'][k]}, host {host['counts'][k]}")
    return diffs


def _compare_table(name, ref, host, varying):
    where = f"table {_qualified(name)}"
    diffs = []
    for column in sorted(set(ref["columns"]) - set(host["columns"])):
        diffs.append(f"{where}: column {column} {ref['columns'][column]} only in fivetran")
    for column in sorted(set(host["columns"]) - set(ref["columns"])):
        diffs.append(f"{where}: column {column} {host['columns'][column]} only in host")
    for column in sorted(set(ref["columns"]) & set(host["columns"])):
        if ref["columns"][column] != host["columns"][column]:
            diffs.append(f"{where}: column {column}: fivetran {ref['columns'][column]}, host {host['columns'][column]}")
    if ref["key"] != host["key"] and set(ref["key"]) != set(host["key"]):
        diffs.append(f"{where}: primary key fivetran {ref['key']}, host {host['key']}")
    if varying is None:
        if len(ref["rows"]) == 0 and len(host["rows"]) != 0 or len(host["rows"]) == 0 and len(ref["rows"]) != 0:
            diffs.append(f"{where}: {len(ref['rows'])} rows in fivetran, {len(host['rows'])} in host")
        return diffs  # the row count itself varies between two fivetran runs: the columns are all that compare
    shared = set(ref["columns"]) & set(host["columns"])
    if ref["key"] == host["key"] == [ROW_ID] and ROW_ID in shared and ROW_ID not in varying:
        # A table without a key: the row hash is told apart from the rest of the row, which then compares on its own.
        ref_ids = sorted(str(r.get(ROW_ID)) for r in ref["rows"])
        host_ids = sorted(str(r.get(ROW_ID)) for r in host["rows"])
        if ref_ids != host_ids:
            missing = _multiset_minus(ref_ids, host_ids)
            diffs.append(f"{where}: column {ROW_ID} (the row hash): {len(missing)} of {len(ref_ids)} values differ, "
                         f"e.g. fivetran {missing[0] if missing else '-'}, host {(_multiset_minus(host_ids, ref_ids) or ['-'])[0]}")
        shared = shared - {ROW_ID}
        varying = set(varying) | {ROW_ID}

    def masked(row):
        return {c: (VOLATILE if c in varying and row.get(c) is not None else row.get(c)) for c in sorted(shared | {DELETED})}

    for state, deleted in (("live", False), ("deleted", True)):
        ref_rows = [masked(r) for r in ref["rows"] if r[DELETED] == deleted]
        host_rows = [masked(r) for r in host["rows"] if r[DELETED] == deleted]
        if len(ref_rows) != len(host_rows):
            diffs.append(f"{where}: {len(ref_rows)} {state} rows in fivetran, {len(host_rows)} in host")
        ref_texts = sorted(_row_text(r) for r in ref_rows)
        host_texts = sorted(_row_text(r) for r in host_rows)
        if ref_texts == host_texts:
            continue
        key = [k for k in ref["key"] if k in shared and k not in varying]
        if key and key == [k for k in host["key"] if k in shared and k not in varying]:
            diffs.extend(_keyed_differences(where, state, key, ref_rows, host_rows))
        else:
            only_ref = _multiset_minus(ref_texts, host_texts)
            only_host = _multiset_minus(host_texts, ref_texts)
            for text in only_ref[:2]:
                diffs.append(f"{where}: {state} row only in fivetran: {_show(text)}")
            for text in only_host[:2]:
                diffs.append(f"{where}: {state} row only in host: {_show(text)}")
            if len(only_ref) + len(only_host) > 4:
                diffs.append(f"{where}: {len(only_ref)} {state} rows only in fivetran, {len(only_host)} only in host")
    return diffs


def _keyed_differences(where, state, key, ref_rows, host_rows):
    def index(rows):
        return {_row_text([r.get(k) for k in key]): r for r in rows}

    ref_by_key, host_by_key = index(ref_rows), index(host_rows)
    diffs, by_column = [], {}
    for k in sorted(set(ref_by_key) - set(host_by_key))[:2]:
        diffs.append(f"{where}: {state} row {key}={k} only in fivetran")
    for k in sorted(set(host_by_key) - set(ref_by_key))[:2]:
        diffs.append(f"{where}: {state} row {key}={k} only in host")
    for k in sorted(set(ref_by_key) & set(host_by_key)):
        for column in ref_by_key[k]:
            a, b = ref_by_key[k][column], host_by_key[k].get(column)
            if a != b:
                by_column.setdefault(column, []).append((k, a, b))
    for column, cases in sorted(by_column.items()):
        k, a, b = cases[0]
        more = f" (and {len(cases) - 1} more rows)" if len(cases) > 1 else ""
        diffs.append(f"{where}: column {column}, row {key}={k}: fivetran {_show(a)}, host {_show(b)}{more}")
    return diffs


def _multiset_minus(a, b):
    remaining = {}
    for text in b:
        remaining[text] = remaining.get(text, 0) + 1
    out = []
    for text in a:
        if remaining.get(text):
            remaining[text] -= 1
        else:
            out.append(text)
    return out


# --- one example ---------------------------------------------------------------------------------------------------

def check_example(tools, examples_root, relative, syncs, work):
    """Runs one example on both sides and compares; returns a result dict."""
    source = os.path.join(examples_root, relative)
    if not os.path.isfile(os.path.join(source, "connector.py")):
        raise HarnessError(f"{source} has no connector.py")
    spec = OFFLINE_EXAMPLES.get(relative.strip("/"), {"why": "not in the offline list: run as given"})
    if spec.get("endless"):
        raise Skip(spec["endless"])
    uses_mock = bool(spec.get("mock")) or _calls_mock(source)
    if uses_mock:
        tools.start_mock()
    configuration = configuration_for(source, spec, tools)
    tools.ensure_requirements(source)
    os.makedirs(work, exist_ok=True)
    runs = {}
    for label in ("fivetran-1", "fivetran-2", "host"):
        prepare_copy(source, os.path.join(work, label), configuration, tools.mock_port if uses_mock else None)
    runs["fivetran-1"] = run_fivetran(tools, os.path.join(work, "fivetran-1"), syncs, work, "fivetran-1", spec.get("gpg"))
    if runs["fivetran-1"]["status"] == "failed (timeout)":
        raise HarnessError(f"fivetran debug did not finish within {tools.timeout:g} s (see {work}/fivetran-1-sync*.log)")
    runs["fivetran-2"] = run_fivetran(tools, os.path.join(work, "fivetran-2"), syncs, work, "fivetran-2", spec.get("gpg"))
    runs["host"] = run_host(tools, os.path.join(work, "host"), syncs, work, spec.get("gpg"))
    varying = volatility(runs["fivetran-1"], runs["fivetran-2"])
    diffs = compare(runs["fivetran-1"], runs["host"], varying)
    with open(os.path.join(work, "dumps.json"), "w") as f:
        json.dump({label: {**run, "warehouse": {_qualified(k): v for k, v in run["warehouse"].items()}}
                   for label, run in runs.items()}, f, indent=1, default=str, ensure_ascii=False)
    note = None
    if not diffs and runs["fivetran-1"]["status"] != "succeeded":
        note = f"both failed; fivetran: {runs['fivetran-1']['error']}"
    return {"example": relative, "verdict": "SAME" if not diffs else "DIFF", "differences": diffs, "note": note,
            "why": spec["why"], "fivetran": runs["fivetran-1"]["status"], "host": runs["host"]["status"],
            "varying": {_qualified(k): sorted(v) if v else "row count" for k, v in varying["tables"].items()}}


def _calls_mock(source):
    for folder, _, names in os.walk(source):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                    if re.search(r"(127\.0\.0\.1|localhost):5001\b", f.read()):
                        return True
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("examples_list", nargs="*", metavar="EXAMPLE", help="example folders, relative to --examples")
    parser.add_argument("--examples", metavar="DIR", help="a checkout of github.com/fivetran/fivetran_connector_sdk")
    parser.add_argument("--venv", metavar="DIR", help="a venv with fivetran-connector-sdk==3.0.0 and fivetran-api-playground")
    parser.add_argument("--host", metavar="PATH", default=DEFAULT_HOST, help="the connector-host binary (default %(default)s)")
    parser.add_argument("--all-offline", action="store_true", help="every example in the offline list (see --list)")
    parser.add_argument("--list", action="store_true", help="print the offline examples and why each qualifies")
    parser.add_argument("--syncs", type=int, default=1, metavar="N", help="syncs in a row per copy (default 1)")
    parser.add_argument("--keep", metavar="DIR", help="keep the copies, logs and dumps in DIR")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--max-diffs", type=int, default=8, metavar="N", help="differences shown per example (default 8)")
    parser.add_argument("--timeout", type=float, default=300, metavar="S", help="limit per run in seconds (default 300)")
    parser.add_argument("--dump-duckdb", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.dump_duckdb:  # the venv's Python reading Fivetran's warehouse for the main process
        json.dump(dump_duckdb(args.dump_duckdb), sys.stdout, default=str)
        return 0
    if args.list:
        for name, spec in OFFLINE_EXAMPLES.items():
            print(f"{name}\n    {spec['why']}")
        print(f"{len(OFFLINE_EXAMPLES)} examples")
        return 0
    if not args.examples or not args.venv or not (args.examples_list or args.all_offline):
        parser.error("give --examples DIR, --venv DIR and example folders (or --all-offline)")
    if args.syncs < 1:
        parser.error("--syncs must be at least 1")
    names = list(OFFLINE_EXAMPLES) if args.all_offline else [n.strip("/") for n in args.examples_list]

    scratch = os.path.abspath(args.keep) if args.keep else tempfile.mkdtemp(prefix="fivetran-parity-")
    os.makedirs(scratch, exist_ok=True)
    results = []
    try:
        tools = Tools(args.venv, args.host, scratch, args.timeout)
        print(f"fivetran-connector-sdk {tools.sdk_version} in {tools.venv}; host {tools.host}", flush=True)
        if not tools.host_has_naming:
            print("host lacks --naming: comparing the host's names after applying Fivetran's renaming to them", flush=True)
        for n, name in enumerate(names):
            work = os.path.join(scratch, f"{n:02d}-" + re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")[-60:])
            started = time.monotonic()
            try:
                result = check_example(tools, os.path.abspath(args.examples), name, args.syncs, work)
            except Skip as e:
                result = {"example": name, "verdict": "SKIP", "differences": [str(e)]}
            except (HarnessError, OSError, ValueError, sqlite3.Error) as e:
                result = {"example": name, "verdict": "ERROR", "differences": [f"{type(e).__name__}: {e}"]}
            result["seconds"] = round(time.monotonic() - started, 1)
            results.append(result)
            note = f"; {result['note']}" if result.get("note") else ""
            print(f"{result['verdict']:5} {name}  ({result['seconds']} s{note})", flush=True)
            for line in result["differences"][:args.max_diffs]:
                print(f"      - {line}")
            if len(result["differences"]) > args.max_diffs:
                print(f"      ... {len(result['differences']) - args.max_diffs} more differences")
    except HarnessError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if "tools" in locals():
            tools.stop_mock()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    tally = {v: sum(1 for r in results if r["verdict"] == v) for v in ("SAME", "DIFF", "SKIP", "ERROR")}
    print(f"summary: {len(results)} example{'s' if len(results) != 1 else ''}: " + ", ".join(f"{count} {v}" for v, count in tally.items() if count or v == "SAME"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sdk": tools.sdk_version, "host": tools.host, "hostHasNaming": tools.host_has_naming,
                       "results": results}, f, indent=2, ensure_ascii=False)
    return 0 if results and all(r["verdict"] == "SAME" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
