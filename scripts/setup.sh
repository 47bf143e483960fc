#!/usr/bin/env bash
# Create .venv (if missing) and install the project with the given extras.
# Usage: bash scripts/setup.sh EXTRAS   (e.g. "api" or "dev")
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-api}"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${extras}]"
