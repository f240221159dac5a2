#!/usr/bin/env bash
# Shaped-link benchmark (docs/TRANSFER.md): 12 MP photos over a 50 Mbit/s link, three designs:
#   legacy       the tutorial's way: one connection per image, whole file up, marked-up JPEG back
#   v2-files     v2 sending whole files (edgelens-cli --send-original; detections back, markup drawn locally)
#   v2-transfer  the desktop app: reduced copies for the model, detections back, markup drawn locally
# As root each design runs in a network namespace whose loopback has MTU 1500, once unshaped and
# once behind `tc qdisc add dev lo root tbf rate 50mbit burst 64kb latency 200ms`; without root it
# says so and runs unshaped on the host loopback (bytes then include other traffic on lo).
# Photos are generated into a temporary folder from coco128-train and deleted afterwards.
# Besides images/s (which depends on what else runs on the machine) it prints the CPU time per
# image of the client process (startup included) and of the server, which do not, and per link
# the ratio of the desktop app's images/s to the tutorial's way.
# Usage: packaging/shaped-link-bench.sh [COUNT]   (env EDGELENS_BIN_DIR, EDGELENS_SHARED_DIR, MODEL)
# Needs ip and tc (iproute2), /usr/bin/time and python3: EDGELENS_WITH_BENCH=1 packaging/install-deps.sh
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${EDGELENS_BIN_DIR:-$here/build/bin}"
shared="${EDGELENS_SHARED_DIR:-$here/../shared}"
count="${1:-24}"
model="${MODEL:-picodet-s-320}"
ns="edgelens-shaped-$$"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$bin/edgelens-bench" --make-photos "$work/photos" --count "$count" --images "$shared/data/coco128-train/images" >/dev/null
photo_bytes=$(du -cb "$work"/photos/*.jpg | tail -1 | cut -f1)

rooted=0
[ "$(id -u)" = 0 ] && rooted=1
[ $rooted = 1 ] || echo "not root: cannot create a network namespace or shape the link; running unshaped on the host loopback only" >&2

in_ns() { if [ $rooted = 1 ]; then ip netns exec "$ns" "$@"; else "$@"; fi; }
lo_bytes() { in_ns cat /sys/class/net/lo/statistics/tx_bytes; }

start_server() {
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # Not through in_ns: a backgrounded shell function would leave $! naming a subshell, and
    # killing it would leave the server running. `ip netns exec` execs the server itself.
    if [ $rooted = 1 ]; then
        ip netns exec "$ns" "$bin/edgelens-server" --host 127.0.0.1 --port "$port" --model "$model" >"$work/server.log" 2>&1 &
    else
        "$bin/edgelens-server" --host 127.0.0.1 --port "$port" --model "$model" >"$work/server.log" 2>&1 &
    fi
    server_pid=$!
    for _ in $(seq 1 300); do
        in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1
}

stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

# p50 of the per-image round trips edgelens-cli prints as "(123 ms)"
p50() { grep -o '([0-9]* ms)' "$1" | tr -dc '0-9\n' | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

# CPU seconds (user + system) a process has used so far
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
timed=(/usr/bin/time -f '%U %S' -o "$work/time") # the client's CPU time, into $work/time

run_design() { # design link
    local design=$1 link=$2 out="$work/out-$1-$2" log="$work/log-$1-$2" before after t0 t1 rc=0 s0 s1
    before=$(lo_bytes); s0=$(cpu_of "$server_pid"); t0=$(date +%s.%N)
    case $design in
    legacy) in_ns "${timed[@]}" "$bin/edgelens-cli" --host 127.0.0.1 --port "$port" --protocol legacy --concurrency 1 \
                --output "$out" "$work/photos" >"$log" 2>&1 || rc=$? ;;
    v2-files) in_ns "${timed[@]}" "$bin/edgelens-cli" --host 127.0.0.1 --port "$port" --protocol v2 --send-original --concurrency 4 --json \
                --output "$out" "$work/photos" >"$log" 2>&1 || rc=$? ;;
    v2-transfer) in_ns env QT_QPA_PLATFORM=offscreen HOME="$work/home-$link" XDG_CONFIG_HOME="$work/home-$link/.config" \
                "${timed[@]}" "$bin/edgelens" --host 127.0.0.1 --port "$port" --quit-when-done --no-session --output "$out" \
                "$work/photos" >"$log" 2>&1 || rc=$? ;;
    esac
    t1=$(date +%s.%N); after=$(lo_bytes); s1=$(cpu_of "$server_pid")
    local jpgs jsons
    jpgs=$(find "$out" -name '*.jpg' 2>/dev/null | wc -l); jsons=$(find "$out" -name '*.json' 2>/dev/null | wc -l)
    local latency="-"
    [ "$design" = v2-transfer ] || latency=$(p50 "$log")
    local client_cpu
    client_cpu=$(awk 'NF == 2 && $1 ~ /^[0-9.]+$/ { c = $1 + $2 } END { print c + 0 }' "$work/time" 2>/dev/null || echo 0)
    awk -v d="$design" -v l="$link" -v n="$count" -v t0="$t0" -v t1="$t1" -v b="$((after - before))" \
        -v p="$latency" -v rc="$rc" -v j="$jpgs" -v s="$jsons" -v cc="$client_cpu" -v sc="$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" \
        'BEGIN { printf "| %-11s | %-8s | %6.2f | %9.0f | %6s | %6.0f | %6.0f | %d jpg, %d json, exit %d |\n", d, l, n/(t1-t0), b/n, p, 1000*cc/n, 1000*sc/n, j, s, rc }' \
        | tee -a "$work/rows"
}

echo "$count photos 4032x3024, $((photo_bytes / count / 1024)) KiB each on average; model $model"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| design      | link     | img/s  | bytes/img | p50 ms | client CPU ms/img | server CPU ms/img | results |"
echo "|---|---|---|---|---|---|---|---|"
: >"$work/rows"
links="unshaped"
[ $rooted = 1 ] && links="unshaped shaped"
for link in $links; do
    if [ $rooted = 1 ]; then
        ip netns add "$ns"
        ip -n "$ns" link set lo mtu 1500 up
        [ "$link" = shaped ] && ip netns exec "$ns" tc qdisc add dev lo root tbf rate 50mbit burst 64kb latency 200ms
    fi
    start_server
    for design in legacy v2-files v2-transfer; do
        run_design "$design" "$link"
    done
    stop_server
    [ $rooted = 1 ] && ip netns del "$ns"
done
# The done-when figure: the desktop app against the tutorial's way on the same link and photos.
for link in $links; do
    awk -v l="$link" -F'|' '{ gsub(/ /, "", $2); gsub(/ /, "", $3) } $3 == l { r[$2] = $4 }
        END { if (r["legacy"] > 0) printf "%s: v2-transfer / legacy = %.1fx\n", l, r["v2-transfer"] / r["legacy"] }' "$work/rows"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
