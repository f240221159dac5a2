#!/usr/bin/env bash
# Builds the libFuzzer harnesses (the `fuzz` preset: clang, ASan, UBSan) and runs each for a
# bounded time, starting from its seed corpus in tests/fuzz/corpus/<harness>/.
#
#   tests/fuzz/run.sh                    every harness, 30 s each
#   FUZZ_SECONDS=300 tests/fuzz/run.sh fuzz_framereader fuzz_imageprobe
#
# Inputs the fuzzer finds interesting go to build-fuzz/corpus/<harness>/ (not the repository's
# seeds). A crash, leak, sanitizer report or timeout stops that harness, keeps the input as
# build-fuzz/crashes/<harness>/crash-*, and makes the script exit non-zero once all have run.
# Reproduce one with: build-fuzz/fuzz/<harness> build-fuzz/crashes/<harness>/crash-...
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${FUZZ_SECONDS:-30}"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -- -j"$(nproc)"

harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
    harnesses=()
    for dir in tests/fuzz/corpus/*/; do
        harnesses+=("$(basename "$dir")")
    done
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
failed=()
for h in "${harnesses[@]}"; do
    work="build-fuzz/corpus/$h"
    crashes="build-fuzz/crashes/$h"
    mkdir -p "$work" "$crashes"
    log="build-fuzz/$h.log"
    echo "fuzz: $h for ${seconds} s"
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: unbounded memory is a finding too.
    if build-fuzz/fuzz/"$h" "$work" "tests/fuzz/corpus/$h" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1; then
        # The closing lines: executions, speed and coverage of this run.
        grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^#[0-9]+.*DONE' "$log" \
            | sed "s/^/fuzz: $h: /" || true
    else
        echo "fuzz: $h FAILED; the input is kept in $crashes/:" >&2
        ls "$crashes" >&2 || true
        grep -E 'ERROR|runtime error|invariant broken|SUMMARY' "$log" | head -20 >&2 || true
        failed+=("$h")
    fi
done
if ((${#failed[@]} > 0)); then
    echo "fuzz: failed: ${failed[*]} (logs in build-fuzz/<harness>.log)" >&2
    exit 1
fi
echo "fuzz: ${#harnesses[@]} harnesses ran ${seconds} s each without a finding"
