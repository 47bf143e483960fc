#!/usr/bin/env bash
# Quick start, second command: set up with the test extras and run the whole test suite.
# --fast runs the fast lane instead (pytest -m "not slow"); CI runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
ARGS=()
for arg in "$@"; do
    if [ "$arg" = "--fast" ]; then ARGS+=(-m "not slow"); else ARGS+=("$arg"); fi
done
bash scripts/setup.sh dev
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest ${ARGS[@]+"${ARGS[@]}"}
