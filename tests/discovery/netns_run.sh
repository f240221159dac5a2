#!/usr/bin/env bash
# Runs a command on one side of a private two-host network: network namespaces A and B joined by
# a veth pair, each with its own system D-Bus and avahi-daemon (the real daemons, in a mount
# namespace of their own so /run/dbus and /run/avahi-daemon are private to that side).
#   netns_run.sh COMMAND [ARGS...]
# COMMAND runs in B. EDGELENS_NETNS_A is set to a command prefix that runs a program in A
# ("nsenter -t PID -n -m --"); EDGELENS_NETNS_A_ADDRESS / _B_ADDRESS are the veth addresses.
# Everything started here is stopped by pid and both namespaces are deleted on any exit.
# Exit 77 (skipped) without root or the packages, which is a failure under CI=true.
set -uo pipefail

# shellcheck source=../support/unavailable.sh
source "$(dirname "$0")/../support/unavailable.sh"

[[ $(id -u) -eq 0 ]] || unavailable "needs root (network namespaces)"
for tool in ip nsenter unshare dbus-daemon avahi-daemon avahi-resolve; do
    command -v "$tool" >/dev/null || unavailable "$tool is missing (packages iproute2 util-linux dbus avahi-daemon avahi-utils)"
done
(($# > 0)) || { echo "usage: netns_run.sh COMMAND [ARGS...]" >&2; exit 64; }

tag="el$$"
nsA="${tag}a"
nsB="${tag}b"
vethA="${tag}va"
vethB="${tag}vb"
# A /24 out of 10.213.0.0/16 per run, so two runs at once do not share addresses.
net="10.213.$(($$ % 250 + 1))"
work=$(mktemp -d /tmp/edgelens-netns.XXXXXX)
holders=()

cleanup() {
    local pid ns
    # Whatever the suite left behind in the namespaces (a server, when the suite crashed before
    # stopping it), by pid; then the daemons by pid: each holder returns from its `wait`, reaps
    # them and exits.
    for ns in "$nsA" "$nsB"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            [[ " ${holders[*]} $(cat "$work"/a.pids "$work"/b.pids 2>/dev/null | tr '\n' ' ') " == *" $pid "* ]] || kill -9 "$pid" 2>/dev/null
        done
    done
    for pid in $(cat "$work"/a.pids "$work"/b.pids 2>/dev/null); do kill "$pid" 2>/dev/null; done
    for pid in "${holders[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    ip netns del "$nsA" 2>/dev/null
    ip netns del "$nsB" 2>/dev/null
    ip link del "$vethA" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$nsA" || unavailable "cannot create network namespaces"
ip netns add "$nsB"
ip link add "$vethA" type veth peer name "$vethB"
ip link set "$vethA" netns "$nsA"
ip link set "$vethB" netns "$nsB"

# One side: addresses, then a holder process with a private mount namespace in which a D-Bus
# system bus and avahi-daemon run; its pid is how the other commands enter that side.
start_side() {
    local ns=$1 veth=$2 address=$3 name=$4
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$veth.accept_dad=0" # link-local usable at once
    ip -n "$ns" addr add "$address/24" dev "$veth"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$veth" up
    cat >"$work/$name-dbus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
    cat >"$work/$name-avahi.conf" <<CONF
[server]
host-name=edgelens-$name
use-ipv4=yes
use-ipv6=yes
allow-interfaces=$veth
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
CONF
    mkdir -p "$work/$name-run-dbus" "$work/$name-run-avahi"
    local pids="$work/$name.pids"
    mkdir -p /run/dbus
    # ip netns exec and unshare exec in turn, so $! ends up as the holder bash itself.
    ip netns exec "$ns" unshare -m --propagation private bash -c '
        mount --bind "$1" /run/dbus
        mkdir -p /run/avahi-daemon && mount --bind "$2" /run/avahi-daemon
        # The bus prints its address once it accepts connections.
        dbus-daemon --config-file="$3" --nofork --nopidfile --print-address=1 >"$5.address" & echo $! >>"$5"
        for _ in $(seq 200); do [[ -s "$5.address" ]] && break; sleep 0.05; done
        avahi-daemon -f "$4" --no-rlimits --no-drop-root --no-chroot --no-proc-title & echo $! >>"$5"
        wait' holder "$work/$name-run-dbus" "$work/$name-run-avahi" "$work/$name-dbus.conf" \
        "$work/$name-avahi.conf" "$pids" >"$work/$name.log" 2>&1 &
    holder=$!
    holders+=("$holder")
    for _ in $(seq 100); do [[ $(cat "$pids" 2>/dev/null | wc -l) -ge 2 ]] && break; sleep 0.05; done
}

start_side "$nsA" "$vethA" "$net.1" a
enterA="nsenter -t $holder -n -m --wd=$PWD --"
start_side "$nsB" "$vethB" "$net.2" b
enterB="nsenter -t $holder -n -m --wd=$PWD --"

# Ready when each side resolves the other's host name over mDNS.
ready=0
for _ in $(seq 100); do
    if $enterB avahi-resolve -4 -n edgelens-a.local >/dev/null 2>&1 && $enterA avahi-resolve -4 -n edgelens-b.local >/dev/null 2>&1; then
        ready=1
        break
    fi
    sleep 0.1
done
if ((ready == 0)); then
    echo "netns_run: the two avahi-daemons did not see each other; logs:" >&2
    cat "$work"/*.log >&2
    exit 1
fi

export EDGELENS_NETNS_A="$enterA"
export EDGELENS_NETNS_A_ADDRESS="$net.1"
export EDGELENS_NETNS_B_ADDRESS="$net.2"
$enterB "$@"
rc=$?
if ((rc != 0)); then
    echo "netns_run: daemon logs:" >&2
    cat "$work"/*.log >&2
fi
exit $rc
