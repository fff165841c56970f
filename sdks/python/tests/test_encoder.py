"""Value mapping: Python values -> protocol JSON (in-process, no host)."""

import base64
import datetime
import decimal
import enum
import json
import math
import os
import sys
import unittest
import uuid
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from connector_host_sdk.encoder import Encoder, format_datetime, make_row_encoder  # noqa: E402


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class IndexLike(object):
    """Stands in for numpy integers: not an int, but has __index__."""

    def __index__(self):
        return 42


class Custom(object):
    def __str__(self):
        return "custom!"


class EncoderTest(unittest.TestCase):
    def setUp(self):
        self.nan_reports = 0

        def on_nan():
            self.nan_reports += 1

        self.enc = Encoder(on_nan=on_nan)

    def text(self, value):
        return self.enc.encode(value)

    def value(self, value):
        return json.loads(self.text(value))

    # --- JSON natives
    def test_bool(self):
        self.assertEqual(self.text(True), "true")
        self.assertEqual(self.text(False), "false")
        self.assertEqual(self.text({"b": True}), '{"b":true}')

    def test_none(self):
        self.assertEqual(self.text(None), "null")

    def test_int_small_and_huge_are_json_integers(self):
        self.assertEqual(self.text(-7), "-7")
        self.assertEqual(self.text(2 ** 53 + 1), "9007199254740993")
        self.assertEqual(self.text(2 ** 70), str(2 ** 70))
        self.assertEqual(self.text(-(2 ** 64)), str(-(2 ** 64)))
        self.assertIsInstance(self.value(2 ** 70), int)

    def test_int_subclasses(self):
        self.assertEqual(self.text(Level.HIGH), "3")
        self.assertEqual(self.text(IndexLike()), "42")

    def test_float_round_trips(self):
        for f in (0.1, 1.0 / 3.0, 3.141592653589793, 1e-300, 1.7976931348623157e308, -0.0, 5e-324):
            self.assertEqual(self.text(f), repr(f))
            self.assertEqual(float(self.text(f)), f)
            self.assertEqual(math.copysign(1, float(self.text(f))), math.copysign(1, f))

    def test_nan_and_infinity_become_null_and_warn_once(self):
        self.assertEqual(self.text({"a": float("nan"), "b": float("inf"), "c": 1.5}),
                         '{"a":null,"b":null,"c":1.5}')
        self.assertEqual(self.text([float("-inf")]), "[null]")
        self.assertEqual(self.text(decimal.Decimal("NaN")), "null")
        self.assertEqual(self.nan_reports, 1)

    def test_strings(self):
        self.assertEqual(self.text("héllo \u2603"), '"héllo \u2603"')  # not \\u-escaped
        self.assertEqual(self.text('a"b\\c\n'), '"a\\"b\\\\c\\n"')
        self.assertNotIn("\n", self.text("line1\nline2\r\n"))

    def test_lone_surrogate_does_not_raise(self):
        self.assertEqual(self.value("\udcff"), "\udcff")

    # --- conversions
    def test_decimal_is_plain_string(self):
        self.assertEqual(self.value(decimal.Decimal("12345.6700")), "12345.6700")
        self.assertEqual(self.value(decimal.Decimal("1E+3")), "1000")
        self.assertEqual(self.value(decimal.Decimal("-1.5E-7")), "-0.00000015")
        self.assertEqual(self.value(decimal.Decimal("0")), "0")

    def test_aware_datetime_is_utc_with_z(self):
        tz = datetime.timezone(datetime.timedelta(hours=2))
        self.assertEqual(self.value(datetime.datetime(2024, 3, 1, 12, 30, 45, 123456, tzinfo=tz)),
                         "2024-03-01T10:30:45.123456Z")
        self.assertEqual(self.value(datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)),
                         "2024-03-01T00:00:00Z")
        west = datetime.timezone(datetime.timedelta(hours=-5, minutes=-30))
        self.assertEqual(self.value(datetime.datetime(2023, 12, 31, 20, 0, 0, 10, tzinfo=west)),
                         "2024-01-01T01:30:00.000010Z")

    def test_naive_datetime(self):
        self.assertEqual(self.value(datetime.datetime(2024, 3, 1, 12, 30, 45)), "2024-03-01T12:30:45")
        self.assertEqual(self.value(datetime.datetime(2024, 3, 1, 12, 30, 45, 5)),
                         "2024-03-01T12:30:45.000005")
        self.assertEqual(self.value(datetime.datetime(999, 1, 2, 3, 4, 5)), "0999-01-02T03:04:05")

    def test_date(self):
        self.assertEqual(self.value(datetime.date(2024, 2, 29)), "2024-02-29")

    def test_bytes(self):
        self.assertEqual(self.value(b"\x00\xffhi"), base64.b64encode(b"\x00\xffhi").decode())
        self.assertEqual(self.value(b"\x00\xffhi"), "AP9oaQ==")
        self.assertEqual(self.value(bytearray(b"abc")), "YWJj")
        self.assertEqual(self.value(memoryview(b"ab")), "YWI=")
        self.assertEqual(self.value(b""), "")

    def test_containers_recursive(self):
        v = {"a": [1, 2.5, {"d": datetime.date(2020, 1, 1)}], "t": (1, "x"),
             "o": OrderedDict([("z", 1), ("y", decimal.Decimal("2.0"))])}
        self.assertEqual(self.text(v),
                         '{"a":[1,2.5,{"d":"2020-01-01"}],"t":[1,"x"],"o":{"z":1,"y":"2.0"}}')

    def test_key_order_is_kept(self):
        self.assertEqual(self.text({"b": 1, "a": 2, "c": 3}), '{"b":1,"a":2,"c":3}')

    def test_sets_become_arrays(self):
        self.assertEqual(self.value({3, 1, 2}), [1, 2, 3])

    def test_uuid_and_other_objects_use_str(self):
        u = uuid.UUID("12345678-1234-5678-1234-567812345678")
        self.assertEqual(self.value(u), "12345678-1234-5678-1234-567812345678")
        self.assertEqual(self.value(Custom()), "custom!")
        self.assertEqual(self.value(Color.RED), "Color.RED")
        self.assertEqual(self.value(datetime.time(1, 2, 3)), "01:02:03")

    def test_non_string_keys(self):
        self.assertEqual(self.value({1: "a", None: "b", 2.5: "c"}), {"1": "a", "null": "b", "2.5": "c"})
        self.assertEqual(self.value({True: "t"}), {"true": "t"})
        self.assertEqual(self.value({datetime.date(2020, 1, 2): 1}), {"2020-01-02": 1})
        self.assertEqual(self.value({(1, 2): 1}), {"(1, 2)": 1})

    def test_fallback_path_converts_everything_in_the_value(self):
        # NaN forces the slow path; the other values must still be mapped.
        v = {"n": float("nan"), "d": decimal.Decimal("1.10"), "b": b"\x01", "dt": datetime.date(2020, 1, 1),
             "l": [float("inf"), uuid.UUID(int=1)]}
        self.assertEqual(self.value(v), {"n": None, "d": "1.10", "b": "AQ==", "dt": "2020-01-01",
                                         "l": [None, "00000000-0000-0000-0000-000000000001"]})

    def test_compact_separators(self):
        self.assertEqual(self.text({"a": [1, 2], "b": {"c": None}}), '{"a":[1,2],"b":{"c":null}}')

    def test_format_datetime_helper(self):
        self.assertEqual(format_datetime(datetime.datetime(2024, 1, 1)), "2024-01-01T00:00:00")


class RowEncoderTest(unittest.TestCase):
    """make_row_encoder must give exactly the general path's text, or None."""

    PREFIX = '{"op":"upsert","table":"t","data":'

    def setUp(self):
        self.nan_reports = 0

        def on_nan():
            self.nan_reports += 1

        self.enc = Encoder(on_nan=on_nan)

    def general(self, row):
        return self.PREFIX + self.enc.encode(row) + "}"

    def test_every_value_kind_matches_the_general_path(self):
        values = [None, True, False, 0, -7, 2 ** 80, Level.HIGH, IndexLike(), 0.1, -0.0, 1e300, 1570.0,
                  float("nan"), float("inf"), float("-inf"), "", "plain", 'quote" back\\ tab\t \u00e9 \U0001F600',
                  "\ud800", "100%", decimal.Decimal("1.10"), datetime.date(2020, 1, 2),
                  datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.timezone.utc), b"\x00\xff", [1, {"a": None}],
                  {"n": float("nan")}, {1: "x"}, (1, 2), uuid.UUID(int=1), Color.RED, Custom()]
        encode = make_row_encoder(self.PREFIX, ("k", "v"), self.enc.encode)
        for value in values:
            row = {"k": 1, "v": value}
            self.assertEqual(encode(row), self.general(row), repr(value))

    def test_the_sample_row_changes_the_order_of_tests_not_the_text(self):
        values = [None, True, False, 0, -7, 2 ** 80, Level.HIGH, IndexLike(), 0.1, -0.0, 1e300, 1570.0,
                  float("nan"), float("inf"), "", "plain", 'quote" \\ \t \u00e9', "\ud800",
                  decimal.Decimal("1.10"), datetime.date(2020, 1, 2), b"\x00\xff", [1, {"a": None}], Custom()]
        for hinted in (None, (False, True)):
            for sample in values:
                encode = make_row_encoder(self.PREFIX, ("k", "v"), self.enc.encode, hinted,
                                          lambda text, keys, vals, mask: text + "+hint", (1, sample))
                for value in values:
                    row = {"k": 1, "v": value}
                    expected = self.general(row)
                    if hinted and isinstance(value, (bytes, datetime.date, decimal.Decimal)):
                        expected += "+hint"
                    self.assertEqual(encode(row), expected, (hinted, repr(sample), repr(value)))

    def test_a_row_of_another_shape_gets_none(self):
        encode = make_row_encoder(self.PREFIX, ("id", "name"), self.enc.encode)
        self.assertIsNone(encode({"id": 1}))
        self.assertIsNone(encode({"id": 1, "name": "a", "extra": 2}))
        self.assertIsNone(encode({"id": 1, "other": "a"}))
        self.assertIsNone(encode([1, 2]))
        self.assertEqual(json.loads(encode({"name": "a", "id": 1})[len(self.PREFIX):-1]), {"id": 1, "name": "a"})

    def test_keys_are_quoted_and_percent_signs_kept(self):
        encode = make_row_encoder(self.PREFIX, ("100%", 'a"b', "%s", "\u00e9"), self.enc.encode)
        row = {"100%": 1, 'a"b': 2, "%s": 3, "\u00e9": 4}
        self.assertEqual(encode(row), self.general(row))

    def test_shapes_that_cannot_be_specialised(self):
        self.assertIsNone(make_row_encoder(self.PREFIX, (), self.enc.encode))
        self.assertIsNone(make_row_encoder(self.PREFIX, (1, "a"), self.enc.encode))

    def test_nan_is_reported_once(self):
        encode = make_row_encoder(self.PREFIX, ("x",), self.enc.encode)
        self.assertEqual(encode({"x": float("nan")}), self.PREFIX + '{"x":null}}')
        encode({"x": float("inf")})
        self.assertEqual(self.nan_reports, 1)

    def test_wide_rows(self):
        keys = tuple("c%d" % i for i in range(300))
        encode = make_row_encoder(self.PREFIX, keys, self.enc.encode)
        row = {k: i * 1.5 for i, k in enumerate(keys)}
        self.assertEqual(encode(row), self.general(row))


if __name__ == "__main__":
    unittest.main()
