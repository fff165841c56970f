"""Protect the protocol descriptors, load the connector file, serve."""

import importlib.util
import io
import os
import signal
import sys
import threading
import traceback

from . import fivetran
from . import session as _session
from .core import Connector


def protect_stdio():
    """Move the protocol off fds 0/1 before any user code runs.

    Returns (in_fd, out_fd) for the protocol. Afterwards fd 1 is a copy of
    stderr (so print(), sys.stdout writes and C-level writes to fd 1 land on
    stderr) and fd 0 reads /dev/null (so neither user code nor its child
    processes can consume protocol input). The protocol descriptors are
    non-inheritable (os.dup), so child processes never hold them open."""
    try:
        sys.stdout.flush()
    except Exception:
        pass
    out_fd = os.dup(1)
    os.dup2(2, 1)
    in_fd = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdout = PrintToLog(open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace",
                                 closefd=False))
    return in_fd, out_fd


class PrintToLog(io.TextIOBase):
    """``sys.stdout`` under connector-host: each printed line becomes an info ``log`` message.

    A ``log`` message travels on the protocol stream, in order with ``Logging`` calls; stderr is
    another pipe, which the host reads apart, so a ``print()`` shown from stderr could appear before
    a log line written earlier. Before ``initialize`` (prints at import time) and whenever the
    protocol stream fails, lines go to ``fallback`` (fd 1, a copy of stderr), as do writes to fd 1
    that bypass ``sys.stdout`` (C extensions, child processes)."""

    def __init__(self, fallback):
        super().__init__()
        self._fallback = fallback
        self._partial = ""
        self._lock = threading.Lock()

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "backslashreplace"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fallback.fileno()  # children given sys.stdout write to stderr

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self):
        # A partial line flushed on purpose (print(..., end="", flush=True)) is shown as it is.
        with self._lock:
            line, self._partial = self._partial, ""
        if line:
            self._emit(line)

    def _emit(self, line):
        from . import session as _session
        current = _session.current()
        if current is not None and current._initialized:
            try:
                current.log("info", line)
                return
            except Exception:
                pass
        self._fallback.write(line + "\n")
        self._fallback.flush()


def load_module(path):
    """Import the connector file as a module named after the file (its
    directory first on sys.path, so sibling imports work). Never as
    __main__, so an ``if __name__ == "__main__": connector.debug()`` block
    does not run."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    name = os.path.splitext(os.path.basename(path))[0] or "connector"
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s as a Python module" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def find_connector(module):
    """The module-level Connector: ``connector`` if it is one, else the only
    Connector instance among the module's globals."""
    c = getattr(module, "connector", None)
    if isinstance(c, Connector):
        return c
    found = [(k, v) for k, v in vars(module).items() if isinstance(v, Connector)]
    unique = []
    for k, v in found:
        if all(v is not u for _, u in unique):
            unique.append((k, v))
    if len(unique) == 1:
        return unique[0][1]
    if not unique:
        raise LookupError("%s defines no Connector; add `connector = Connector(update=update, "
                          "schema=schema)` at module level" % module.__file__)
    raise LookupError("%s defines several Connector instances (%s); name the one to run "
                      "`connector`" % (module.__file__, ", ".join(k for k, _ in unique)))


def _install_sigint(session):
    """First Ctrl-C (the terminal signals the whole process group when the
    user interrupts the host) marks the sync cancelled, like a ``cancel``
    notification, so the host stays in charge of stopping; a second one
    raises KeyboardInterrupt as usual."""
    def handler(signum, frame):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        session._cancel()
    try:
        signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):
        pass


def main(argv):
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python3 -m connector_host_sdk.run /path/to/connector.py\n")
        return 2
    path = os.path.abspath(argv[0])
    if not os.path.isfile(path):
        sys.stderr.write("connector-host SDK: no such file: %s\n" % path)
        return 2
    in_fd, out_fd = protect_stdio()
    fivetran.bind()  # `import fivetran_connector_sdk` is this SDK here, whatever else is installed
    default_name = os.path.basename(os.path.dirname(path)) or "connector"
    session = _session.Session(in_fd, out_fd, default_name=default_name)
    _session._set_current(session)  # log calls at import time go to stderr
    sys.argv = [path]
    try:
        module = load_module(path)
        session.connector = find_connector(module)
    except SystemExit:
        raise
    except BaseException:
        sys.stderr.write("connector-host SDK: cannot load %s\n" % path)
        traceback.print_exc()
        return 1
    _install_sigint(session)
    return session.serve()
