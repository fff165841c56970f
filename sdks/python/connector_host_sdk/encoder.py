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

__all__ = ["Encoder", "to_json_value", "format_datetime", "make_row_encoder", "type_hint", "type_hint_text",
           "HINTED_TYPES", "MAX_DECIMAL_PRECISION"]


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


# ----------------------------------------------------------------- type hints
# A value whose JSON text does not say its type (bytes sent as base64, dates and
# decimals sent as strings) gets a "types" hint on its op when its column is not
# declared, so that the host creates the column as BINARY, a date type or
# DECIMAL instead of STRING (PROTOCOL.md, "types").

#: Values that may carry a type hint (datetime is a date).
HINTED_TYPES = (bytes, bytearray, memoryview, _date, _Decimal)
#: Decimals with more digits than this get no hint (their column is inferred as STRING).
MAX_DECIMAL_PRECISION = 38


def type_hint(value):
    """The protocol type of ``value`` when its JSON text does not show it, or None.

    bytes/bytearray/memoryview -> "BINARY"; aware datetime -> "UTC_DATETIME";
    naive datetime -> "NAIVE_DATETIME"; date -> "NAIVE_DATE"; finite Decimal ->
    {"type": "DECIMAL", "precision": P, "scale": S} of the value itself (digits
    as sent; None beyond 38 digits); anything else -> None."""
    if isinstance(value, _datetime):
        return "NAIVE_DATETIME" if value.utcoffset() is None else "UTC_DATETIME"
    if isinstance(value, _date):
        return "NAIVE_DATE"
    if isinstance(value, _Decimal):
        if not value.is_finite():
            return None
        t = value.as_tuple()
        digits = len(t.digits)
        if t.exponent >= 0:
            scale = 0
            precision = digits + t.exponent if any(t.digits) else 1
        else:
            scale = -t.exponent
            precision = max(digits, scale)
        if precision > MAX_DECIMAL_PRECISION:
            return None
        return {"type": "DECIMAL", "precision": precision, "scale": scale}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "BINARY"
    return None


_DECIMAL_HINTS = {}  # (number of digits, exponent) -> JSON text of the hint, or ""


def _decimal_hint_text(value):
    t = value.as_tuple()
    key = (len(t.digits), t.exponent if t.exponent < 0 or any(t.digits) else 0)
    text = _DECIMAL_HINTS.get(key)
    if text is None:
        hint = type_hint(value)
        text = "" if hint is None else json.dumps(hint, separators=(",", ":"))
        if len(_DECIMAL_HINTS) < 4096:
            _DECIMAL_HINTS[key] = text
    return text


def type_hint_text(value):
    """The JSON text of ``type_hint(value)``, or "" for none (fast, for the record path)."""
    t = type(value)
    if t is _datetime:
        return '"NAIVE_DATETIME"' if value.tzinfo is None or value.utcoffset() is None else '"UTC_DATETIME"'
    if t is _date:
        return '"NAIVE_DATE"'
    if t is _Decimal:
        return _decimal_hint_text(value) if value.is_finite() else ""
    if t is bytes or t is bytearray or t is memoryview:
        return '"BINARY"'
    hint = type_hint(value)  # subclasses
    return "" if hint is None else json.dumps(hint, separators=(",", ":"))


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
# of string keys) make_row_encoder compiles a function that builds the row's
# text with one f-string (one BUILD_STRING: the lengths summed, one allocation)
# and a type check per value, instead of the C encoder's chunk list and join.
# Each column tests first for the type its value had in the row the shape was
# learned from (usually its type in every row), then for the others. The output
# is the text Encoder.encode gives for the same dict; any other value (None and
# bool aside) goes through ``encode_value``, i.e. Encoder.encode.

try:
    from json.encoder import c_encode_basestring as _quote
except ImportError:  # pragma: no cover - CPython always has it
    _quote = None
if _quote is None:  # pragma: no cover
    _quote = json.encoder.py_encode_basestring

# One value -> its JSON text, or an int/float whose str() is its JSON text: str (quoted), int,
# finite float, None, bool; anything else, including NaN/Infinity and subclasses, through the full
# encoder S. {v} is the value's local.
_VALUE = ("(cb({v}) if (t := type({v})) is str else {v} if t is int"
          " else ({v} if {v} - {v} == 0.0 else S({v})) if t is float"
          " else 'null' if {v} is None else ('true' if {v} else 'false') if t is bool else S({v}))")

# The first test of a column whose sample value had this type (then _VALUE for any other value).
_EXPECTED = {
    str: "cb({v}) if type({v}) is str else ",
    int: "{v} if type({v}) is int else ",
    float: "({v} if {v} - {v} == 0.0 else S({v})) if type({v}) is float else ",
    bool: "'true' if {v} is True else 'false' if {v} is False else ",
    type(None): "'null' if {v} is None else ",
}

MAX_ROW_ENCODER_COLUMNS = 1024


def make_row_encoder(prefix, keys, encode_value, hinted=None, add_hints=None, sample=None):
    """A function ``f(row) -> str or None`` for rows with exactly these keys.

    ``f(row)`` is ``prefix + encode(row) + "}"`` when ``row`` has exactly the keys
    in ``keys`` (any order; the text lists them in ``keys`` order), else None
    (the caller then takes the general path). Returns None when the shape cannot
    be specialised (no keys, too many, or a key that is not a str).

    ``hinted`` (one bool per key) marks the columns that may get a type hint
    (the undeclared ones). For those, a value of a HINTED_TYPES type sets a bit
    in a mask, and ``add_hints(text, keys, values, mask)`` returns the final
    text; rows whose values are all JSON-native never reach it, and with no
    hinted column the function is exactly the unhinted one. ``keys`` reach
    ``add_hints`` JSON-quoted.

    ``sample`` (one value per key, e.g. the row the shape was learned from)
    orders each column's type tests: its value's type is tested first. It
    changes the speed only, never the text."""
    n = len(keys)
    if n == 0 or n > MAX_ROW_ENCODER_COLUMNS or not all(type(k) is str for k in keys):
        return None
    if hinted is not None and not any(hinted):
        hinted = None
    if sample is not None and len(sample) != n:
        sample = None
    # The constant text between the values, as Python literals (repr: any str, braces and
    # backslashes included, is a valid literal; adjacent to the f-string parts they are one string).
    pieces = [prefix + "{" + _quote(keys[0]) + ":"] + ["," + _quote(k) + ":" for k in keys[1:]]
    statements = []
    for i in range(n):
        v = "v%d" % i
        expr = _VALUE.format(v=v)
        if hinted is not None and hinted[i]:
            # Only the fallback branch changes: a hint-worthy value sets bit i.
            last = expr.rindex("S(%s))" % v)
            expr = (expr[:last] + "(((m := m | %d) and S(%s)) if isinstance(%s, HT) else S(%s)))"
                    % (1 << i, v, v, v) + expr[last + len("S(%s))" % v):])
        expected = _EXPECTED.get(type(sample[i])) if sample is not None else None
        if expected is not None:
            expr = expected.format(v=v) + expr
        statements.append("    e%d = %s\n" % (i, expr))
    text = " ".join("%r f'{e%d!s}'" % (pieces[i], i) for i in range(n)) + " '}}'"
    if hinted is None:
        tail = "    return %s\n" % text
    else:
        tail = ("    text = %s\n"
                "    if m:\n"
                "        return H(text, QK, (%s,), m)\n"
                "    return text\n") % (text, ", ".join("v%d" % i for i in range(n)))
    source = (
        "def encode(d, len=len, type=type, isinstance=isinstance, cb=cb, S=S, HT=HT, %s):\n"
        "    if len(d) != %d:\n"
        "        return None\n"
        "    try:\n"
        "        %s\n"
        "    except Exception:\n"
        "        return None\n"
        "%s%s%s"
    ) % (", ".join("K%d=K[%d]" % (i, i) for i in range(n)), n,
         "; ".join("v%d = d[K%d]" % (i, i) for i in range(n)),
         "    m = 0\n" if hinted is not None else "", "".join(statements), tail)
    namespace = {"cb": _quote, "S": encode_value, "K": tuple(keys), "HT": HINTED_TYPES,
                 "H": add_hints, "QK": tuple(_quote(k) for k in keys)}
    exec(source, namespace)  # noqa: S102 - generated from indices only; keys and text are passed as values or repr()
    return namespace["encode"]
