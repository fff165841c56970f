#!/bin/sh
# The long run of the fault-injection suite (Tests/ConnectorHostTests/FaultInjectionTests.swift):
# kills the connector CONNECTOR_KILLS times and the host HOST_KILLS times at random messages of
# random streams, checking the warehouse and the state after every kill and after resuming.
#
# usage: scripts/fault-soak.sh [CONNECTOR_KILLS (1000)] [HOST_KILLS (100)] [SEED]
# A failure prints its seed; pass it as SEED to replay the same kills.
set -eu
cd "$(dirname "$0")/.."
FAULT_INJECTION_KILLS="${1:-1000}"
FAULT_INJECTION_HOST_KILLS="${2:-100}"
export FAULT_INJECTION_KILLS FAULT_INJECTION_HOST_KILLS
if [ -n "${3:-}" ]; then
    FAULT_INJECTION_SEED="$3"
    export FAULT_INJECTION_SEED
fi
swift build --build-tests
started=$(date +%s)
status=0
swift test --skip-build --filter FaultInjectionTests > .build/fault-soak.log 2>&1 || status=$?
grep -E "^fault injection|✘|Expectation failed" .build/fault-soak.log || true
echo "fault soak: $FAULT_INJECTION_KILLS connector kills, $FAULT_INJECTION_HOST_KILLS host kills, $(($(date +%s) - started)) s, exit $status (full log: .build/fault-soak.log)"
exit $status
