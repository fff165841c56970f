"""Python value -> protocol JSON text.

Fast path: the C JSON encoder encodes dict/list/tuple/str/int/float/bool/None
natively; every other object reaches ``_default`` (a hook the C encoder calls
only for types it does not know), so rows made only of JSON-native values cost
one C call and no per-value Python work.

Slow path (only when the fast path raises): NaN/Infinity floats become null
(reported once through ``on_nan``) and non-string dict keys are converted.

Mapping (see README.md for the table):
    bool -> true/false; int -> JSON integer (always, any size); float -> JSON
    number, repr() precision; str -> string; Decimal -> plain decimal string
    (no exponent); aware datetime -> RFC 3339 UTC with "Z"; naive datetime ->
    "YYYY-MM-DDTHH:MM:SS[.ffffff]"; date -> "YYYY-MM-DD"; bytes/bytearray/
    memoryview -> base64 (padded); dict/list/tuple -> JSON (recursively);
    set/frozenset -> JSON array; other Mapping -> JSON object; objects with
    __index__ (e.g. numpy integers) -> JSON integer; anything else (UUID,
    time, Enum, ...) -> str(obj).
"""

import base64
import datetime as _dt
import decimal
import json
import math
import operator
from collections.abc import Mapping

_datetime = _dt.datetime
_date = _dt.date
_Decimal = decimal.Decimal
_b64encode = base64.b64encode
_index = operator.index

__all__ = ["Encoder", "to_json_value", "format_datetime", "make_row_encoder"]


def format_datetime(value):
    """datetime -> protocol text. Aware: converted to UTC, 'Z' suffix. Naive:
    'YYYY-MM-DDTHH:MM:SS[.ffffff]'. Microseconds appear only when non-zero."""
    offset = value.utcoffset()
    if offset is None:
        return value.isoformat()
    utc = (value.replace(tzinfo=None) - offset)
    return utc.isoformat() + "Z"


class _NonFinite(object):
    """Marker returned by the scalar converter for NaN/Infinity values."""


_NON_FINITE = _NonFinite()


def _convert_scalar(o):
    """Non-JSON-native object -> JSON-native value (may be _NON_FINITE)."""
    if isinstance(o, _datetime):
        return format_datetime(o)
    if isinstance(o, _date):
        return o.isoformat()
    if isinstance(o, _Decimal):
        if o.is_finite():
            return format(o, "f")
        return _NON_FINITE
    if isinstance(o, (bytes, bytearray, memoryview)):
        return _b64encode(o).decode("ascii")
    if isinstance(o, (set, frozenset)):
        try:
            return sorted(o)
        except TypeError:
            return list(o)
    if isinstance(o, Mapping):
        return dict(o)
    if hasattr(type(o), "__index__"):
        try:
            return _index(o)
        except Exception:
            pass
    return str(o)


def _make_fast_encoder(default):
    """str <- value, compact, UTF-8 text (no \\u escapes), NaN/Infinity
    raising ValueError (allow_nan=False) and no cycle bookkeeping
    (check_circular=False: a cycle ends in RecursionError).

    Reuses one C encoder object (json.encoder.c_make_encoder) instead of
    json.JSONEncoder.encode, which builds a new one per call: ~25% faster per
    row. That constructor is not public API, so it is verified against
    JSONEncoder on a sample and JSONEncoder is used whenever it is missing,
    has another signature, or disagrees."""
    std = json.JSONEncoder(
        skipkeys=False,
        ensure_ascii=False,
        check_circular=False,
        allow_nan=False,
        sort_keys=False,
        separators=(",", ":"),
        default=default,
    ).encode
    try:
        from json.encoder import c_encode_basestring, c_make_encoder
        if c_make_encoder is None or c_encode_basestring is None:
            return std
        c_encoder = c_make_encoder(None, default, c_encode_basestring, None, ":", ",",
                                   False, False, False)
        join = "".join

        def fast(value):
            return join(c_encoder(value, 0))

        sample = {"a": [1, -2.5, 1e300, True, False, None, "\u00e9\n\"\\", 2 ** 70],
                  "b": {"c": "x", "d": (1,)}, "e": ""}
        if fast(sample) != std(sample) or fast("s") != std("s") or fast(3) != std(3):
            return std
        try:
            fast(float("nan"))
            return std  # must refuse NaN
        except ValueError:
            pass
        return fast
    except Exception:
        return std


class Encoder(object):
    """Encodes Python values to compact JSON text (str) following the
    protocol's value mapping. ``on_nan()`` is called the first time a
    NaN/Infinity is replaced by null."""

    def __init__(self, on_nan=None):
        self._on_nan = on_nan
        self._nan_reported = False
        self._fast = _make_fast_encoder(self._default)
        #: The fast path alone: raises ValueError (NaN/Infinity) or TypeError
        #: (unencodable dict key) where ``encode`` falls back to ``convert``.
        self.fast = self._fast

    def _default(self, o):
        v = _convert_scalar(o)
        if v is _NON_FINITE:
            # Decimal NaN/Infinity: null, like float NaN.
            self._report_nan()
            return None
        return v

    def _report_nan(self):
        if not self._nan_reported:
            self._nan_reported = True
            if self._on_nan is not None:
                self._on_nan()

    def encode(self, value):
        """Value -> JSON text."""
        try:
            return self._fast(value)
        except (ValueError, TypeError):
            # NaN/Infinity somewhere, or a dict key json cannot encode:
            # convert the whole value in Python and retry.
            return self._fast(self.convert(value))

    def convert(self, value):
        """Value -> tree of JSON-native values (the slow path)."""
        if value is None or isinstance(value, (str, bool, int)):
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            self._report_nan()
            return None
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                out[self._key(k)] = self.convert(v)
            return out
        if isinstance(value, (list, tuple)):
            return [self.convert(v) for v in value]
        v = _convert_scalar(value)
        if v is _NON_FINITE:
            self._report_nan()
            return None
        if isinstance(v, (dict, list)):
            return self.convert(v)
        return v

    def _key(self, k):
        if isinstance(k, str):
            return k
        if k is None or isinstance(k, (bool, int)):
            return json.dumps(k)  # what json.dumps does for such keys
        if isinstance(k, float):
            return json.dumps(k) if math.isfinite(k) else str(k)
        v = _convert_scalar(k)
        return v if isinstance(v, str) else str(k)


def to_json_value(value):
    """Convert a Python value to JSON-native values per the protocol mapping
    (for tests and tools; the hot path uses Encoder.encode)."""
    return Encoder().convert(value)


# --------------------------------------------------------------- row encoders
# A connector sends the same columns row after row. For one such shape (a tuple
# of string keys) make_row_encoder compiles a function that formats a row with
# one %-template and a type check per value, instead of the C encoder's chunk
# list and join: ~2x faster per row (bench/RESULTS.md). The output is the text
# Encoder.encode gives for the same dict; any other value (None and bool
# aside) goes through ``encode_value``, i.e. Encoder.encode.

try:
    from json.encoder import c_encode_basestring as _quote
except ImportError:  # pragma: no cover - CPython always has it
    _quote = None
if _quote is None:  # pragma: no cover
    _quote = json.encoder.py_encode_basestring

# One value: str (quoted), int, finite float (their str() is their JSON text), None, bool;
# anything else, including NaN/Infinity and subclasses, through the full encoder S.
_VALUE = ("(cb({v}) if (t := type({v})) is str else {v} if t is int"
          " else ({v} if {v} - {v} == 0.0 else S({v})) if t is float"
          " else 'null' if {v} is None else ('true' if {v} else 'false') if t is bool else S({v}))")

MAX_ROW_ENCODER_COLUMNS = 1024


def make_row_encoder(prefix, keys, encode_value):
    """A function ``f(row) -> str or None`` for rows with exactly these keys.

    ``f(row)`` is ``prefix + encode(row) + "}"`` when ``row`` has exactly the keys
    in ``keys`` (any order; the text lists them in ``keys`` order), else None
    (the caller then takes the general path). Returns None when the shape cannot
    be specialised (no keys, too many, or a key that is not a str)."""
    n = len(keys)
    if n == 0 or n > MAX_ROW_ENCODER_COLUMNS or not all(type(k) is str for k in keys):
        return None
    template = prefix + "{" + ",".join(_quote(k).replace("%", "%%") + ":%s" for k in keys) + "}}"
    source = (
        "def encode(d, len=len, type=type, str=str, int=int, float=float, bool=bool, cb=cb, S=S, T=T, %s):\n"
        "    if len(d) != %d:\n"
        "        return None\n"
        "    try:\n"
        "        %s\n"
        "    except Exception:\n"
        "        return None\n"
        "    return T %% (%s,)\n"
    ) % (", ".join("K%d=K[%d]" % (i, i) for i in range(n)), n,
         "; ".join("v%d = d[K%d]" % (i, i) for i in range(n)),
         ", ".join(_VALUE.format(v="v%d" % i) for i in range(n)))
    namespace = {"cb": _quote, "S": encode_value, "T": template, "K": tuple(keys)}
    exec(source, namespace)  # noqa: S102 - generated from indices only; keys are passed as values
    return namespace["encode"]
