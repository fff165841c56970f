"""Public API of the native SDK: Connector, Operations, Logging."""

import enum
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from typing import Any, Callable, Dict, Optional, Union

from . import session as _session
from .session import _CODE_IS_SDK, _site_from
from .errors import ConnectorError, ProtocolError
from .files import FileUpload
from .forms import ConfigurationForm

_SDK_PACKAGES = ("connector_host_sdk", "fivetran_connector_sdk")
_getframe = sys._getframe

UpdateFunction = Callable[[Dict[str, str], Dict[str, Any]], Any]
SchemaFunction = Callable[[Dict[str, str]], Any]
FormFunction = Callable[[], ConfigurationForm]


def _no_session():
    raise ProtocolError(
        "no connector-host session: operations work only while connector-host runs this "
        "connector (connector-host run DIR, or connector.debug())")


def _caller_file():
    """__file__ of the first frame outside the SDK packages (the connector file)."""
    try:
        frame = sys._getframe(1)
    except Exception:
        return None
    while frame is not None:
        g = frame.f_globals
        name = g.get("__name__") or ""
        if name.split(".")[0] not in _SDK_PACKAGES:
            return g.get("__file__")
        frame = frame.f_back
    return None


class Connector(object):
    """A connector: ``update(configuration, state)``, optional
    ``schema(configuration)`` and optional ``configuration_form()`` (returns a
    ConfigurationForm). Assign it to a module-level ``connector``."""

    def __init__(self, update: UpdateFunction, schema: Optional[SchemaFunction] = None,
                 configuration_form: Optional[FormFunction] = None, *,
                 name: Optional[str] = None, version: Optional[str] = None) -> None:
        if not callable(update):
            raise TypeError("Connector(update=...) must be a function")
        if schema is not None and not callable(schema):
            raise TypeError("Connector(schema=...) must be a function")
        if configuration_form is not None and not callable(configuration_form):
            raise TypeError("Connector(configuration_form=...) must be a function that returns a "
                            "ConfigurationForm")
        self.update_method = update
        self.schema_method = schema
        self.configuration_form_method = configuration_form
        self.name = name
        self.version = version
        self.source_file = _caller_file()

    def debug(self, project_path: Optional[str] = None, configuration: Optional[Dict[str, str]] = None,
              state: Optional[Dict[str, Any]] = None, naming: Optional[str] = None,
              log_level: Any = None, state_path: Optional[str] = None) -> None:
        """Sync this connector locally, with its code running in this process.

        Starts ``connector-host run DIR --attach FD_IN,FD_OUT`` as a child
        process and serves the protocol over two pipes on this thread, so the
        connector's code runs here (IDE breakpoints work) and the host writes
        the warehouse and prints its report to this terminal. DIR is
        ``project_path`` or the connector file's folder. ``connector-host`` is
        found through $CONNECTOR_HOST_BIN, then PATH.

        ``configuration`` and ``state`` (dicts) reach the host as temporary
        files (``--configuration``, ``--state``); ``state_path`` is passed as
        ``--state`` when no ``state`` is given. ``log_level`` (a Logging.Level
        or a level name; default DEBUG, as in the Fivetran SDK) becomes
        ``--log-level``. ``naming`` is accepted and ignored (names are kept as
        sent). Returns when the sync succeeded; raises SystemExit with the
        host's exit status when it failed. Inside connector-host it does nothing."""
        if _session.current() is not None:
            # Already running under connector-host: never start a second host.
            sys.stderr.write("connector-host SDK: debug() ignored inside connector-host\n")
            return None
        directory = project_path
        if directory is None:
            src = self.source_file
            directory = os.path.dirname(os.path.abspath(src)) if src else os.getcwd()
        directory = os.path.abspath(directory)
        if configuration is not None and not isinstance(configuration, dict):
            raise TypeError("debug(configuration=...) must be a dict")
        if state is not None and not isinstance(state, dict):
            raise TypeError("debug(state=...) must be a dict")
        binary = find_host_binary()
        if naming is not None:
            sys.stderr.write("connector-host SDK: debug(naming=...) is ignored; table and column "
                             "names are kept as the connector sends them\n")
        level = Logging.Level.DEBUG if log_level is None else log_level
        Logging.LOG_LEVEL = _level_rank(level)
        if not _supports_attach(binary):
            return _run_in_child(binary, directory, configuration, _host_log_level(level))
        return _attach(self, binary, directory, configuration, state, state_path, _host_log_level(level))


def _supports_attach(binary):
    """Whether this connector-host has ``run --attach`` (older ones do not)."""
    try:
        p = subprocess.run([binary, "run", "--help"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return b"--attach" in p.stdout


def _run_in_child(binary, directory, configuration, log_level):
    """For a host without --attach: ``connector-host run DIR`` starts the
    connector in a process of its own (breakpoints here are not hit)."""
    sys.stderr.write("connector-host SDK: %s has no `run --attach`; the connector runs in a child process "
                     "(update connector-host to debug it in this process)\n" % binary)
    scratch = tempfile.mkdtemp(prefix="connector-host-debug-")
    try:
        argv = [binary, "run", directory, "--log-level", log_level]
        if configuration is not None:
            argv += ["--configuration", _write_json(scratch, "configuration.json", configuration)]
        env = dict(os.environ)
        env.setdefault("CONNECTOR_HOST_PYTHON_SDK", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        sys.stdout.flush()
        sys.stderr.flush()
        rc = subprocess.call(argv, env=env)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if rc != 0:
        raise SystemExit(rc)
    return None


def _attach(connector, binary, directory, configuration, state, state_path, log_level):
    """``connector-host run DIR --attach`` as a child; this thread serves the protocol."""
    scratch = tempfile.mkdtemp(prefix="connector-host-debug-")  # 0700: configuration may hold secrets
    fds = []
    old_handler = None
    try:
        argv = [binary, "run", directory]
        if configuration is not None:
            argv += ["--configuration", _write_json(scratch, "configuration.json", configuration)]
        if state is not None:
            argv += ["--state", _write_json(scratch, "state.json", state)]
        elif state_path is not None:
            argv += ["--state", os.path.abspath(state_path)]
        argv += ["--log-level", log_level]
        to_host_r, to_host_w = os.pipe()  # non-inheritable: only pass_fds reach the host
        fds += [to_host_r, to_host_w]
        from_host_r, from_host_w = os.pipe()
        fds += [from_host_r, from_host_w]
        argv += ["--attach", "%d,%d" % (to_host_r, from_host_w)]
        sys.stdout.flush()
        sys.stderr.flush()
        host = subprocess.Popen(argv, pass_fds=(to_host_r, from_host_w))
        for fd in (to_host_r, from_host_w):  # the host holds them now
            os.close(fd)
            fds.remove(fd)
        session = _session.Session(from_host_r, to_host_w, connector=connector,
                                   default_name=os.path.basename(directory) or "connector",
                                   exit_on_eof=False)
        old_handler = _install_sigint(session)
        try:
            session.serve()
        finally:
            _session._set_current(None)
            for fd in (from_host_r, to_host_w):  # EOF for the host, if it still reads
                os.close(fd)
                fds.remove(fd)
        rc = host.wait()
    finally:
        if old_handler is not None:
            try:
                signal.signal(signal.SIGINT, old_handler)
            except (ValueError, OSError):
                pass
        for fd in fds:
            os.close(fd)
        shutil.rmtree(scratch, ignore_errors=True)
    if rc != 0:
        raise SystemExit(rc)
    return None


def _write_json(directory, name, value):
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(value, f)
    return path


def _install_sigint(session):
    """Ctrl-C reaches the host and this process alike; the host stops the sync
    (it sends ``cancel``). The first Ctrl-C here marks the sync cancelled too,
    a second one raises KeyboardInterrupt. Returns the previous handler (None
    when not on the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        session._cancel()
    try:
        return signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):
        return None


def _host_log_level(level):
    name = getattr(level, "name", level)
    name = str(name).lower()
    return {"fine": "debug", "severe": "error", "critical": "error", "warn": "warning"}.get(name, name)


def find_host_binary() -> str:
    """Path of the connector-host executable ($CONNECTOR_HOST_BIN, then PATH).
    Raises SystemExit with a clear message when it cannot be found."""
    env = os.environ.get("CONNECTOR_HOST_BIN")
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return os.path.abspath(env)
        raise SystemExit("connector-host SDK: CONNECTOR_HOST_BIN=%r is not an executable file" % env)
    found = shutil.which("connector-host")
    if found:
        return found
    raise SystemExit(
        "connector-host SDK: cannot find the connector-host executable. Put it on PATH or set "
        "CONNECTOR_HOST_BIN=/path/to/connector-host (build it in the repository root with "
        "`swift build -c release`; it lands in .build/release/connector-host).")


def _check_message(message):
    if not isinstance(message, str):
        raise TypeError("message must be a string, got %s" % type(message).__name__)
    if not message.strip():
        raise ValueError("message must be a non-empty string")


class Operations(object):
    """Record operations. Each returns None (harmless to ``yield``). ``schema``
    names the destination schema of the table (None: the default one)."""

    @staticmethod
    def upsert(table: str, data: Dict[str, Any], *, schema: Optional[str] = None,
               file: Optional[FileUpload] = None) -> None:
        """Insert or replace the whole row (columns left out become NULL).
        ``file=FileUpload(...)`` stores a file with the row."""
        s = _session._current
        if s is None:
            _no_session()
        if file is None:
            # The call site from the caller's frame (see session._caller_site); _site_from's first
            # step inlined for a caller already known not to be the SDK's.
            f = _getframe(1)
            code = f.f_code
            known = _CODE_IS_SDK.get(id(code))
            if known is not None and known[0] is code and not known[1]:
                s.upsert(table, data, schema, (code, f.f_lasti))
            else:
                s.upsert(table, data, schema, _site_from(f))
        else:
            s.with_file("upsert", table, data, schema, file)

    @staticmethod
    def update(table: str, modified: Dict[str, Any], *, schema: Optional[str] = None,
               file: Optional[FileUpload] = None) -> None:
        """Change only the named columns; must carry every primary-key column."""
        s = _session._current
        if s is None:
            _no_session()
        if file is None:
            # The call site from the caller's frame (see session._caller_site).
            s.update(table, modified, schema, _site_from(_getframe(1)))
        else:
            s.with_file("update", table, modified, schema, file)

    @staticmethod
    def delete(table: str, keys: Dict[str, Any], *, schema: Optional[str] = None) -> None:
        """Soft-delete the row with these primary-key values."""
        s = _session._current
        if s is None:
            _no_session()
        s.delete(table, keys, schema, _site_from(_getframe(1)))

    @staticmethod
    def truncate(table: str, *, schema: Optional[str] = None) -> None:
        """Soft-delete every row of the table written before this call."""
        s = _session._current
        if s is None:
            _no_session()
        s.truncate(table, schema)

    @staticmethod
    def checkpoint(state: Dict[str, Any]) -> None:
        """Flush records and commit them with ``state``; blocks until the host
        acknowledges. Raises CheckpointError if the host answers with an error."""
        s = _session._current
        if s is None:
            _no_session()
        s.checkpoint(state)

    @staticmethod
    def warning(message: str) -> None:
        """A warning for the user (the host shows the first 10 of a sync and
        counts the rest); the sync goes on."""
        _check_message(message)
        s = _session._current
        if s is None:
            sys.stderr.write("[WARNING] %s\n" % message)
            return
        s.warning(message)

    @staticmethod
    def error(message: str, trace: Optional[str] = None) -> None:
        """Fail the sync with ``message`` (and ``trace``, e.g. a stack trace).
        Raises ConnectorError, a BaseException, so ``except Exception`` in the
        connector does not swallow it."""
        _check_message(message)
        if trace is not None and not isinstance(trace, str):
            raise TypeError("trace must be a string or None, got %s" % type(trace).__name__)
        s = _session._current
        if s is None:
            raise ConnectorError(message, trace)
        s.report_error(message, trace)


class Logging(object):
    """Log messages, sent to the host as ``log`` notifications. On the wire:
    debug and fine -> "debug", severe -> "error", critical -> "critical"."""

    class Level(enum.IntEnum):
        DEBUG = 1
        FINE = 2
        INFO = 3
        WARNING = 4
        ERROR = 5
        SEVERE = 6
        CRITICAL = 7

    #: Messages below this level are dropped (None: send everything; the host
    #: filters with --log-level).
    LOG_LEVEL: Optional[Union[int, "Logging.Level"]] = None

    @staticmethod
    def _log(rank, wire, message, exception=None):
        threshold = Logging.LOG_LEVEL
        if threshold is not None and rank < _level_rank(threshold):
            return
        if not isinstance(message, str):
            message = str(message)
        if exception is not None:
            tb = "".join(traceback.format_exception(type(exception), exception,
                                                    getattr(exception, "__traceback__", None)))
            message = message + "\n" + tb.rstrip("\n")
        s = _session._current
        if s is None:
            sys.stderr.write("[%s] %s\n" % (Logging.Level(rank).name, message))
            return
        s.log(wire, message)

    @staticmethod
    def debug(message: str) -> None:
        Logging._log(1, "debug", message)

    @staticmethod
    def fine(message: str) -> None:
        Logging._log(2, "debug", message)

    @staticmethod
    def info(message: str) -> None:
        Logging._log(3, "info", message)

    @staticmethod
    def warning(message: str) -> None:
        Logging._log(4, "warning", message)

    @staticmethod
    def error(message: str, exception: Optional[BaseException] = None) -> None:
        """An error message; with ``exception``, its traceback is appended."""
        Logging._log(5, "error", message, exception)

    @staticmethod
    def severe(message: str, exception: Optional[BaseException] = None) -> None:
        Logging._log(6, "error", message, exception)

    @staticmethod
    def critical(message: str, exception: Optional[BaseException] = None) -> None:
        Logging._log(7, "critical", message, exception)


def _level_rank(level):
    """A Logging.Level, an int or a level name -> its rank (1..7)."""
    if isinstance(level, str):
        try:
            return int(Logging.Level[level.strip().upper()])
        except KeyError:
            raise ValueError("unknown log level %r; use one of %s"
                             % (level, ", ".join(l.name for l in Logging.Level)))
    return int(level)
