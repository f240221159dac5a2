#!/usr/bin/env bash
# tst_container (issue 18): the server's container image in real podman, on loopback.
#   1. the image as people run it (its own command: ports 6000 and 5000, published on
#      127.0.0.1; weights read-only at /models; a named volume; the token from EDGELENS_TOKEN):
#      runs as the unprivileged user, its health check passes, edgelens-cli (v2) and an
#      unmodified DeepStack client library (tests/http/deepstack_library_test.sh) get detections
#      for the samples, and `podman stop -t 2` ends it with exit code 0: the server drained on
#      SIGTERM by itself (without that, podman kills it after 2 s and the code is 137);
#   2. with --tls: the health check passes (HTTPS), the CLI pinned to the fingerprint the
#      server printed is served; a new container on the same volume presents the same
#      certificate (the TLS identity lives in the volume), and the pinned CLI is served again.
# Usage: container_test.sh EDGELENS_CLI SHARED_DIR SOURCE_DIR
# The image archive is $EDGELENS_OCI_ARCHIVE, else SOURCE_DIR/build/oci/edgelens-server.tar,
# made once per run by packaging/oci.sh (packaging/test.sh does; both test stages use it).
# podman gets a storage, a network and a containers.conf of its own under a temporary folder
# (runc, ulimits below this VM's hard limits, no systemd or journald needed); containers,
# volume, network and storage are removed by name at the end, also after a failure.
# Exit 77 (CTest: skipped) when podman, runc or the archive is missing, except under CI=true.
set -euo pipefail
cli=$1
shared=$2
source=$3
archive=${EDGELENS_OCI_ARCHIVE:-$source/build/oci/edgelens-server.tar}

source "$(dirname "$0")/../support/unavailable.sh"
command -v podman >/dev/null || unavailable "podman is not installed (packaging/install-deps.sh)"
command -v runc >/dev/null || unavailable "runc is not installed (packaging/install-deps.sh)"
[[ -f $archive ]] || unavailable "no image archive $archive: run bash packaging/oci.sh first (packaging/test.sh does)"
[[ -f $shared/data/samples/soccer.jpg && -d $shared/models ]] || unavailable "$shared/data/samples or $shared/models is missing"
[[ $(id -u) == 0 ]] || unavailable "needs root for podman with its own storage and network"

fail() { echo "container_test: FAIL: $*" >&2; exit 1; }

work=$(mktemp -d)
tag=edgelens-test-$$
containers=("$tag-plain" "$tag-tls" "$tag-tls-again")
volume=$tag-data
network=$tag-net
bridge=""
# Without systemd podman logs an error for each health-check timer it cannot add or remove;
# `podman healthcheck run` below runs the check itself.
p() {
    podman --root "$work/storage" --runroot "$work/run" "$@" 2> >(grep -v 'unable to get systemd connection' >&2)
}
cleanup() {
    local rc=$?
    for name in "${containers[@]}"; do p rm --force --time 0 "$name" >/dev/null 2>&1 || true; done
    p volume rm --force "$volume" >/dev/null 2>&1 || true
    p network rm --force "$network" >/dev/null 2>&1 || true
    # CNI leaves the bridge of a removed network behind.
    [[ -n $bridge ]] && ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge"
    p rmi --all --force >/dev/null 2>&1 || true
    p system reset --force >/dev/null 2>&1 || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

# podman on these VMs: runc (crun fails), ulimits within the hard limits this shell has (the
# defaults ask for more and runc's setrlimit is refused), cgroupfs and a log file instead of
# systemd and journald. Kept here, never in the image.
nofile=$(ulimit -Hn); [[ $nofile == unlimited || $nofile -gt 4096 ]] && nofile=4096
nproc=$(ulimit -Hu); [[ $nproc == unlimited || $nproc -gt 4096 ]] && nproc=4096
mkdir -p "$work/cni" "$work/home"
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
[network]
network_config_dir = "$work/cni"
CONF
export CONTAINERS_CONF=$work/containers.conf
# The CLI's settings and remembered devices stay in the temporary folder.
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share

loaded=$(p load --quiet --input "$archive") || fail "podman load of $archive failed"
# "Loaded image: NAME" per name, or "Loaded image(s): NAME,NAME": the first name.
image=$(sed -n '1{s/^[^:]*: *//; s/,.*//; p}' <<<"$loaded")
[[ -n $image ]] || fail "podman load named no image: $loaded"
echo "container_test: loaded $image from $archive"
p network create "$network" >/dev/null
bridge=$(p network inspect "$network" --format '{{.NetworkInterface}}')
p volume create "$volume" >/dev/null
token=T-$RANDOM$RANDOM

# run NAME [server options]: starts the image detached; without options it runs its own command.
run() {
    local name=$1
    shift
    p run --detach --name "$name" --network "$network" \
        --publish 127.0.0.1::6000 --publish 127.0.0.1::5000 \
        --env EDGELENS_TOKEN="$token" \
        --volume "$shared/models:/models:ro" --volume "$volume:/var/lib/edgelens" \
        "$image" "$@" >/dev/null
    local i
    for i in $(seq 1 300); do
        p logs "$name" 2>/dev/null | grep -q '^listening on' && return 0
        [[ $(p inspect --format '{{.State.Running}}' "$name") == true ]] \
            || { p logs "$name" >&2; fail "$name exited before listening"; }
        sleep 0.2
    done
    p logs "$name" >&2
    fail "$name did not listen within 60 s"
}
published() { p port "$1" "$2/tcp" | head -n1 | sed 's/.*://'; }
fingerprint() { p logs "$1" 2>/dev/null | sed -n 's/^tls certificate \(sha256:[0-9A-Fa-f:]*\).*/\1/p' | head -n1; }
# cli_run OUT ARGS...: the CLI must succeed without a sanitizer report (the debug stage's CLI).
cli_run() {
    local out=$1
    shift
    "$cli" --quiet --json --output "$out" "$@" 2>"$out.err" || { cat "$out.err" >&2; fail "edgelens-cli $*"; }
    ! grep -E -q 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out.err" || { cat "$out.err" >&2; fail "sanitizer report"; }
}
people() { grep -o '"label": *"person"' "$1" | wc -l; }
# stop NAME: podman stop with 2 s of grace; exit code 0 means the server ended itself on SIGTERM.
stop() {
    local started=$SECONDS code
    p stop --time 2 "$1" >/dev/null
    code=$(p inspect --format '{{.State.ExitCode}}' "$1")
    echo "container_test: podman stop $1: exit code $code after about $((SECONDS - started)) s"
    [[ $code == 0 ]] || { p logs "$1" >&2; fail "$1 exited with $code on SIGTERM (137: killed after the 2 s grace)"; }
}

# 1. The image's own command.
run "$tag-plain"
v2=$(published "$tag-plain" 6000)
http=$(published "$tag-plain" 5000)
[[ -n $v2 && -n $http ]] || fail "ports 6000 and 5000 are not published"
user=$(p top "$tag-plain" user | awk 'NR == 2 { print $1 }')
[[ $user == edgelens ]] || fail "the server runs as '$user', not as edgelens"
p healthcheck run "$tag-plain" || fail "health check"
samples=$(find "$shared/data/samples" -maxdepth 1 -name '*.jpg' | wc -l)
((samples > 0)) || fail "no samples"
cli_run "$work/v2" --host "127.0.0.1:$v2" --protocol v2 --token "$token" "$shared/data/samples"
results=$(find "$work/v2" -name '*.json' | wc -l)
((results == samples)) || fail "edgelens-cli wrote $results JSON results for $samples samples"
soccer=$(find "$work/v2" -name 'soccer*.json' | head -n1)
[[ -n $soccer ]] && (($(people "$soccer") >= 3)) || fail "soccer.jpg: fewer than 3 people in $soccer"
echo "container_test: edgelens-cli (v2): $results results, $(people "$soccer") people in soccer.jpg"
# Unmodified DeepStack client; the image serves every model in /models (yolo-fastest-xl-320 too).
status=0
DEEPSTACK_TEST_PORT=$http DEEPSTACK_TEST_TOKEN=$token \
    bash "$source/tests/http/deepstack_library_test.sh" - "$shared" || status=$?
((status == 0)) || { ((status == 77)) && exit 77; fail "DeepStack client library (exit $status)"; }
stop "$tag-plain"
p logs "$tag-plain" 2>&1 | grep -q 'shutting down' || fail "no drain on SIGTERM in the log"

# 2. TLS: the identity is created in the volume once and kept by the next container.
run "$tag-tls" --port 6000 --http-port 5000 --tls
first=$(fingerprint "$tag-tls")
[[ -n $first ]] || { p logs "$tag-tls" >&2; fail "no TLS fingerprint printed"; }
p healthcheck run "$tag-tls" || fail "health check over HTTPS"
# The server is PID 1 and reaps no children: the check must leave none behind (zombies).
processes=$(p top "$tag-tls" pid args | tail -n +2)
[[ $(wc -l <<<"$processes") == 1 ]] || fail "processes left in the container after the health check: $processes"
tls=$(published "$tag-tls" 6000)
cli_run "$work/tls" --host "127.0.0.1:$tls" --tls-fingerprint "$first" --token "$token" "$shared/data/samples/soccer.jpg"
stop "$tag-tls"
p rm "$tag-tls" >/dev/null
run "$tag-tls-again" --port 6000 --http-port 5000 --tls
again=$(fingerprint "$tag-tls-again")
[[ $again == "$first" ]] || fail "the new container presents $again, the first presented $first"
tls=$(published "$tag-tls-again" 6000)
cli_run "$work/tls-again" --host "127.0.0.1:$tls" --tls-fingerprint "$first" --token "$token" "$shared/data/samples/soccer.jpg"
stop "$tag-tls-again"
echo "container_test: TLS fingerprint $first kept across containers (volume)"
echo "container_test: passed"
