#!/bin/sh
# check_ports.sh [N] - check that the Python port of workload W (workload_w.py) yields
# exactly the rows of the C reference (workload_w.h, via gen_ref.c) for rows 1..N
# (default 10000). With SWIFT_WORKLOAD set to the built `connector-host-bench` binary, the
# Swift port (bench/Sources/BenchWorkload, printed by `connector-host-bench workload N`) is
# checked the same way. Values are compared after JSON parsing: same keys in the same
# order, same JSON types, equal values (floats compared as parsed doubles, so
# 123.4 and 123.40 agree). Exit 0 if identical, 1 on a mismatch, 2 on a setup error.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
n=${1:-10000}
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$cc" -O2 -Wall -Wextra -Werror -o "$tmp/gen_ref" "$here/gen_ref.c" || exit 2
"$tmp/gen_ref" "$n" > "$tmp/ref.jsonl" || exit 2
python3 "$here/workload_w.py" "$n" > "$tmp/py.jsonl" || exit 2
swift_path=
if [ -n "${SWIFT_WORKLOAD:-}" ]; then
  "$SWIFT_WORKLOAD" workload "$n" > "$tmp/swift.jsonl" || exit 2
  swift_path="$tmp/swift.jsonl"
fi

python3 - "$here" "$n" "$tmp/ref.jsonl" "$tmp/py.jsonl" $swift_path <<'PY'
import json, sys
here, n, ref_path, py_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
swift_path = sys.argv[5] if len(sys.argv) > 5 else None
sys.path.insert(0, here)
import workload_w

def typed(pairs):
    # (key, type name, value) in order: bool and int must not compare equal.
    return [(k, type(v).__name__, v) for k, v in pairs]

def parse(line):
    return json.loads(line, object_pairs_hook=typed)

with open(ref_path) as f:
    ref = [parse(line) for line in f]
with open(py_path) as f:
    out = [parse(line) for line in f]
direct = [typed(row.items()) for row in workload_w.rows(n)]
plain = [typed(row.items()) for row in workload_w.reference_rows(n)]
ports = [("workload_w.py output", out), ("workload_w.rows()", direct), ("workload_w.reference_rows()", plain)]
if swift_path:
    with open(swift_path) as f:
        ports.append(("Swift port (connector-host-bench workload)", [parse(line) for line in f]))

problems = 0
for label, rows in ports:
    if len(rows) != len(ref):
        print(f"FAIL {label}: {len(rows)} rows, reference has {len(ref)}")
        problems += 1
        continue
    for i, (a, b) in enumerate(zip(rows, ref), start=1):
        if a != b:
            print(f"FAIL {label}: row {i} differs\n  python: {a}\n  C ref:  {b}")
            problems += 1
            break

if len(ref) != n:
    print(f"FAIL reference produced {len(ref)} rows, expected {n}")
    problems += 1
if problems:
    sys.exit(1)
with open(ref_path, "rb") as f:
    ref_bytes = f.read()
for label, path in (("workload_w.py", py_path), ("the Swift port", swift_path)):
    if path:
        with open(path, "rb") as f:
            same_bytes = f.read() == ref_bytes
        print(f"OK: the first {n} rows of {label} match the C reference"
              f" (outputs are {'byte-identical' if same_bytes else 'equal as parsed values, bytes differ'})")
PY
