"""The PEP 517 / PEP 660 build backend of connector-host's Python SDK, standard
library only, so that ``pip install ./sdks/python`` needs no network and no
build dependencies (``[build-system] requires = []``).

It reads the PEP 621 ``[project]`` table of pyproject.toml and writes:

* the wheel ``connector_host_sdk-<version>-py3-none-any.whl``: the
  ``connector_host_sdk`` package; ``fivetran_connector_sdk/__init__.py`` of the
  source tree placed at ``connector_host_sdk/fivetran_import_path/fivetran_connector_sdk/``
  (never as a top-level package: that name belongs to Fivetran's own
  distribution); and ``connector_host_sdk.pth``, which appends that folder to
  ``sys.path`` after site-packages, so ``import fivetran_connector_sdk`` finds
  Fivetran's package when it is installed and this SDK's otherwise;
* the editable wheel (``pip install -e``): a ``.pth`` naming the source folder;
* the sdist ``connector_host_sdk-<version>.tar.gz``.

Archives are reproducible: sorted entries, fixed timestamps and modes.
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "connector_host_sdk"
ALIAS_SOURCE = "fivetran_connector_sdk/__init__.py"
ALIAS_TARGET = PACKAGE + "/fivetran_import_path/fivetran_connector_sdk/__init__.py"
PTH_NAME = PACKAGE + ".pth"
PTH_LINE = PACKAGE + "/fivetran_import_path\n"
SDIST_PARTS = ("pyproject.toml", "README.md", "build_support", PACKAGE, "fivetran_connector_sdk", "tests",
               "benchmarks")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
TAR_TIME = 315532800  # 1980-01-01


# ---------------------------------------------------------------- pyproject.toml

def _parse_value(text, where):
    text = text.strip()
    if text.startswith('"'):
        value, rest = _parse_string(text, where)
        if rest.strip():
            raise ValueError("%s: unexpected %r after a string" % (where, rest.strip()))
        return value
    if text.startswith("["):
        items = []
        rest = text[1:].strip()
        while not rest.startswith("]"):
            value, rest = _parse_string(rest, where)
            items.append(value)
            rest = rest.strip()
            if rest.startswith(","):
                rest = rest[1:].strip()
            elif not rest.startswith("]"):
                raise ValueError("%s: expected ',' or ']' in an array" % where)
        return items
    if text.startswith("{"):
        table = {}
        body = text[1:].rstrip()
        if not body.endswith("}"):
            raise ValueError("%s: unterminated inline table" % where)
        for part in filter(None, (p.strip() for p in body[:-1].split(","))):
            key, _, value = part.partition("=")
            table[key.strip()] = _parse_value(value, where)
        return table
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise ValueError("%s: unsupported value %r" % (where, text))


def _parse_string(text, where):
    match = re.match(r'"((?:[^"\\]|\\.)*)"', text)
    if not match:
        raise ValueError("%s: expected a string" % where)
    raw = match.group(1)
    value = re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), raw)
    return value, text[match.end():]


def _strip_comment(line):
    out, quoted = [], False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        if ch == "#" and not quoted:
            break
        out.append(ch)
    return "".join(out).rstrip()


def parse_toml(text):
    """The subset of TOML that pyproject.toml uses here: [tables] and
    [dotted.tables], ``key = value`` with strings, arrays of strings (over
    several lines), inline tables of strings, booleans and integers.
    (tomllib exists only from Python 3.11; this SDK supports 3.9.)"""
    data = {}
    table = data
    pending = None
    for number, line in enumerate(text.splitlines(), 1):
        line = _strip_comment(line)
        where = "pyproject.toml line %d" % number
        if pending is not None:
            pending[1] += " " + line.strip()
            if pending[1].rstrip().endswith("]"):
                table[pending[0]] = _parse_value(pending[1], where)
                pending = None
            continue
        if not line.strip():
            continue
        if line.startswith("["):
            table = data
            for part in line.strip()[1:-1].split("."):
                table = table.setdefault(part.strip().strip('"'), {})
            continue
        key, eq, value = line.partition("=")
        if not eq:
            raise ValueError("%s: expected key = value" % where)
        key = key.strip().strip('"')
        if value.strip().startswith("[") and not value.strip().endswith("]"):
            pending = [key, value.strip()]
            continue
        table[key] = _parse_value(value, where)
    return data


def project():
    """The [project] table of pyproject.toml."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    try:
        import tomllib
        return tomllib.loads(text)["project"]
    except ImportError:
        return parse_toml(text)["project"]


def metadata_text(meta):
    """Core metadata (METADATA / PKG-INFO), version 2.1."""
    lines = ["Metadata-Version: 2.1", "Name: " + meta["name"], "Version: " + meta["version"]]
    if meta.get("description"):
        lines.append("Summary: " + meta["description"])
    if meta.get("requires-python"):
        lines.append("Requires-Python: " + meta["requires-python"])
    for author in meta.get("authors", []):
        if author.get("name"):
            lines.append("Author: " + author["name"])
    for keyword in meta.get("keywords", [])[:1]:
        lines.append("Keywords: " + ",".join(meta["keywords"]))
    for classifier in meta.get("classifiers", []):
        lines.append("Classifier: " + classifier)
    for label, url in sorted(meta.get("urls", {}).items()):
        lines.append("Project-URL: %s, %s" % (label, url))
    for dependency in meta.get("dependencies", []):
        lines.append("Requires-Dist: " + dependency)
    body = ""
    readme = meta.get("readme")
    if readme:
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


def _names(meta):
    dist = re.sub(r"[-_.]+", "_", meta["name"]).lower()
    return dist, "%s-%s.dist-info" % (dist, meta["version"])


# --------------------------------------------------------------------- archives

def _package_files():
    """(archive name, source path) of every file of the package, sorted."""
    files = []
    for folder, dirs, names in os.walk(os.path.join(ROOT, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            files.append((os.path.relpath(path, ROOT).replace(os.sep, "/"), path))
    return files


def _read(path):
    with open(path, "rb") as f:
        return f.read()


class _Wheel(object):
    def __init__(self, path):
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.records = []

    def add(self, name, data):
        info = zipfile.ZipInfo(name, ZIP_TIME)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zip.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        self.records.append("%s,sha256=%s,%d" % (name, digest, len(data)))

    def close(self, dist_info):
        record = dist_info + "/RECORD"
        text = "\n".join(self.records + [record + ",,"]) + "\n"
        info = zipfile.ZipInfo(record, ZIP_TIME)
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, text)
        self.zip.close()


def _dist_info_files(meta):
    wheel = ("Wheel-Version: 1.0\nGenerator: connector-host stdlib_backend\n"
             "Root-Is-Purelib: true\nTag: py3-none-any\n")
    return [("METADATA", metadata_text(meta).encode("utf-8")), ("WHEEL", wheel.encode()),
            ("top_level.txt", (PACKAGE + "\n").encode())]


def _build(wheel_directory, editable):
    meta = project()
    dist, dist_info = _names(meta)
    filename = "%s-%s-py3-none-any.whl" % (dist, meta["version"])
    wheel = _Wheel(os.path.join(wheel_directory, filename))
    if editable:
        # The source folder after site-packages: connector_host_sdk, and a fivetran_connector_sdk
        # that Fivetran's own package (in site-packages) shadows when it is installed.
        wheel.add("__editable__.%s.pth" % dist, (ROOT + "\n").encode("utf-8"))
    else:
        for name, path in _package_files():
            wheel.add(name, _read(path))
        wheel.add(ALIAS_TARGET, _read(os.path.join(ROOT, ALIAS_SOURCE)))
        wheel.add(PTH_NAME, PTH_LINE.encode())
    for name, data in _dist_info_files(meta):
        wheel.add(dist_info + "/" + name, data)
    wheel.close(dist_info)
    return filename


# ------------------------------------------------------------------- PEP 517/660

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    meta = project()
    _, dist_info = _names(meta)
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    for name, data in _dist_info_files(meta):
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory, editable=False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None):
    meta = project()
    dist, _ = _names(meta)
    base = "%s-%s" % (dist, meta["version"])
    filename = base + ".tar.gz"
    entries = [("PKG-INFO", metadata_text(meta).encode("utf-8"))]
    for part in SDIST_PARTS:
        path = os.path.join(ROOT, part)
        if os.path.isfile(path):
            entries.append((part, _read(path)))
            continue
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(names):
                if not name.endswith((".pyc", ".pyo")):
                    full = os.path.join(folder, name)
                    entries.append((os.path.relpath(full, ROOT).replace(os.sep, "/"), _read(full)))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(entries):
            info = tarfile.TarInfo(base + "/" + name)
            info.size, info.mtime, info.mode = len(data), TAR_TIME, 0o644
            tar.addfile(info, io.BytesIO(data))
    import gzip
    with open(os.path.join(sdist_directory, filename), "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", mtime=TAR_TIME, filename="") as gz:
            gz.write(raw.getvalue())
    return filename
