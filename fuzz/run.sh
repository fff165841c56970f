#!/bin/sh
# Builds the libFuzzer target (fuzz/FuzzTarget.swift compiled into the ConnectorHost module with
# `swiftc -sanitize=fuzzer,address`; not part of `swift build`) and fuzzes the host's line reader,
# message decoder and record decoder for SECONDS.
#
# usage: fuzz/run.sh [SECONDS (60)] [more libFuzzer flags...]
# Seeds: fuzz/corpus (from fuzz/make_corpus.py); new inputs go to .build/fuzz/corpus, crashes to
# .build/fuzz/artifacts. A crash's input belongs in fuzz/seeds/ once fixed (then run make_corpus.py).
set -eu
cd "$(dirname "$0")/.."
seconds="${1:-60}"
[ $# -gt 0 ] && shift
out=.build/fuzz
mkdir -p "$out/corpus" "$out/artifacts" "$out/modules/CConnectorSpawn"
cat > "$out/modules/CConnectorSpawn/module.modulemap" <<MAP
module CConnectorSpawn {
    header "$PWD/Sources/CConnectorSpawn/include/cconnector_spawn.h"
    export *
}
MAP
flags="-sanitize=fuzzer,address -package-name connector_host -parse-as-library -O -g -swift-version 6 -enable-upcoming-feature ExistentialAny"
echo "fuzz: building $out/connector-host-fuzz"
clang -c -O1 -g Sources/CConnectorSpawn/spawn.c -I Sources/CConnectorSpawn/include -o "$out/spawn.o"
# shellcheck disable=SC2086
swiftc $flags -module-name ConnectorProtocol -emit-module -emit-module-path "$out/modules/ConnectorProtocol.swiftmodule" \
    -wmo -c $(find Sources/ConnectorProtocol -name '*.swift' | sort) -o "$out/ConnectorProtocol.o"
# shellcheck disable=SC2086
swiftc $flags -module-name ConnectorHost -I "$out/modules" -I "$out/modules/CConnectorSpawn" -I Sources/CConnectorSQLite \
    $(find Sources/ConnectorHost -name '*.swift' | sort) fuzz/FuzzTarget.swift \
    "$out/ConnectorProtocol.o" "$out/spawn.o" -lsqlite3 -o "$out/connector-host-fuzz"
python3 fuzz/make_corpus.py
echo "fuzz: running for $seconds s"
ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" "$out/connector-host-fuzz" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -dict=fuzz/protocol.dict -print_final_stats=1 -artifact_prefix="$out/artifacts/" \
    "$@" "$out/corpus" fuzz/corpus
