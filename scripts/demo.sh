#!/usr/bin/env bash
# Quick start, first command: set up, build the bundled demo data into data/build, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh api
export HF_HUB_OFFLINE=1
.venv/bin/ikg build data/demo --data-dir data/build
.venv/bin/ikg stats --data-dir data/build
exec .venv/bin/ikg serve --data-dir data/build "$@"
