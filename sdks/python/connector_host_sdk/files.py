"""File uploads: ``FileUpload(path, stream, expected_bytes=None)`` passed as
``file=`` to ``op.upsert``/``op.update``.

The SDK copies the stream into a new file in the staging folder the host names
in the ``update`` params (``fileStaging``), then sends the op with
``"file": {"path", "source", "size"}``. The host moves the file to
``files/storage/<schema>/<table>/<path>`` when the next checkpoint commits.
"""

import os
import tempfile
from dataclasses import dataclass
from typing import Optional

try:  # Python 3.8+: typing.Protocol, runtime_checkable
    from typing import Protocol, runtime_checkable
except ImportError:  # pragma: no cover
    Protocol = object

    def runtime_checkable(cls):
        return cls

__all__ = ["ByteStream", "FileUpload", "validate_file_upload", "stage_file"]

#: Bytes asked of ``stream.read`` per call.
READ_CHUNK_BYTES = 1 << 20
#: The largest ``expected_bytes`` (a signed 64-bit size, as in the Fivetran SDK).
MAX_EXPECTED_BYTES = (1 << 63) - 1


@runtime_checkable
class ByteStream(Protocol):
    """Anything with ``read(size) -> bytes``: an open binary file, ``io.BytesIO``,
    an HTTP response body, ..."""

    def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class FileUpload:
    """A file to store with a row. ``path`` is where it lands, relative to the
    table's storage folder (surrounding whitespace is removed); ``stream`` is
    read to its end; ``expected_bytes``, when given, must equal the number of
    bytes read."""

    path: str
    stream: ByteStream
    expected_bytes: Optional[int] = None

    def __post_init__(self) -> None:
        if isinstance(self.path, str):
            object.__setattr__(self, "path", self.path.strip())


def validate_file_upload(upload: object) -> None:
    """Raises TypeError/ValueError naming what is wrong with a ``file=`` argument."""
    if not isinstance(upload, FileUpload):
        raise TypeError("file must be a FileUpload(path, stream), got %s" % type(upload).__name__)
    path = upload.path
    if not isinstance(path, str):
        raise TypeError("FileUpload path must be a string, got %s" % type(path).__name__)
    if not path:
        raise ValueError("FileUpload path must not be empty")
    if "\x00" in path:
        raise ValueError("FileUpload path %r contains a NUL character; remove it" % path)
    if path.startswith("/"):
        raise ValueError("FileUpload path %r is absolute; give a path relative to the table's "
                         "storage folder, e.g. %r" % (path, path.lstrip("/")))
    if path.endswith("/"):
        raise ValueError("FileUpload path %r ends with '/'; it must name a file, e.g. %r"
                         % (path, path.rstrip("/")))
    if "//" in path:
        raise ValueError("FileUpload path %r contains '//'; separate folders with one '/'" % path)
    if ".." in path.split("/"):
        raise ValueError("FileUpload path %r contains a '..' segment; paths must stay inside "
                         "the table's storage folder" % path)
    if not isinstance(upload.stream, ByteStream):
        raise TypeError("FileUpload stream must have a read(size) method (an open binary file, "
                        "io.BytesIO, ...), got %s" % type(upload.stream).__name__)
    expected = upload.expected_bytes
    if expected is not None:
        if type(expected) is not int:
            raise TypeError("FileUpload expected_bytes must be an int or None, got %s"
                            % type(expected).__name__)
        if expected < 0 or expected > MAX_EXPECTED_BYTES:
            raise ValueError("FileUpload expected_bytes must be between 0 and %d, got %d"
                             % (MAX_EXPECTED_BYTES, expected))


def stage_file(upload: FileUpload, staging: str) -> tuple:
    """Copies ``upload.stream`` into a new file in ``staging``.

    Returns ``(source, size)``: the new file's absolute path and its size.
    Raises TypeError when ``read`` returns something other than bytes and
    ValueError when the size differs from ``expected_bytes``; the partial file
    is removed then."""
    fd, source = tempfile.mkstemp(prefix="upload-", dir=staging)
    size = 0
    try:
        read = upload.stream.read
        while True:
            chunk = read(READ_CHUNK_BYTES)
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError("FileUpload %r: stream.read() returned %s, not bytes (open files "
                                "in binary mode, 'rb')" % (upload.path, type(chunk).__name__))
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            size += len(chunk)
        expected = upload.expected_bytes
        if expected is not None and size != expected:
            raise ValueError("FileUpload %r: expected_bytes is %d but the stream gave %d bytes"
                             % (upload.path, expected, size))
    except BaseException:
        os.close(fd)
        try:
            os.unlink(source)
        except OSError:
            pass
        raise
    os.close(fd)
    return os.path.abspath(source), size
