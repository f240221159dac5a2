#!/usr/bin/env bash
# The README's test command, and all that CI runs (.ci/run calls it):
#   1. installs what is missing, builds (build/), runs every suite under CTest;
#   2. with EDGELENS_SANITIZERS=1: builds the same tree with AddressSanitizer +
#      UndefinedBehaviorSanitizer (build-debug/, the `debug` preset) and runs every suite
#      again under them (LeakSanitizer included). Off by default until a whole run under them
#      has been made green on CI's machine (docs/DEVELOPING.md, "What CI runs");
#   3. builds the libFuzzer harnesses (build-fuzz/) and runs each for FUZZ_SECONDS (30).
# Arguments go to the CTest runs (e.g. -R tst_protocol). FUZZ_SECONDS=0 leaves out step 3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
bash packaging/build.sh
export QT_QPA_PLATFORM=offscreen
ctest --preset default --timeout 600 "$@"

if [[ "${EDGELENS_SANITIZERS:-0}" == 1 ]]; then
    cmake --preset debug >/dev/null
    cmake --build --preset debug -- -j"$(nproc)"
    ctest --preset debug --timeout 1200 "$@"
fi

if [[ "${FUZZ_SECONDS:-30}" != 0 ]]; then
    bash tests/fuzz/run.sh
fi
