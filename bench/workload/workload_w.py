#!/usr/bin/env python3
"""Workload W row generator: an exact port of workload_w.h (see WORKLOAD.md).

Every benchmark of this project uses these rows. The reference is the C header
workload_w.h (a byte-identical copy sits beside this file); this module must
produce the same values row for row, and bench/workload/check_ports.sh checks it.

Algorithm, for porters (the Swift port follows this file):

* One splitmix64 generator, state seeded with 42 and NOT reset between rows.
  All arithmetic is unsigned 64-bit with wrap-around (here: `& MASK64`).
* Each row i (1-based) takes exactly 7 draws, in this order:
    draw 1 -> name        (6 letter pairs from bits 0..59)
    draw 2 -> email       (4 letter pairs from bits 0..39, then "@example.com")
    draw 3 -> amount, count, active, category (different bit ranges of one draw)
    draw 4 -> created_at, score               (different bit ranges of one draw)
    draw 5 -> note[0:10]  (5 letter pairs)
    draw 6 -> note[11:21] (5 letter pairs)
    draw 7 -> note[22:30] (4 letter pairs)
* A "letter pair" is PAIRS[k] for a 10-bit index k (0..1023):
  PAIRS[k] = A[k % 26] + A[(k // 26) % 26] with A = "abcdefghijklmnopqrstuvwxyz".
* amount and score are doubles computed by ONE IEEE division of an exact
  integer (< 2**53) by 100.0 / 10000.0; do the same in any port (not a
  multiplication by 0.01), so the values are bit-identical.

Usage: python3 workload_w.py [N]   prints N rows (default 1,000,000) as compact
JSON lines, keys in column order, e.g.
{"id":1,"name":"...","email":"...@example.com","amount":123.45,...}

Size: this output (Python repr floats, so 1570.0 and 84.749, not 1570.00 and
84.7490) is 223,556,142 bytes for 1M rows, newlines included. WORKLOAD.md's
223,766,487 is the same rows with amount printed as "%.2f" and score as
"%.4f" (newlines included): 210,345 bytes more, same values.
"""

import json
import sys

SEED = 42
MASK64 = (1 << 64) - 1

CATEGORIES = ("electronics", "books", "clothing", "home", "garden",
              "toys", "sports", "beauty", "grocery", "automotive")

_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
# PAIRS[k] for the 10-bit index k: first letter k % 26, second letter (k / 26) % 26.
PAIRS = tuple(_ALPHABET[k % 26] + _ALPHABET[(k // 26) % 26] for k in range(1024))

EPOCH_2024 = 1704067200      # 2024-01-01T00:00:00Z
SECONDS_IN_2024 = 31536000   # 365 days (the generator never reaches 2024-12-31)


class SplitMix64:
    """splitmix64 (Steele, Lea, Flood), as in workload_w.h."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def letter_pairs(r, npairs):
    """2 * npairs letters from one draw: pair j is PAIRS[(r >> (10 * j)) & 1023]."""
    return "".join(PAIRS[(r >> (10 * j)) & 1023] for j in range(npairs))


def format_utc(t):
    """Epoch seconds (>= 0) -> "YYYY-MM-DDTHH:MM:SSZ".

    Howard Hinnant's civil_from_days, as in the C header (no time-zone library).
    Equivalent to datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").
    All quantities are non-negative here, so // and % match C's / and %.
    """
    days, sod = t // 86400, t % 86400
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097                                        # [0, 146096]
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365  # [0, 399]
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)               # [0, 365]
    mp = (5 * doy + 2) // 153                                     # [0, 11], March = 0
    d = doy - (153 * mp + 2) // 5 + 1                             # [1, 31]
    m = mp + 3 if mp < 10 else mp - 9                             # [1, 12]
    if m <= 2:
        y += 1
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (
        y, m, d, sod // 3600, sod // 60 % 60, sod % 60)


def reference_rows(n, seed=SEED):
    """Yield rows 1..n as dicts (keys in column order): the algorithm written plainly.

    ``rows`` is the same computation, inlined for speed; check_ports.sh checks both."""
    rng = SplitMix64(seed)
    for i in range(1, n + 1):
        name = letter_pairs(rng.next(), 6)                          # draw 1
        email = letter_pairs(rng.next(), 4) + "@example.com"        # draw 2

        r = rng.next()                                              # draw 3
        amount = (r % 10000000) / 100.0       # 0.00 .. 99999.99
        count = (r >> 24) % 1000              # 0 .. 999
        active = ((r >> 40) & 1) == 1
        category = CATEGORIES[(r >> 41) % 10]

        r = rng.next()                                              # draw 4
        created_at = format_utc(EPOCH_2024 + r % SECONDS_IN_2024)
        score = ((r >> 25) % 1000000) / 10000.0  # 0.0000 .. 99.9999

        note = (letter_pairs(rng.next(), 5) + " "                   # draw 5
                + letter_pairs(rng.next(), 5) + " "                 # draw 6
                + letter_pairs(rng.next(), 4))                      # draw 7

        yield {
            "id": i,
            "name": name,
            "email": email,
            "amount": amount,
            "count": count,
            "active": active,
            "created_at": created_at,
            "category": category,
            "score": score,
            "note": note,
        }


# For rows(): the date part of each day of 2024 ("2024-07-05T") and "HH:MM:" of each minute of a day.
_DAY_PREFIXES = tuple(format_utc(EPOCH_2024 + 86400 * d)[:11] for d in range(SECONDS_IN_2024 // 86400))
_MINUTE_PREFIXES = tuple("%02d:%02d:" % (m // 60, m % 60) for m in range(1440))
_SECOND_SUFFIXES = tuple("%02dZ" % s for s in range(60))


def rows(n, seed=SEED):
    """Yield rows 1..n as dicts (keys in column order), from a fresh generator.

    The same draws and arithmetic as ``reference_rows``, inlined (no method calls, no generator
    expressions, table lookups for the timestamp) so that generating W costs a few microseconds a row
    and the benchmark measures the SDK, not this generator."""
    mask, gamma = MASK64, 0x9E3779B97F4A7C15
    m1, m2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
    p, categories = PAIRS, CATEGORIES
    days, minutes, seconds = _DAY_PREFIXES, _MINUTE_PREFIXES, _SECOND_SUFFIXES
    state = seed & mask
    for i in range(1, n + 1):
        state = (state + gamma) & mask                              # draw 1 -> name
        z = ((state ^ (state >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        r = z ^ (z >> 31)
        name = (p[r & 1023] + p[(r >> 10) & 1023] + p[(r >> 20) & 1023] + p[(r >> 30) & 1023]
                + p[(r >> 40) & 1023] + p[(r >> 50) & 1023])
        state = (state + gamma) & mask                              # draw 2 -> email
        z = ((state ^ (state >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        r = z ^ (z >> 31)
        email = p[r & 1023] + p[(r >> 10) & 1023] + p[(r >> 20) & 1023] + p[(r >> 30) & 1023] + "@example.com"
        state = (state + gamma) & mask                              # draw 3 -> amount, count, active, category
        z = ((state ^ (state >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        r3 = z ^ (z >> 31)
        state = (state + gamma) & mask                              # draw 4 -> created_at, score
        z = ((state ^ (state >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        r4 = z ^ (z >> 31)
        second_of_year = r4 % SECONDS_IN_2024
        second_of_day = second_of_year % 86400
        state = (state + gamma) & mask                              # draw 5 -> note[0:10]
        z = ((state ^ (state >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        r = z ^ (z >> 31)
        note = p[r & 1023] + p[(r >> 10) & 1023] + p[(r >> 20) & 1023] + p[(r >> 30) & 1023] + p[(r >> 40) & 1023]
        state = (state + gamma) & mask                              # draw 6 -> note[11:21]
        z = ((state ^ (state >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        r = z ^ (z >> 31)
        note += (" " + p[r & 1023] + p[(r >> 10) & 1023] + p[(r >> 20) & 1023] + p[(r >> 30) & 1023]
                 + p[(r >> 40) & 1023] + " ")
        state = (state + gamma) & mask                              # draw 7 -> note[22:30]
        z = ((state ^ (state >> 30)) * m1) & mask
        z = ((z ^ (z >> 27)) * m2) & mask
        r = z ^ (z >> 31)
        note += p[r & 1023] + p[(r >> 10) & 1023] + p[(r >> 20) & 1023] + p[(r >> 30) & 1023]
        yield {
            "id": i,
            "name": name,
            "email": email,
            "amount": (r3 % 10000000) / 100.0,
            "count": (r3 >> 24) % 1000,
            "active": (r3 >> 40) & 1 == 1,
            "created_at": (days[second_of_year // 86400] + minutes[second_of_day // 60]
                           + seconds[second_of_day % 60]),
            "category": categories[(r3 >> 41) % 10],
            "score": ((r4 >> 25) % 1000000) / 10000.0,
            "note": note,
        }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) > 1 or (argv and not argv[0].isdigit()):
        sys.stderr.write("usage: workload_w.py [N]   (N rows, default 1000000)\n")
        return 2
    n = int(argv[0]) if argv else 1_000_000
    out = sys.stdout
    dumps = json.dumps
    for row in rows(n):
        out.write(dumps(row, separators=(",", ":")))
        out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `| head`: stop quietly
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
