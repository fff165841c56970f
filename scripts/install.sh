#!/usr/bin/env bash
# Installs connector-host under PREFIX (default /usr/local), so that `connector-host` on PATH works in
# any folder with no environment variable:
#
#   PREFIX/bin/connector-host                          the release build
#   PREFIX/share/connector-host/sdks/python/           the Python SDK (run's connector.py; pip-installable)
#   PREFIX/share/connector-host/sdks/node/             the Node helper (copied by `init --language node`; npm-installable)
#   PREFIX/share/connector-host/sdks/swift/            the Swift SDK package (ConnectorSDK + ConnectorProtocol),
#                                                      which `init --language swift` depends on by path
#
# Usage: scripts/install.sh [--binary FILE] [PREFIX]
#   --binary FILE   install this connector-host executable instead of building the release configuration
#                   (the tests install the debug build so)
# A reinstall replaces the share/connector-host tree as a whole (no stale files from an older version).
set -euo pipefail

fail() {
  echo "install.sh: $*" >&2
  exit 1
}

binary=""
prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    --binary)
      [ $# -ge 2 ] || fail "--binary needs a file: scripts/install.sh --binary .build/release/connector-host PREFIX"
      binary="$2"
      shift 2
      ;;
    --binary=*)
      binary="${1#--binary=}"
      shift
      ;;
    -*) fail "unknown option $1; usage: scripts/install.sh [--binary FILE] [PREFIX]" ;;
    *)
      [ -z "$prefix" ] || fail "one PREFIX only (got $prefix and $1); usage: scripts/install.sh [--binary FILE] [PREFIX]"
      prefix="$1"
      shift
      ;;
  esac
done
prefix="${prefix:-/usr/local}"

checkout="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$checkout/Package.swift" ] && [ -d "$checkout/Sources/ConnectorSDK" ] && [ -d "$checkout/sdks/python/connector_host_sdk" ] \
  || fail "$checkout is not a complete connector-host checkout (Package.swift, Sources/ConnectorSDK, sdks/python); run the script from a clone"

case "$prefix" in
  /*) ;;
  *) prefix="$(pwd)/$prefix" ;;
esac

# Checked before the build (minutes): a prefix we cannot write to.
probe="$prefix"
while [ ! -e "$probe" ]; do probe="$(dirname "$probe")"; done
if [ ! -d "$probe" ]; then
  fail "$probe is not a folder, so $prefix cannot be created; pass another PREFIX"
fi
if [ ! -w "$probe" ] || { [ -e "$prefix/bin" ] && [ ! -w "$prefix/bin" ]; } || { [ -e "$prefix/share" ] && [ ! -w "$prefix/share" ]; }; then
  fail "cannot write to $prefix (as $(id -un)); pass a prefix you own (scripts/install.sh \$HOME/.local) or run the script with sudo"
fi

if [ -z "$binary" ]; then
  command -v swift >/dev/null 2>&1 \
    || fail "swift is not on PATH; install a Swift 6 toolchain (https://www.swift.org/install), then run scripts/install.sh again"
  if command -v pkg-config >/dev/null 2>&1; then
    for module in sqlite3:libsqlite3-dev zlib:zlib1g-dev; do
      pkg-config --exists "${module%%:*}" \
        || fail "the development files of ${module%%:*} are missing; install them (apt-get install ${module#*:}), then run scripts/install.sh again"
    done
  fi
  echo "building connector-host (release; a few minutes the first time)..."
  # The Swift runtime and Foundation linked in: the installed tool starts in a third of the time
  # (no dynamic relocation of Foundation) and needs no Swift libraries on the machine that runs it.
  (cd "$checkout" && swift build -c release --static-swift-stdlib --product connector-host) \
    || fail "the release build failed (above); fix it, then run scripts/install.sh again"
  binary="$(cd "$checkout" && swift build -c release --static-swift-stdlib --show-bin-path)/connector-host"
fi
[ -f "$binary" ] && [ -x "$binary" ] || fail "$binary is not an executable file; build it first (swift build -c release --product connector-host)"

share="$prefix/share/connector-host"
mkdir -p "$prefix/bin" "$prefix/share"
staging="$(mktemp -d "$prefix/share/.connector-host-install.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

# Copies the files of $1 (relative paths from `find`, without caches) into $2.
copy_tree() {
  local from="$1" to="$2"
  shift 2
  mkdir -p "$to"
  (cd "$from" && find . \( -name __pycache__ -o -name '*.pyc' -o -name node_modules -o -name .build "$@" \) -prune -o -type f -print) \
    | while IFS= read -r file; do
      mkdir -p "$to/$(dirname "$file")"
      cp -p "$from/$file" "$to/$file"
    done
}

# The Python SDK: the package, its build backend and metadata (so `pip install` works from here too), not its tests.
copy_tree "$checkout/sdks/python" "$staging/sdks/python" -o -path ./tests -o -path ./benchmarks
# The Node helper, as an npm package folder.
copy_tree "$checkout/sdks/node" "$staging/sdks/node"
# The Swift SDK: its own manifest (sdks/swift) and the two modules' sources, nothing else.
copy_tree "$checkout/sdks/swift" "$staging/sdks/swift"
copy_tree "$checkout/Sources/ConnectorProtocol" "$staging/sdks/swift/Sources/ConnectorProtocol"
copy_tree "$checkout/Sources/ConnectorSDK" "$staging/sdks/swift/Sources/ConnectorSDK"
chmod -R u+rwX,go+rX "$staging"
chmod 755 "$staging"

# The executable through a temporary name and a rename, so a running connector-host is not overwritten in place.
cp "$binary" "$prefix/bin/.connector-host.new"
chmod 755 "$prefix/bin/.connector-host.new"
mv -f "$prefix/bin/.connector-host.new" "$prefix/bin/connector-host"
rm -rf "$share.old"
[ ! -e "$share" ] || mv "$share" "$share.old"
mv "$staging" "$share"
rm -rf "$share.old"
trap - EXIT

echo "installed connector-host into $prefix:"
(cd / && "$prefix/bin/connector-host" --version) | sed 's/^/  /'
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "$prefix/bin is not on PATH; add it: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
