#!/usr/bin/env bash
# The README's test command, and all that CI runs (.ci/run calls it):
#   1. installs what is missing, builds (build/), runs every suite under CTest;
#   2. builds the same tree with AddressSanitizer + UndefinedBehaviorSanitizer (build-debug/,
#      the `debug` preset) and runs every suite again under them (LeakSanitizer included);
#   3. builds the libFuzzer harnesses (build-fuzz/) and runs each for FUZZ_SECONDS (30).
# Arguments go to both CTest runs (e.g. -R tst_protocol). EDGELENS_SANITIZERS=0 or
# FUZZ_SECONDS=0 leave out step 2 or 3 for a quicker local run; CI runs all three.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
bash packaging/build.sh
export QT_QPA_PLATFORM=offscreen
ctest --preset default --timeout 600 "$@"

if [[ "${EDGELENS_SANITIZERS:-1}" != 0 ]]; then
    cmake --preset debug >/dev/null
    cmake --build --preset debug -- -j"$(nproc)"
    ctest --preset debug --timeout 1200 "$@"
fi

if [[ "${FUZZ_SECONDS:-30}" != 0 ]]; then
    bash tests/fuzz/run.sh
fi
