#!/bin/sh
# The long run of the fault-injection suite (Tests/ConnectorHostTests/FaultInjectionTests.swift):
# kills the connector CONNECTOR_KILLS times; kills or stops the host HOST_KILLS times (SIGKILL,
# SIGTERM or SIGHUP, a third each on average) at random messages of random streams; and attempts
# RESETS `connector-host reset --yes` at random moments of syncs. The warehouse and the state are
# checked after every kill, signal and reset, and after resuming (against an uninterrupted run).
# Kills and signals run on SQLite and on PostgreSQL (a throwaway cluster, or CONNECTOR_HOST_TEST_POSTGRES);
# resets on SQLite, whose reset deletes the files a running sync holds.
#
# usage: scripts/fault-soak.sh [CONNECTOR_KILLS (1000)] [HOST_KILLS (100)] [RESETS (25)] [SEED]
# A failure prints its seed; pass it as SEED to replay the same kills. On a shared machine:
#   nice -n 19 scripts/fault-soak.sh 2000 200 50
set -eu
cd "$(dirname "$0")/.."
FAULT_INJECTION_KILLS="${1:-1000}"
FAULT_INJECTION_HOST_KILLS="${2:-100}"
FAULT_INJECTION_RESETS="${3:-25}"
export FAULT_INJECTION_KILLS FAULT_INJECTION_HOST_KILLS FAULT_INJECTION_RESETS
if [ -n "${4:-}" ]; then
    FAULT_INJECTION_SEED="$4"
    export FAULT_INJECTION_SEED
fi
swift build --build-tests
started=$(date +%s)
status=0
swift test --skip-build --filter FaultInjectionTests > .build/fault-soak.log 2>&1 || status=$?
grep -E "^fault injection|✘|Expectation failed" .build/fault-soak.log || true
echo "fault soak: $FAULT_INJECTION_KILLS connector kills, $FAULT_INJECTION_HOST_KILLS host kills or signals, $FAULT_INJECTION_RESETS resets, $(($(date +%s) - started)) s, exit $status (full log: .build/fault-soak.log)"
exit $status
