#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every suite under CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
bash packaging/build.sh
export QT_QPA_PLATFORM=offscreen
ctest --preset default --timeout 600 "$@"
