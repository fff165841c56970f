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

import dis
import json
import inspect
import os
import queue
import sys
import threading
import time
import traceback

from . import errors as E
from .encoder import HINTED_TYPES, Encoder, make_row_encoder, type_hint, type_hint_text
from .files import stage_file, validate_file_upload
from .forms import ConfigurationForm, run_setup_tests

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
    "critical": "critical",
}

_NATIVE_TYPES = frozenset((str, int, float, bool, type(None), dict, list))
_RECORDS_PREFIX = '{"jsonrpc":"2.0","method":"records","params":{"ops":['
_RECORDS_SUFFIX = "]}}\n"
_EOF = object()

#: The SDK's own folders: the call site of an op is the innermost frame outside them.
_HERE = os.path.dirname(os.path.abspath(__file__))
_SDK_DIRS = (_HERE + os.sep, os.path.join(os.path.dirname(_HERE), "fivetran_connector_sdk") + os.sep)
#: Call sites kept (ops since the last acknowledged checkpoint, at most this many): the host is
#: never further behind than the pipe and one line.
_SITES_LIMIT = 8 * MAX_BATCH_OPS


#: id(code) -> (code, whether it is the SDK's), for _site_from: the code object is kept so that an
#: id reused by a later code object is never taken for it.
_CODE_IS_SDK = {}
#: Session.upsert/update/delete's site argument when the caller did not capture one.
_NO_SITE = object()


def _code_is_sdk(code):
    entry = (code, code.co_filename.startswith(_SDK_DIRS))
    _CODE_IS_SDK[id(code)] = entry
    return entry


def _site_from(f):
    """(code, instruction offset) of the innermost frame outside the SDK, starting at frame ``f``;
    the line is looked up only when the host asks (operationSite). Whether a code object is the
    SDK's is decided once per code object, not once per op."""
    while f is not None:
        code = f.f_code
        entry = _CODE_IS_SDK.get(id(code))
        if entry is None or entry[0] is not code:
            entry = _code_is_sdk(code)
        if not entry[1]:
            return (code, f.f_lasti)
        f = f.f_back
    return None


def _caller_site():
    """The call site (_site_from) of the caller of this function's caller.

    The op methods of Operations capture it themselves from their caller's frame (sys._getframe(1))
    and pass it on: that frame is usually the connector's loop, whose frame object CPython builds
    once, while starting from here would build one for each SDK frame between, on every op."""
    return _site_from(sys._getframe(2))


def _line_of(code, offset):
    line = code.co_firstlineno
    for start, number in dis.findlinestarts(code):
        if start > offset:
            break
        if number is not None:
            line = number
    return line


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

    def __init__(self, in_fd, out_fd, connector=None, default_name="connector", exit_on_eof=True):
        self.connector = connector
        #: Under ``connector-host run`` the process is the connector and exits when the host
        #: closes its input; under ``connector.debug()`` it is the user's process, which goes on.
        self._exit_on_eof = exit_on_eof
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
        self._connector_error = None  # (message, trace) of op.error in this sync
        self._file_staging = None  # the update's "fileStaging" folder
        self._form = None  # the ConfigurationForm, read at initialize
        self._form_error = None  # what configuration_form() raised
        self._ops = []
        self._chars = 0
        # Call sites of the ops of this update (operationSite): _sites[0] is op number _sites_base.
        self._sites = []
        self._sites_base = 1
        self._encoder = Encoder(on_nan=self._report_nan)
        self._encode = self._encoder.encode  # full mapping, never emits NaN
        self._fast = self._encoder.fast  # fast path; raises ValueError/TypeError
        self._declared_tables = None  # (schema, table) of the last schema answer
        self._declared_columns = {}  # row-encoder key -> names of the declared columns
        self._warned_tables = set()
        self._p_upsert = {}
        self._p_update = {}
        self._p_delete = {}
        self._p_truncate = {}
        self._prefixes = {"upsert": self._p_upsert, "update": self._p_update,
                          "delete": self._p_delete, "truncate": self._p_truncate}
        # Per op kind, key -> row encoder compiled for the last row shape seen
        # (encoder.make_row_encoder), and how many shapes each table has had. The
        # key is the table name, or (schema, table) for a table of another schema.
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
        if isinstance(exc, E.ConnectorError):
            # op.error: the connector's own message and trace, nothing of ours.
            data = {"type": "ConnectorError"}
            if isinstance(exc.trace, str) and exc.trace.strip():
                data["traceback"] = exc.trace
            self._respond_error(rid, E.SOURCE_ERROR, exc.message, data)
            return
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, E.Cancelled):
            _stderr("connector-host SDK: %s" % exc)
        # Any other traceback travels in the answer's data only: the host shows it once (printing it
        # on stderr too made it appear twice, live and in the host's error message).
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

    def warning(self, message):
        """Send a ``warning`` notification (to stderr before initialize)."""
        if not self._initialized:
            _stderr("[WARNING] %s" % message)
            return
        self._write('{"jsonrpc":"2.0","method":"warning","params":{"message":%s}}\n'
                    % self._encode(message))

    def report_error(self, message, trace=None):
        """op.error: the sync fails with ``message``. Stops accepting ops (from
        every thread) and raises ConnectorError; the running request is answered
        with it even if user code catches it."""
        with self._op_lock:
            if self._connector_error is None:
                self._connector_error = (message, trace)
            self._accepting = False
        raise E.ConnectorError(message, trace)

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

    def _prefix(self, kind, table, schema=None):
        """The op's text up to its row (``{"op":...,"table":...,"data":``), cached per key."""
        check_table(table)
        if schema is not None:
            check_schema(schema)
        member = "keys" if kind == "delete" else "data"
        where = self._encode(table) + ("" if schema is None else ',"schema":' + self._encode(schema))
        if kind == "truncate":
            p = '{"op":"truncate","table":%s}' % where
        else:
            p = '{"op":"%s","table":%s,"%s":' % (kind, where, member)
        self._prefixes[kind][table if schema is None else (schema, table)] = p
        declared = self._declared_tables
        ident = (schema, table)
        if declared is not None and ident not in declared and ident not in self._warned_tables:
            self._warned_tables.add(ident)
            name = json.dumps(table, ensure_ascii=False)
            if schema is not None:
                name += " of schema " + json.dumps(schema, ensure_ascii=False)
            try:
                self.log("warning", "table %s is not declared by schema(); declare every table you "
                                    "write (hosts may reject ops on undeclared tables)" % name)
            except Exception:
                pass
        return p

    def _refuse(self):
        if self._connector_error is not None:
            raise E.ConnectorError(*self._connector_error)
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

    def _trim_sites(self):
        """Under _op_lock, when more than _SITES_LIMIT sites are kept: forgets the older half."""
        sites = self._sites
        half = len(sites) // 2
        del sites[:half]
        self._sites_base += half

    def _add(self, text, site=_NO_SITE):
        if site is _NO_SITE:
            site = _caller_site()
        with self._op_lock:
            if not self._accepting:
                self._refuse()
            sites = self._sites  # the call site of the op queued (operationSite)
            sites.append(site)
            if len(sites) > _SITES_LIMIT:
                self._trim_sites()
            ops = self._ops
            ops.append(text)
            self._chars += len(text)
            if len(ops) >= MAX_BATCH_OPS or self._chars >= MAX_BATCH_CHARS:
                self._flush_locked()

    def _types_text(self, key, data):
        """The op's ``,"types":{...}`` member for undeclared columns with a hinted value, or ""."""
        if _NATIVE_TYPES.issuperset(map(type, data.values())):
            return ""  # the usual case, checked in C
        hints = None
        declared = self._declared_columns.get(key, ())
        for k, v in data.items():
            if isinstance(v, HINTED_TYPES):
                h = type_hint(v)
                if h is not None:
                    name = k if type(k) is str else self._encoder._key(k)
                    if name not in declared:
                        if hints is None:
                            hints = {}
                        hints[name] = h
        return ',"types":' + self._encode(hints) if hints else ""

    def _encode_op(self, kind, encoders, key, table, schema, data, what):
        """The op's JSON text by the general path; learns the row's shape for the next rows."""
        p = self._prefixes[kind].get(key)
        if p is None:
            p = self._prefix(kind, table, schema)
        if type(data) is not dict:
            data = self._as_dict(data, what)
        try:
            row = self._fast(data)
        except (ValueError, TypeError):
            row = self._encode(data)
        if kind == "delete":
            text = p + row + "}"
        else:
            text = p + row + self._types_text(key, data) + "}"
        shapes = self._row_shapes.get((kind, key), 0)
        if shapes < 16:  # a table whose rows keep changing shape stays on the general path
            self._row_shapes[(kind, key)] = shapes + 1
            keys = tuple(data)
            hinted = None
            if kind != "delete":
                declared = self._declared_columns.get(key, ())
                hinted = tuple(k not in declared for k in keys)
            encoder = make_row_encoder(p, keys, self._encode, hinted, self._add_hints,
                                       tuple(data.values()))
            if encoder is not None:
                encoders[key] = encoder
        return text

    @staticmethod
    def _add_hints(text, quoted_keys, values, mask):
        """Row-encoder callback: ``text`` plus the ``types`` of the columns in ``mask``."""
        parts = []
        while mask:
            low = mask & -mask
            i = low.bit_length() - 1
            mask ^= low
            hint = type_hint_text(values[i])
            if hint:
                parts.append(quoted_keys[i] + ":" + hint)
        if not parts:
            return text
        return text[:-1] + ',"types":{' + ",".join(parts) + "}}"

    def upsert(self, table, data, schema=None, site=_NO_SITE):
        """``site``: the op's call site (_site_from), when the caller captured it."""
        # _add inlined: this is the hottest path of the SDK.
        key = table if schema is None else (schema, table)
        encoder = self._rows_upsert.get(key)
        text = encoder(data) if encoder is not None else None
        if text is None:
            text = self._encode_op("upsert", self._rows_upsert, key, table, schema, data, "data")
        if site is _NO_SITE:
            site = _caller_site()
        with self._op_lock:
            if not self._accepting:
                self._refuse()
            sites = self._sites
            sites.append(site)
            if len(sites) > _SITES_LIMIT:
                self._trim_sites()
            ops = self._ops
            ops.append(text)
            self._chars += len(text)
            if len(ops) >= MAX_BATCH_OPS or self._chars >= MAX_BATCH_CHARS:
                self._flush_locked()

    def update(self, table, modified, schema=None, site=_NO_SITE):
        key = table if schema is None else (schema, table)
        encoder = self._rows_update.get(key)
        text = encoder(modified) if encoder is not None else None
        if site is _NO_SITE:
            site = _caller_site()
        self._add(text or self._encode_op("update", self._rows_update, key, table, schema, modified,
                                          "modified"), site)

    def delete(self, table, keys, schema=None, site=_NO_SITE):
        key = table if schema is None else (schema, table)
        encoder = self._rows_delete.get(key)
        text = encoder(keys) if encoder is not None else None
        if site is _NO_SITE:
            site = _caller_site()
        self._add(text or self._encode_op("delete", self._rows_delete, key, table, schema, keys, "keys"),
                  site)

    def truncate(self, table, schema=None):
        key = table if schema is None else (schema, table)
        p = self._p_truncate.get(key) or self._prefix("truncate", table, schema)
        self._add(p)

    def with_file(self, kind, table, data, schema, upload):
        """An upsert or update carrying ``file=FileUpload(...)``: the stream is
        copied into the host's staging folder first, then the op is sent with
        ``"file": {"path", "source", "size"}``."""
        validate_file_upload(upload)
        key = table if schema is None else (schema, table)
        p = self._prefixes[kind].get(key) or self._prefix(kind, table, schema)
        data = self._as_dict(data, "data" if kind == "upsert" else "modified")
        row = self._encode(data)
        types = self._types_text(key, data)
        with self._op_lock:
            if not self._accepting:
                self._refuse()
            staging = self._file_staging
        if not staging:
            raise E.ProtocolError(
                "file uploads need a host that supports them: this host gave no fileStaging folder "
                "in the update request (update connector-host)")
        source, size = stage_file(upload, staging)
        file_text = self._encode({"path": upload.path, "source": source, "size": size})
        self._add(p + row + types + ',"file":' + file_text + "}")

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
            covered = self._sites_base + len(self._sites)  # ops this checkpoint commits
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
        with self._op_lock:
            # Acknowledged: the host never refuses these ops now; forget their call sites.
            done = min(covered - self._sites_base, len(self._sites))
            if done > 0:
                del self._sites[:done]
                self._sites_base += done
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
            if self._exit_on_eof:
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
            if has_id and method == "operationSite":
                # Answered at once, from the reader, while update's code runs or a checkpoint waits.
                self._operation_site(rid, msg.get("params"))
            elif has_id:
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

    def _operation_site(self, rid, params):
        """The call site of op number params.operationIndex of this update, or {} if not kept."""
        index = params.get("operationIndex") if isinstance(params, dict) else None
        if isinstance(index, bool) or not isinstance(index, int):
            self._respond_error(rid, E.INVALID_PARAMS, "operationSite needs an integer operationIndex")
            return
        with self._op_lock:
            position = index - self._sites_base
            site = self._sites[position] if 0 <= position < len(self._sites) else None
        if site is None:
            self._respond(rid, {})
            return
        code, offset = site
        self._respond(rid, {"file": os.path.abspath(code.co_filename), "line": _line_of(code, offset),
                            "function": code.co_name})

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
        elif method == "test" and self._has_tests():
            self._test(rid, params)
        elif method == "configurationForm" and self._has_form():
            self._configuration_form(rid)
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
        self._load_form()
        self._initialized = True
        self._respond(rid, {
            "protocolVersion": version,
            "connector": {"name": name, "version": cversion},
            "capabilities": {"test": self._has_tests(), "configurationForm": self._has_form(),
                             "selectTables": self._selects_tables(), "operationSites": True},
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
            if _fatal(e):
                raise
            return
        self._declare(tables)
        self._respond(rid, {"tables": tables})

    def _declare(self, tables):
        """Remember the declared tables and columns: undeclared tables get a warning,
        declared columns no type hints. Row encoders compiled before are dropped."""
        with self._op_lock:
            self._declared_tables = set((t.get("schema"), t["table"]) for t in tables)
            self._declared_columns = {}
            for t in tables:
                key = t["table"] if t.get("schema") is None else (t["schema"], t["table"])
                cols = t.get("columns") or {}
                self._declared_columns[key] = frozenset(cols)
            for encoders in (self._rows_upsert, self._rows_update, self._rows_delete):
                encoders.clear()
            self._row_shapes.clear()

    def _load_form(self):
        """Calls the connector's configuration_form() once; keeps the form or the error."""
        fn = getattr(self.connector, "configuration_form_method", None)
        if fn is None or self._form is not None or self._form_error is not None:
            return
        try:
            form = fn()
            if not isinstance(form, ConfigurationForm):
                raise TypeError("configuration_form() must return a ConfigurationForm, got %s"
                                % type(form).__name__)
            self._form = form
        except Exception as e:
            _stderr("connector-host SDK: configuration_form() failed:\n" + traceback.format_exc())
            self._form_error = e

    def _has_form(self):
        return getattr(self.connector, "configuration_form_method", None) is not None

    def _selects_tables(self):
        """An update function with a parameter named `tables` selects tables (run --tables)."""
        fn = getattr(self.connector, "update_method", None)
        if fn is None:
            return False
        try:
            return "tables" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            return False

    def _has_tests(self):
        return self._form_error is not None or (self._form is not None and bool(self._form.tests))

    def _configuration_form(self, rid):
        if self._form_error is not None:
            self._respond_exception(rid, self._form_error)
            return
        self._respond(rid, self._form.to_wire())

    def _test(self, rid, params):
        config = self._check_configuration(rid, params, self._configuration)
        if config is None:
            return
        if self._form_error is not None:
            self._respond_exception(rid, self._form_error)
            return
        try:
            result = run_setup_tests(self._form, config, _stderr)
        except BaseException as e:
            self._respond_exception(rid, e)
            if _fatal(e):
                raise
            return
        self._respond(rid, result)

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
        staging = params.get("fileStaging")
        fn = self.connector.update_method
        selects = self._selects_tables()
        tables = _selected_tables(params.get("tables")) if selects else None
        with self._op_lock:
            self._ops = []
            self._chars = 0
            self._failure = None
            self._connector_error = None
            self._file_staging = staging if isinstance(staging, str) and staging else None
            self._sites = []
            self._sites_base = 1
            self._accepting = not (self.cancelled or self._eof)
        try:
            if not self._accepting:
                raise E.Cancelled()
            result = fn(config, state, tables=tables) if selects else fn(config, state)
            if result is not None and hasattr(result, "__next__"):
                # Generator-style update (older Fivetran connectors yield each
                # op); yielded values are ignored.
                for _ in result:
                    pass
            if self._connector_error is not None:
                # op.error was called and its exception caught by user code.
                raise E.ConnectorError(*self._connector_error)
            if self.cancelled:
                raise E.Cancelled()
            with self._op_lock:
                if self._failure is not None:
                    raise E.ProtocolError("update returned after a rejected checkpoint: %s"
                                          % self._failure)
                self._flush_locked()
                self._accepting = False
        except BaseException as e:
            if self._connector_error is not None and not isinstance(e, E.ConnectorError):
                # Whatever user code raised after op.error, the sync fails with op.error's message.
                e = E.ConnectorError(*self._connector_error)
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
            if _fatal(e):
                raise
            return
        self._respond(rid, {})


def _selected_tables(wire):
    """update's `tables` as the connector gets them: None for every table, else a list of
    names, a table of a named destination schema as (schema, table)."""
    if not isinstance(wire, list):
        return None
    selected = []
    for element in wire:
        if isinstance(element, dict) and isinstance(element.get("table"), str):
            schema = element.get("schema")
            selected.append((schema, element["table"]) if isinstance(schema, str) else element["table"])
    return selected


def _fatal(exc):
    """Exceptions that must keep propagating after the request was answered
    (SystemExit, KeyboardInterrupt), as opposed to errors of the connector."""
    return not isinstance(exc, (Exception, E.ConnectorError))


def check_table(table):
    if not isinstance(table, str):
        raise TypeError("table must be a string, got %s" % type(table).__name__)
    if not table.strip():
        raise ValueError("table must be a non-empty string")


def check_schema(schema):
    if not isinstance(schema, str):
        raise TypeError("schema must be a string or None, got %s" % type(schema).__name__)
    if not schema.strip():
        raise ValueError("schema must be a non-empty string (or None for the default schema)")


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
        dest = t.get("schema")
        if dest is not None:
            if not isinstance(dest, str) or not dest.strip():
                raise E.SchemaError("table %s: \"schema\" must be a non-empty string" % name,
                                    {"table": name})
            out["schema"] = dest
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
            if k not in ("table", "schema", "primaryKey", "primary_key", "columns"):
                out[k] = v
        tables.append(out)
    return tables
