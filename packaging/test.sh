#!/usr/bin/env bash
# The README's test command, and all that CI runs (.ci/run calls it):
#   1. installs what is missing, builds (build/), makes the server's container image
#      (packaging/oci.sh, into build/oci/; EDGELENS_CONTAINER=0 leaves it out locally, and
#      tst_container then skips), runs every suite under CTest;
#   2. builds the same tree with AddressSanitizer + UndefinedBehaviorSanitizer (build-debug/,
#      the `debug` preset) and runs every suite again under them, LeakSanitizer included
#      (tests/sanitizers/run.sh; EDGELENS_SANITIZERS=0 leaves it out locally);
#   3. builds the libFuzzer harnesses (build-fuzz/) and runs each for FUZZ_SECONDS (30)
#      (tests/fuzz/run.sh; FUZZ_SECONDS=0 leaves it out locally).
# Arguments go to the CTest runs (e.g. -R tst_protocol). Each stage prints how long it took.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo "test.sh: $1 took $((SECONDS - started)) s"; started=$SECONDS; }
started=$SECONDS
bash packaging/install-deps.sh
stage "installing dependencies"
bash packaging/build.sh
stage "the release build"
if [[ "${EDGELENS_CONTAINER:-1}" != 0 ]]; then
    bash packaging/oci.sh
    stage "the container image"
fi
export QT_QPA_PLATFORM=offscreen
ctest --preset default --timeout 600 "$@"
stage "the suites"

if [[ "${EDGELENS_SANITIZERS:-1}" != 0 ]]; then
    bash tests/sanitizers/run.sh "$@"
    stage "the sanitizer build and suites"
fi

if [[ "${FUZZ_SECONDS:-30}" != 0 ]]; then
    bash tests/fuzz/run.sh
    stage "the fuzz harnesses"
fi
