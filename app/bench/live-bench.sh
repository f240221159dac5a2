#!/usr/bin/env bash
# The live view's bench (issue 17): a 720p30 RTSP stream on loopback whose frames carry their
# capture time (tests/support/streams/livestream.py), an edgelens-server --workers 1 --threads 1
# with the default model, and edgelens-livebench between them: live detections/s against the
# same device's single-frame images/s in the same run, capture-to-screen p95 against the
# device's p95 + 150 ms, p95 of the last 10 s against the first 10 s.
#
#   bash app/bench/live-bench.sh [SECONDS]      (build/ first: cmake --build build --target
#                                                edgelens-server edgelens-livebench)
# Environment: EDGELENS_BUILD_DIR (default build), EDGELENS_SHARED_DIR (default ../shared),
# LIVE_SIZE (1280x720), LIVE_FPS (30).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${EDGELENS_BUILD_DIR:-$root/build}
shared=${EDGELENS_SHARED_DIR:-$root/../shared}
seconds=${1:-60}
size=${LIVE_SIZE:-1280x720}
fps=${LIVE_FPS:-30}
work=$(mktemp -d)
stream_pid=""
server_pid=""

cleanup() {
    [[ -n "$stream_pid" ]] && kill "$stream_pid" 2>/dev/null && wait "$stream_pid" 2>/dev/null || true
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # file pattern seconds
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qE "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "live-bench: timed out waiting for '$2' in $1:" >&2
    cat "$1" >&2
    return 1
}

/usr/bin/python3 "$root/tests/support/streams/livestream.py" rtsp --size "$size" --fps "$fps" \
    --background "$shared/data/samples/soccer.jpg" >"$work/stream.out" 2>"$work/stream.err" &
stream_pid=$!
wait_for "$work/stream.out" '^READY ' 30
url=$(awk '/^READY /{print $2}' "$work/stream.out")

"$build/bin/edgelens-server" --host 127.0.0.1 --port 0 --workers 1 --threads 1 \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
wait_for "$work/server.out" '^listening on ' 120
port=$(sed -nE 's/^listening on [^ ]+:([0-9]+)$/\1/p' "$work/server.out" | head -1)
model=$(grep -m1 -oE 'model [^ ]+' "$work/server.err" | head -1 || true)

echo "stream: $url ($size @ $fps fps, x264 zerolatency)"
echo "device: edgelens-server --workers 1 --threads 1 on 127.0.0.1:$port ${model:+($model)}"
echo "load before: $(uptime)"
${BENCH_WRAP:-} "$build/bin/edgelens-livebench" --source "$url" --host "127.0.0.1:$port" --seconds "$seconds" "${@:2}"
echo "load after: $(uptime)"
