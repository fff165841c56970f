#!/usr/bin/env bash
# Checks the install as a new user meets it (CI runs this; `swift test` has lighter checks of the same
# tree, with the debug build): scripts/install.sh into an empty temporary PREFIX (the release build),
# then, with only PREFIX/bin added to PATH, no CONNECTOR_HOST_* variable and an empty folder outside the
# checkout as the current folder:
#   connector-host init X --language python|node|swift, then connector-host run X (twice) for each;
#   a fresh venv with `pip install ./sdks/python`, then `python connector.py` (connector.debug()) syncs;
#   `npm install PREFIX/share/connector-host/sdks/node` offline, then require('connector-host-sdk') (if npm exists).
# Usage: scripts/install-check.sh [--keep]   (--keep leaves the temporary folder for a look)
set -euo pipefail
checkout="$(cd "$(dirname "$0")/.." && pwd)"
keep=false
[ "${1:-}" = "--keep" ] && keep=true

scratch="$(mktemp -d "${TMPDIR:-/tmp}/connector-host-install-check.XXXXXX")"
case "$scratch/" in "$checkout"/*) echo "install-check: the temporary folder $scratch is inside the checkout; set TMPDIR" >&2; exit 1 ;; esac
if $keep; then echo "install-check: working in $scratch (kept)"; else trap 'rm -rf "$scratch"' EXIT; fi
prefix="$scratch/prefix"
work="$scratch/work"
mkdir -p "$work"
started=$SECONDS

step() { echo "install-check: $*"; }
fail() {
  echo "install-check: FAILED: $*" >&2
  exit 1
}

step "scripts/install.sh $prefix"
"$checkout/scripts/install.sh" "$prefix"

# The user's environment minus CONNECTOR_HOST_* and PYTHONPATH; PATH without any folder that holds a
# connector-host or lies in the checkout, PREFIX/bin first.
path="$prefix/bin"
IFS=: read -r -a entries <<<"${PATH:-/usr/bin:/bin}"
for entry in "${entries[@]}"; do
  case "$entry/" in "$checkout"/* | "$prefix"/*) continue ;; esac
  [ -e "$entry/connector-host" ] && continue
  path="$path:$entry"
done
# as_user [-C DIR] COMMAND...: runs COMMAND so, in DIR (default the empty work folder).
as_user() {
  # `variable` is local: callers keep their own `name` (a CONNECTOR_HOST_* variable set, as CI's
  # PostgreSQL URL is, must not rename the connector being checked).
  local directory="$work" unset=() variable
  if [ "$1" = "-C" ]; then
    directory="$2"
    shift 2
  fi
  for variable in $(env | sed -n 's/^\(CONNECTOR_HOST_[A-Za-z0-9_]*\)=.*/\1/p'); do unset+=(-u "$variable"); done
  (cd "$directory" && env "${unset[@]}" -u PYTHONPATH PATH="$path" "$@")
}

[ "$(as_user sh -c 'command -v connector-host')" = "$prefix/bin/connector-host" ] || fail "connector-host on PATH is not $prefix/bin/connector-host"
as_user connector-host --version
as_user connector-host --version | grep -q "^swift SDK:    $prefix/share/connector-host/sdks/swift (installed)$" \
  || fail "--version does not name the installed Swift SDK"

for language in python node swift; do
  name="check-$language"
  step "connector-host init $name --language $language; connector-host run $name (twice)"
  as_user connector-host init "$name" --language "$language" >/dev/null
  for cursor in 3 6; do
    output="$(as_user connector-host run "$name" --quiet 2>&1)" || fail "run $name: $output"
    grep -q "state:     $work/$name/files/state.json = {\"cursor\":$cursor}" <<<"$output" || fail "run $name did not reach cursor $cursor: $output"
  done
done
grep -q "\.package(path: \"$prefix/share/connector-host/sdks/swift\")" "$work/check-swift/Package.swift" \
  || fail "the Swift scaffold does not depend on the installed SDK"

step "a fresh venv: pip install ./sdks/python, then python connector.py (connector.debug())"
as_user python3 -m venv "$scratch/venv" || fail "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
(cd "$checkout" && env -u PYTHONPATH "$scratch/venv/bin/pip" install --disable-pip-version-check -q --no-index ./sdks/python)
mkdir -p "$work/debug-python"
cp "$work/check-python/connector.py" "$work/check-python/configuration.json" "$work/debug-python/"
output="$(as_user -C "$work/debug-python" "$scratch/venv/bin/python" connector.py 2>&1)" \
  || fail "python connector.py: $output"
grep -q "outcome: succeeded" <<<"$output" || fail "python connector.py did not sync: $output"
[ -f "$work/debug-python/files/warehouse.db" ] || fail "python connector.py wrote no warehouse"

if command -v npm >/dev/null 2>&1; then
  step "npm install $prefix/share/connector-host/sdks/node (offline)"
  mkdir -p "$work/npm"
  as_user -C "$work/npm" npm install --offline --no-audit --no-fund --install-links -q "$prefix/share/connector-host/sdks/node" >/dev/null
  as_user -C "$work/npm" node -e "const { run } = require('connector-host-sdk'); if (typeof run !== 'function') process.exit(1)" \
    || fail "require('connector-host-sdk') after npm install"
else
  step "skipped npm install: npm is not installed"
fi

step "passed in $((SECONDS - started)) s"
