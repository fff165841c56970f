"""Public API of the native SDK: Connector, Operations, Logging."""

import enum
import json
import os
import shutil
import subprocess
import sys
import tempfile

from . import session as _session
from .errors import ProtocolError

_SDK_PACKAGES = ("connector_host_sdk", "fivetran_connector_sdk")


def _no_session():
    raise ProtocolError(
        "no connector-host session: operations work only while connector-host runs this "
        "connector (connector-host run DIR, or python3 -m connector_host_sdk.run connector.py)")


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
    """A connector: ``update(configuration, state)`` and optional
    ``schema(configuration)``. Assign it to a module-level ``connector``."""

    def __init__(self, update, schema=None, name=None, version=None):
        if not callable(update):
            raise TypeError("Connector(update=...) must be a function")
        if schema is not None and not callable(schema):
            raise TypeError("Connector(schema=...) must be a function")
        self.update_method = update
        self.schema_method = schema
        self.name = name
        self.version = version
        self.source_file = _caller_file()

    def debug(self, project_path=None, configuration=None, state=None, log_level=None):
        """Run this connector locally under connector-host.

        Replaces this process with ``connector-host run DIR`` (DIR = the
        connector file's directory unless ``project_path`` is given). Finds
        ``connector-host`` through $CONNECTOR_HOST_BIN, then PATH. With a
        ``configuration`` dict, it is written to a temporary file passed as
        ``--configuration FILE`` and the host runs as a child process instead.
        ``log_level`` (a Logging.Level or a level name) becomes ``--log-level``.
        ``state`` is accepted for Fivetran compatibility and ignored (the host
        keeps state in DIR/files/state.json). CONNECTOR_HOST_PYTHON_SDK is set
        to this SDK's folder unless already set, so the host runs the
        connector with the same SDK."""
        if _session.current() is not None:
            # Already running under connector-host: never start a second host.
            sys.stderr.write("connector-host SDK: debug() ignored inside connector-host\n")
            return None
        directory = project_path
        if directory is None:
            src = self.source_file
            directory = os.path.dirname(os.path.abspath(src)) if src else os.getcwd()
        directory = os.path.abspath(directory)
        binary = find_host_binary()
        if state:
            sys.stderr.write("connector-host SDK: debug(state=...) is ignored; the host keeps "
                             "state in %s\n" % os.path.join(directory, "files", "state.json"))
        argv = [binary, "run", directory]
        if log_level is not None:
            argv += ["--log-level", _host_log_level(log_level)]
        os.environ.setdefault("CONNECTOR_HOST_PYTHON_SDK",
                              os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        sys.stdout.flush()
        sys.stderr.flush()
        if configuration is None:
            os.execv(binary, argv)
        if not isinstance(configuration, dict):
            raise TypeError("configuration must be a dict")
        fd, path = tempfile.mkstemp(prefix="connector-configuration-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(configuration, f)
            rc = subprocess.call(argv + ["--configuration", path])
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
        raise SystemExit(rc)


def _host_log_level(level):
    name = getattr(level, "name", level)
    name = str(name).lower()
    return {"fine": "debug", "severe": "error", "critical": "error", "warn": "warning"}.get(name, name)


def find_host_binary():
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


class Operations(object):
    """Record operations. Each returns None (harmless to ``yield``)."""

    @staticmethod
    def upsert(table, data):
        """Insert or replace the whole row (columns left out become NULL)."""
        s = _session._current
        if s is None:
            _no_session()
        s.upsert(table, data)

    @staticmethod
    def update(table, modified):
        """Change only the named columns; must carry every primary-key column."""
        s = _session._current
        if s is None:
            _no_session()
        s.update(table, modified)

    @staticmethod
    def delete(table, keys):
        """Soft-delete the row with these primary-key values."""
        s = _session._current
        if s is None:
            _no_session()
        s.delete(table, keys)

    @staticmethod
    def truncate(table):
        """Soft-delete every row of the table written before this call."""
        s = _session._current
        if s is None:
            _no_session()
        s.truncate(table)

    @staticmethod
    def checkpoint(state):
        """Flush records and commit them with ``state``; blocks until the host
        acknowledges. Raises CheckpointError if the host answers with an error."""
        s = _session._current
        if s is None:
            _no_session()
        s.checkpoint(state)


class Logging(object):
    """Log messages, sent to the host as ``log`` notifications.
    fine -> debug, severe/critical -> error."""

    class Level(enum.IntEnum):
        FINE = 1
        INFO = 2
        WARNING = 3
        SEVERE = 4

    #: Messages below this level are dropped (None: send everything).
    LOG_LEVEL = None

    _RANK = {"debug": 1, "info": 2, "warning": 3, "error": 4}

    @staticmethod
    def _log(level, message):
        threshold = Logging.LOG_LEVEL
        if threshold is not None and Logging._RANK[level] < int(threshold):
            return
        s = _session._current
        if s is None:
            sys.stderr.write("[%s] %s\n" % (level.upper(), message))
            return
        s.log(level, message)

    @staticmethod
    def fine(message):
        Logging._log("debug", message)

    @staticmethod
    def debug(message):
        Logging._log("debug", message)

    @staticmethod
    def info(message):
        Logging._log("info", message)

    @staticmethod
    def warning(message):
        Logging._log("warning", message)

    @staticmethod
    def error(message):
        Logging._log("error", message)

    @staticmethod
    def severe(message, exception=None):
        if exception is not None:
            message = "%s: %s" % (message, exception)
        Logging._log("error", message)

    @staticmethod
    def critical(message):
        Logging._log("error", message)
