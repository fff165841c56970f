#!/bin/sh
# bench/setup_venv.sh - the benchmark's optional tools, in bench/.venv (never a project dependency):
# matplotlib for bench/plot.py, and the Fivetran Connector SDK for the comparison case of bench/run
# (`fivetran debug` runs offline; it writes to DuckDB).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
python3 -m venv "$here/.venv"
"$here/.venv/bin/pip" install --quiet --upgrade pip
"$here/.venv/bin/pip" install --quiet matplotlib fivetran-connector-sdk
"$here/.venv/bin/python" -c "import matplotlib, fivetran_connector_sdk; print('bench/.venv: matplotlib', matplotlib.__version__, '+ fivetran-connector-sdk')"
