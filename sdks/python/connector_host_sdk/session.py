"""Child side of the connector-host protocol v1: the stdio loop, batching of
records, checkpoints and logs.

Threads: a daemon reader thread reads the host's messages from the protocol
input descriptor (raw os.read, no buffered-object locks), answers nothing
itself except malformed lines, resolves checkpoint answers, turns ``cancel``
into a flag, and queues requests for the main thread. The main thread handles
requests one at a time; ``update`` runs user code on the main thread.
Every write to the protocol output goes through one lock, one message per
os.write loop, so messages never interleave.
"""

import json
import os
import queue
import sys
import threading
import time
import traceback

from . import errors as E
from .encoder import Encoder, make_row_encoder

PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOL_VERSIONS = (1,)
MAX_BATCH_OPS = 1000
MAX_BATCH_CHARS = 1 << 20  # ~1 MiB of JSON text per records line
EOF_EXIT_GRACE = 1.0  # seconds user code gets to finish after stdin EOF

_current = None  # the Session serving this process, if any


def current():
    """The Session serving this process, or None outside connector-host."""
    return _current


def _set_current(session):
    global _current
    _current = session


LOG_LEVELS = {
    "fine": "debug",
    "debug": "debug",
    "info": "info",
    "warning": "warning",
    "warn": "warning",
    "error": "error",
    "severe": "error",
    "critical": "error",
}

_RECORDS_PREFIX = '{"jsonrpc":"2.0","method":"records","params":{"ops":['
_RECORDS_SUFFIX = "]}}\n"
_EOF = object()


class _Waiter(object):
    __slots__ = ("event", "response")

    def __init__(self):
        self.event = threading.Event()
        self.response = None


def _stderr(text):
    try:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()
    except Exception:
        pass


class Session(object):
    """One protocol conversation over (in_fd, out_fd)."""

    def __init__(self, in_fd, out_fd, connector=None, default_name="connector"):
        self.connector = connector
        self.default_name = default_name
        self._in_fd = in_fd
        self._out_fd = out_fd
        self._write_lock = threading.Lock()
        self._op_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending = {}
        self._next_id = 1
        self._inbox = queue.Queue()
        self._initialized = False
        self._configuration = {}
        self._eof = False
        self._reader_thread = None
        self._finished = threading.Event()  # set when serve() returns
        self._ignored_notifications = set()
        # sync state
        self.cancelled = False
        self._accepting = False  # True only while update() runs, not cancelled
        self._failure = None  # message of a rejected checkpoint
        self._ops = []
        self._chars = 0
        self._encoder = Encoder(on_nan=self._report_nan)
        self._encode = self._encoder.encode  # full mapping, never emits NaN
        self._fast = self._encoder.fast  # fast path; raises ValueError/TypeError
        self._declared_tables = None  # table names of the last schema answer
        self._warned_tables = set()
        self._p_upsert = {}
        self._p_update = {}
        self._p_delete = {}
        self._p_truncate = {}
        self._prefixes = {"upsert": self._p_upsert, "update": self._p_update,
                          "delete": self._p_delete, "truncate": self._p_truncate}
        # Per op kind, table -> row encoder compiled for the last row shape seen
        # (encoder.make_row_encoder), and how many shapes each table has had.
        self._rows_upsert = {}
        self._rows_update = {}
        self._rows_delete = {}
        self._row_shapes = {}

    # ------------------------------------------------------------------ output

    def _write(self, text):
        data = text.encode("utf-8", "replace")  # lone surrogates -> '?'
        fd = self._out_fd
        with self._write_lock:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]

    def _respond(self, rid, result):
        self._write('{"jsonrpc":"2.0","id":%s,"result":%s}\n' % (json.dumps(rid), self._encode(result)))

    def _respond_error(self, rid, code, message, data=None):
        err = {"code": code, "message": message}
        if data is not None:
            err["data"] = data
        self._write('{"jsonrpc":"2.0","id":%s,"error":%s}\n' % (json.dumps(rid), self._encode(err)))

    def _respond_exception(self, rid, exc):
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, E.Cancelled):
            _stderr("connector-host SDK: %s" % exc)
        else:
            _stderr(tb)
        name = type(exc).__name__
        text = str(exc)
        message = "%s: %s" % (name, text) if text else name
        if isinstance(exc, E.ConnectorHostError):
            code = exc.code
        else:
            code = E.SOURCE_ERROR
        data = {"type": name, "traceback": tb}
        extra = getattr(exc, "data", None) if isinstance(exc, E.ConnectorHostError) else None
        if isinstance(extra, dict):
            for k, v in extra.items():
                data.setdefault(k, v)
        self._respond_error(rid, code, message, data)

    def log(self, level, message):
        """Send a ``log`` notification (to stderr before initialize)."""
        lvl = LOG_LEVELS.get(str(level).lower(), "info")
        if not isinstance(message, str):
            message = str(message)
        if not self._initialized:
            _stderr("[%s] %s" % (lvl.upper(), message))
            return
        self._write('{"jsonrpc":"2.0","method":"log","params":{"level":"%s","message":%s}}\n'
                    % (lvl, self._encode(message)))

    def _report_nan(self):
        try:
            self.log("warning", "NaN or Infinity value sent as null (JSON has no such numbers); "
                                "reported once per run")
        except Exception:
            pass

    # --------------------------------------------------------------- operations
    # Hot path: keep these short. The op's JSON text is built at call time (so
    # later mutation of the caller's dict cannot change what is sent) and the
    # records line is a string join of those texts.

    def _prefix(self, kind, table):
        if not isinstance(table, str) or not table:
            raise TypeError("table must be a non-empty string, got %r" % (table,))
        member = "keys" if kind == "delete" else "data"
        if kind == "truncate":
            p = '{"op":"truncate","table":%s}' % self._encode(table)
        else:
            p = '{"op":"%s","table":%s,"%s":' % (kind, self._encode(table), member)
        self._prefixes[kind][table] = p
        declared = self._declared_tables
        if declared is not None and table not in declared and table not in self._warned_tables:
            self._warned_tables.add(table)
            try:
                self.log("warning", "table %s is not declared by schema(); declare every table you "
                                    "write (hosts may reject ops on undeclared tables)"
                         % json.dumps(table, ensure_ascii=False))
            except Exception:
                pass
        return p

    def _refuse(self):
        if self.cancelled:
            raise E.Cancelled()
        if self._failure is not None:
            raise E.ProtocolError("the sync cannot continue: %s" % self._failure)
        raise E.ProtocolError("operations are only allowed while update() runs")

    @staticmethod
    def _as_dict(value, what):
        if isinstance(value, dict):
            return value
        try:
            from collections.abc import Mapping
            if isinstance(value, Mapping):
                return dict(value)
        except Exception:
            pass
        raise TypeError("%s must be a dict, got %s" % (what, type(value).__name__))

    def _add(self, text):
        with self._op_lock:
            if not self._accepting:
                self._refuse()
            ops = self._ops
            ops.append(text)
            self._chars += len(text)
            if len(ops) >= MAX_BATCH_OPS or self._chars >= MAX_BATCH_CHARS:
                self._flush_locked()

    def _encode_op(self, kind, encoders, table, data, what):
        """The op's JSON text by the general path; learns the row's shape for the next rows."""
        p = self._prefixes[kind].get(table)
        if p is None:
            p = self._prefix(kind, table)
        if type(data) is not dict:
            data = self._as_dict(data, what)
        try:
            text = p + self._fast(data) + "}"
        except (ValueError, TypeError):
            text = p + self._encode(data) + "}"
        shapes = self._row_shapes.get((kind, table), 0)
        if shapes < 16:  # a table whose rows keep changing shape stays on the general path
            self._row_shapes[(kind, table)] = shapes + 1
            encoder = make_row_encoder(p, tuple(data), self._encode)
            if encoder is not None:
                encoders[table] = encoder
        return text

    def upsert(self, table, data):
        # _add inlined: this is the hottest path of the SDK.
        encoder = self._rows_upsert.get(table)
        text = encoder(data) if encoder is not None else None
        if text is None:
            text = self._encode_op("upsert", self._rows_upsert, table, data, "data")
        with self._op_lock:
            if not self._accepting:
                self._refuse()
            ops = self._ops
            ops.append(text)
            self._chars += len(text)
            if len(ops) >= MAX_BATCH_OPS or self._chars >= MAX_BATCH_CHARS:
                self._flush_locked()

    def update(self, table, modified):
        encoder = self._rows_update.get(table)
        text = encoder(modified) if encoder is not None else None
        self._add(text or self._encode_op("update", self._rows_update, table, modified, "modified"))

    def delete(self, table, keys):
        encoder = self._rows_delete.get(table)
        text = encoder(keys) if encoder is not None else None
        self._add(text or self._encode_op("delete", self._rows_delete, table, keys, "keys"))

    def truncate(self, table):
        p = self._p_truncate.get(table) or self._prefix("truncate", table)
        self._add(p)

    def flush(self):
        with self._op_lock:
            self._flush_locked()

    def _flush_locked(self):
        ops = self._ops
        if not ops:
            return
        self._ops = []
        self._chars = 0
        self._write(_RECORDS_PREFIX + ",".join(ops) + _RECORDS_SUFFIX)

    def checkpoint(self, state):
        """Flush buffered records, send a ``checkpoint`` request and block
        until the host answers. Raises CheckpointError on an error answer and
        Cancelled when the host cancels or closes stdin meanwhile."""
        if state is None:
            state = {}
        state = self._as_dict(state, "state")
        state_text = self._encode(state)
        waiter = _Waiter()
        with self._op_lock:
            if not self._accepting:
                self._refuse()
            self._flush_locked()
            rid = self._next_id
            self._next_id += 1
            with self._pending_lock:
                self._pending[rid] = waiter
            self._write('{"jsonrpc":"2.0","id":%d,"method":"checkpoint","params":{"state":%s}}\n'
                        % (rid, state_text))
        try:
            # Woken by the answer, a cancel, or stdin EOF.
            if not (self.cancelled or self._eof):
                waiter.event.wait()
        finally:
            with self._pending_lock:
                self._pending.pop(rid, None)
        resp = waiter.response
        if resp is None:
            raise E.Cancelled("the host cancelled the sync while a checkpoint was pending"
                              if not self._eof else
                              "the host closed stdin while a checkpoint was pending")
        err = resp.get("error")
        if "error" in resp:
            code = err.get("code") if isinstance(err, dict) else None
            msg = err.get("message") if isinstance(err, dict) else str(err)
            data = err.get("data") if isinstance(err, dict) else None
            exc = E.CheckpointError(code, msg, data)
            self._failure = str(exc)
            self._accepting = False
            raise exc
        return None

    # ------------------------------------------------------------------- input

    def _reader(self):
        fd = self._in_fd
        parts = []
        try:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except InterruptedError:
                    continue
                except OSError as e:
                    _stderr("connector-host SDK: reading the protocol input failed: %s" % e)
                    break
                if not chunk:
                    break
                nl = chunk.find(b"\n")
                if nl < 0:
                    parts.append(chunk)
                    continue
                if parts:
                    parts.append(chunk[:nl])
                    self._on_line(b"".join(parts))
                    parts = []
                else:
                    self._on_line(chunk[:nl])
                start = nl + 1
                while True:
                    nl = chunk.find(b"\n", start)
                    if nl < 0:
                        break
                    self._on_line(chunk[start:nl])
                    start = nl + 1
                if start < len(chunk):
                    parts.append(chunk[start:])
            if parts:
                self._on_line(b"".join(parts))
        finally:
            self._eof = True
            if self._accepting:
                # stdin closed during a sync: the host is stopping us.
                self._cancel()
            self._wake_waiters()
            self._inbox.put(_EOF)
            threading.Thread(target=self._exit_soon, name="connector-host-eof", daemon=True).start()

    def _exit_soon(self):
        """EOF means the host is done with us: exit 0 promptly "whatever we
        were doing". User code gets EOF_EXIT_GRACE seconds to return (ops
        raise Cancelled meanwhile) and the interpreter the same again to shut
        down (non-daemon threads, atexit); after that the process ends here."""
        if not self._finished.wait(EOF_EXIT_GRACE):
            _stderr("connector-host SDK: stdin closed; exiting without waiting for the connector")
        else:
            time.sleep(EOF_EXIT_GRACE)  # normally the process is gone before this ends
        try:
            sys.stderr.flush()
        except Exception:
            pass
        os._exit(0)

    def _on_line(self, line):
        try:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line.strip():
                return
            try:
                msg = json.loads(line)
            except (ValueError, RecursionError) as e:
                self._respond_error(None, E.PARSE_ERROR, "parse error: %s" % e)
                return
            self._dispatch(msg)
        except Exception:
            _stderr("connector-host SDK: failed to handle a host message:\n" + traceback.format_exc())

    @staticmethod
    def _valid_id(rid):
        return isinstance(rid, (int, str)) and not isinstance(rid, bool)

    def _dispatch(self, msg):
        if not isinstance(msg, dict):
            self._respond_error(None, E.INVALID_REQUEST, "invalid request: not a JSON object")
            return
        method = msg.get("method")
        has_id = "id" in msg
        rid = msg.get("id")
        if method is not None:
            if not isinstance(method, str) or (has_id and not self._valid_id(rid)):
                self._respond_error(rid if self._valid_id(rid) else None,
                                    E.INVALID_REQUEST, "invalid request")
                return
            if has_id:
                self._inbox.put(msg)
            elif method == "cancel":
                self._cancel()
            elif method not in self._ignored_notifications:
                self._ignored_notifications.add(method)
                _stderr("connector-host SDK: ignoring unknown notification %r" % method)
            return
        if has_id and ("result" in msg or "error" in msg):
            with self._pending_lock:
                waiter = self._pending.get(rid) if self._valid_id(rid) else None
            if waiter is None:
                _stderr("connector-host SDK: ignoring a response to unknown request id %r" % (rid,))
                return
            waiter.response = msg
            waiter.event.set()
            return
        self._respond_error(rid if self._valid_id(rid) else None, E.INVALID_REQUEST,
                            "invalid request: no method")

    def _cancel(self):
        self.cancelled = True
        self._accepting = False
        self._wake_waiters()

    def _wake_waiters(self):
        with self._pending_lock:
            waiters = list(self._pending.values())
        for w in waiters:
            w.event.set()

    # ---------------------------------------------------------------- requests

    def serve(self):
        """Run the protocol loop until stdin EOF. Returns the exit status."""
        _set_current(self)
        self._reader_thread = threading.Thread(target=self._reader, name="connector-host-reader",
                                               daemon=True)
        self._reader_thread.start()
        try:
            while True:
                msg = self._inbox.get()
                if msg is _EOF:
                    return 0
                self._handle_request(msg)
        except BrokenPipeError:
            _stderr("connector-host SDK: the host closed the protocol stream")
            return 1
        finally:
            self._finished.set()

    def _handle_request(self, msg):
        rid = msg.get("id")
        method = msg["method"]
        params = msg.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            self._respond_error(rid, E.INVALID_PARAMS, "params of %s must be an object" % method)
            return
        if method == "initialize":
            self._initialize(rid, params)
            return
        if not self._initialized:
            self._respond_error(rid, E.NOT_INITIALIZED, "not initialized")
            return
        if method == "update":
            self._update(rid, params)
        elif method == "schema":
            self._schema(rid, params)
        elif method == "shutdown":
            self._respond(rid, {})
        else:
            self._respond_error(rid, E.METHOD_NOT_FOUND, "method not found: %s" % method)

    def _check_configuration(self, rid, params, fallback):
        """Returns the configuration dict, or None after answering -32012."""
        if "configuration" not in params or params["configuration"] is None:
            return dict(fallback)
        config = params["configuration"]
        if not isinstance(config, dict):
            self._respond_error(rid, E.CONFIGURATION_ERROR, "configuration must be a JSON object")
            return None
        for key, value in config.items():
            if not isinstance(value, str):
                kind = {bool: "boolean", int: "number", float: "number", dict: "object",
                        list: "array", type(None): "null"}.get(type(value), type(value).__name__)
                self._respond_error(
                    rid, E.CONFIGURATION_ERROR,
                    "configuration value for key %s must be a string, got %s "
                    "(configuration values are strings, as in the Fivetran Connector SDK)"
                    % (json.dumps(key, ensure_ascii=False), kind),
                    {"key": key})
                return None
        return config

    def _initialize(self, rid, params):
        requested = params.get("protocolVersion", PROTOCOL_VERSION)
        if isinstance(requested, bool) or not isinstance(requested, int):
            self._respond_error(rid, E.INVALID_PARAMS, "protocolVersion must be an integer")
            return
        version = requested if requested in SUPPORTED_PROTOCOL_VERSIONS else max(SUPPORTED_PROTOCOL_VERSIONS)
        config = self._check_configuration(rid, params, {})
        if config is None:
            return
        self._configuration = config
        conn = self.connector
        name = getattr(conn, "name", None) or self.default_name
        cversion = getattr(conn, "version", None) or "0.0.0"
        self._initialized = True
        self._respond(rid, {
            "protocolVersion": version,
            "connector": {"name": name, "version": cversion},
            "capabilities": {"test": False},
        })

    def _schema(self, rid, params):
        config = self._check_configuration(rid, params, self._configuration)
        if config is None:
            return
        fn = getattr(self.connector, "schema_method", None)
        try:
            result = fn(config) if fn is not None else []
            tables = translate_schema(result)
        except BaseException as e:
            self._respond_exception(rid, e)
            if not isinstance(e, Exception):
                raise
            return
        self._declared_tables = set(t["table"] for t in tables)
        self._respond(rid, {"tables": tables})

    def _update(self, rid, params):
        config = self._check_configuration(rid, params, self._configuration)
        if config is None:
            return
        state = params.get("state")
        if state is None:
            state = {}
        if not isinstance(state, dict):
            self._respond_error(rid, E.INVALID_PARAMS, "state must be a JSON object")
            return
        fn = self.connector.update_method
        with self._op_lock:
            self._ops = []
            self._chars = 0
            self._failure = None
            self._accepting = not (self.cancelled or self._eof)
        try:
            if not self._accepting:
                raise E.Cancelled()
            result = fn(config, state)
            if result is not None and hasattr(result, "__next__"):
                # Generator-style update (older Fivetran connectors yield each
                # op); yielded values are ignored.
                for _ in result:
                    pass
            if self.cancelled:
                raise E.Cancelled()
            with self._op_lock:
                if self._failure is not None:
                    raise E.ProtocolError("update returned after a rejected checkpoint: %s"
                                          % self._failure)
                self._flush_locked()
                self._accepting = False
        except BaseException as e:
            with self._op_lock:
                self._accepting = False
                if self.cancelled or self._eof or self._failure is not None:
                    # The host discards anything sent after cancel or a
                    # rejected checkpoint.
                    self._ops = []
                    self._chars = 0
                else:
                    # Keep the message order honest: buffered ops, then the
                    # error (the host rolls them back anyway).
                    try:
                        self._flush_locked()
                    except OSError:
                        self._ops = []
                        self._chars = 0
            self._respond_exception(rid, e)
            if not isinstance(e, Exception):
                raise
            return
        self._respond(rid, {})


TYPE_NAMES = frozenset((
    "BOOLEAN", "SHORT", "INT", "LONG", "DECIMAL", "FLOAT", "DOUBLE", "NAIVE_DATE",
    "NAIVE_DATETIME", "UTC_DATETIME", "BINARY", "XML", "STRING", "JSON"))


def _column_type(ty):
    """Type names are exact upper-case on the wire: "string" -> "STRING"
    (only for known names; anything else is passed through for the host to
    judge)."""
    if isinstance(ty, str):
        up = ty.strip().upper()
        return up if up in TYPE_NAMES else ty
    if isinstance(ty, dict) and isinstance(ty.get("type"), str):
        up = ty["type"].strip().upper()
        if up in TYPE_NAMES and up != ty["type"]:
            ty = dict(ty)
            ty["type"] = up
    return ty


def translate_schema(result):
    """Fivetran-style schema list -> protocol table list.

    Accepts a list/tuple of table dicts (or {"tables": [...]}); each table's
    ``primary_key`` becomes ``primaryKey`` (either spelling accepted); other
    members are passed through unchanged."""
    if result is None:
        return []
    if isinstance(result, dict) and "tables" in result:
        result = result["tables"]
    if not isinstance(result, (list, tuple)):
        raise E.SchemaError("schema() must return a list of table dicts, got %s"
                            % type(result).__name__)
    tables = []
    for i, t in enumerate(result):
        if not isinstance(t, dict):
            raise E.SchemaError("schema() entry %d must be a dict, got %s" % (i, type(t).__name__),
                                {"index": i})
        name = t.get("table")
        if not isinstance(name, str) or not name:
            raise E.SchemaError("schema() entry %d needs a non-empty string \"table\"" % i,
                                {"index": i})
        out = {"table": name}
        pk = t.get("primaryKey")
        pk2 = t.get("primary_key")
        if pk is not None and pk2 is not None and list(pk) != list(pk2):
            raise E.SchemaError("table %s: primary_key and primaryKey differ" % name,
                                {"table": name})
        if pk is None:
            pk = pk2
        if pk is not None:
            if isinstance(pk, str):
                pk = [pk]
            if not isinstance(pk, (list, tuple)) or not all(isinstance(c, str) for c in pk):
                raise E.SchemaError("table %s: primary_key must be a list of column names" % name,
                                    {"table": name})
            out["primaryKey"] = list(pk)
        if t.get("columns") is not None:
            cols = t["columns"]
            if not isinstance(cols, dict):
                raise E.SchemaError("table %s: columns must be a dict" % name, {"table": name})
            out["columns"] = {c: _column_type(ty) for c, ty in cols.items()}
        for k, v in t.items():
            if k not in ("table", "primaryKey", "primary_key", "columns"):
                out[k] = v
        tables.append(out)
    return tables
