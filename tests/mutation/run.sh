#!/usr/bin/env bash
# Mutation check of the security tests: deletes each line listed in tests/mutation/lines.txt in
# turn, rebuilds only the suite named for it (and what that suite links), runs that suite and
# expects it to FAIL. A suite that still passes without the line does not guard it.
#
#   bash tests/mutation/run.sh                  every entry, in build/ (cmake --preset default first)
#   bash tests/mutation/run.sh tst_devicechannel    only the entries of these suites
#   BUILD_DIR=build-other bash tests/mutation/run.sh
#
# The line is deleted in the working tree itself, one file at a time, and the file is put back
# from a copy whatever happens (trap on exit, Ctrl-C included); uncommitted changes in it are
# kept. Afterwards the touched suites are rebuilt from the restored sources, so the build folder
# is left as the sources are. Exit status: 0 when every entry was caught, 1 when one survived
# (or its line is gone or no longer compiles when deleted), 2 on a usage error.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
list="tests/mutation/lines.txt"
build="${BUILD_DIR:-build}"
export QT_QPA_PLATFORM=offscreen

if [[ ! -f "$build/build.ninja" && ! -f "$build/Makefile" ]]; then
    echo "mutation: no configured build in $build/ (run: cmake --preset default)" >&2
    exit 2
fi

backup=""
target_file=""
restore() {
    if [[ -n "$backup" && -f "$backup" ]]; then
        cat "$backup" >"$target_file" # a new mtime: the next build recompiles the original
        rm -f "$backup"
        backup=""
    fi
}
trap restore EXIT
trap 'restore; exit 130' INT TERM

only=("$@")
wanted() {
    ((${#only[@]} == 0)) && return 0
    local s
    for s in "${only[@]}"; do [[ "$s" == "$1" ]] && return 0; done
    return 1
}

trim() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' <<<"$1"; }

caught=0
problems=()
suites=()
start=$(date +%s)
while IFS= read -r raw || [[ -n "$raw" ]]; do
    [[ -z "$(trim "$raw")" || "$(trim "$raw")" == \#* ]] && continue
    file=$(trim "$(cut -d'|' -f1 <<<"$raw")")
    suite=$(trim "$(awk -F'|' '{print $NF}' <<<"$raw")")
    text=$(trim "$(sed -e 's/^[^|]*|//' -e 's/|[^|]*$//' <<<"$raw")")
    wanted "$suite" || continue
    label="$file: $text"
    if [[ ! -f "$file" ]]; then
        problems+=("STALE  $label (no such file)")
        continue
    fi
    # Lines whose text, without indentation and trailing blanks, is exactly the entry's.
    mapfile -t hits < <(awk -v want="$text" '{ line = $0; sub(/^[ \t]+/, "", line); sub(/[ \t\r]+$/, "", line);
                                               if (line == want) print NR }' "$file")
    if ((${#hits[@]} != 1)); then
        problems+=("STALE  $label (found ${#hits[@]} times, expected once)")
        continue
    fi
    backup=$(mktemp)
    target_file="$file"
    cp "$file" "$backup"
    sed -i "${hits[0]}d" "$file"
    suites+=("$suite")
    t0=$(date +%s)
    log="$build/mutation-$suite-line${hits[0]}.log"
    if ! cmake --build "$build" --target "$suite" >"$log" 2>&1; then
        restore
        problems+=("BUILD  $label (does not compile without the line; see $log)")
        continue
    fi
    if ctest --test-dir "$build" -R "^${suite}\$" --output-on-failure >>"$log" 2>&1; then
        verdict="SURVIVED"
        problems+=("ALIVE  $label ($suite passed without it; see $log)")
    else
        verdict="caught"
        caught=$((caught + 1))
        rm -f "$log"
    fi
    restore
    echo "mutation: $verdict by $suite in $(($(date +%s) - t0)) s: $label"
done <"$list"

# Leave the build as the sources are.
if ((${#suites[@]} > 0)); then
    mapfile -t unique < <(printf '%s\n' "${suites[@]}" | sort -u)
    for s in "${unique[@]}"; do
        cmake --build "$build" --target "$s" >/dev/null 2>&1 || echo "mutation: rebuilding $s from the restored sources failed" >&2
    done
fi
echo "mutation: $caught caught, ${#problems[@]} not, in $(($(date +%s) - start)) s"
if ((${#problems[@]} > 0)); then
    printf 'mutation: %s\n' "${problems[@]}" >&2
    exit 1
fi
