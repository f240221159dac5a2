#!/usr/bin/env bash
# Installs exactly the Debian 12 packages EdgeLens needs to build, test and run.
# Idempotent: packages already present are left alone, so it is cheap to call every time.
set -euo pipefail

packages=(
    # toolchain
    cmake ninja-build g++ ccache
    # clang's libFuzzer and sanitizer runtimes for tests/fuzz (docs/DEVELOPING.md)
    clang libclang-rt-14-dev
    # Qt 6 (Core, Gui, Widgets, Network, Concurrent, Test) and WebP/TIFF thumbnails in the app
    qt6-base-dev qt6-image-formats-plugins
    # the app keeps the device token in the desktop keyring
    qtkeychain-qt6-dev
    # OpenCV (imgcodecs, dnn, objdetect) and its cascades, the detector of last resort
    libopencv-dev opencv-data
    # ONNX graphs read and rewritten in memory for OpenCV 4.6 (Clip's opset 11 form, PicoDet)
    libonnx-dev libprotobuf-dev
    # the server's self-signed TLS certificate (libcrypto); `openssl s_client` in the TLS tests
    libssl-dev openssl
    # nginx's stream module and HAProxy in front of two servers (tst_loadbalancer, docs/DEPLOY.md)
    nginx-light libnginx-mod-stream haproxy
    # promtool, which checks the /metrics output in the tests
    prometheus
    # the server's container image, made from Debian's packages without a base image
    # (packaging/oci.sh: mmdebstrap, buildah), and its test in podman (tests/container): runc,
    # since crun fails on these VMs; uidmap for rootless use
    mmdebstrap buildah podman runc uidmap
    # DNS-SD over mDNS: the server announces itself and clients find devices through the system's
    # avahi-daemon (libavahi-client); tst_discovery runs its own D-Bus and avahi-daemon in each of
    # two network namespaces joined by a veth pair (iproute2; docs/DEPLOY.md)
    libavahi-client-dev avahi-daemon avahi-utils dbus iproute2
    # Live view tests and bench (tests/support/streams/livestream.py): a real RTSP server on
    # loopback from GStreamer's RTSP server library through Python (appsrc -> x264enc ->
    # rtph264pay), MJPEG over HTTP and test video files from ffmpeg; OpenCV's videoio reads them.
    # The video-file tests and bench also make their clips with ffmpeg and check frame indices
    # and timestamps against ffprobe's
    python3-gi python3-numpy gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
    gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly ffmpeg
    # FFmpeg's log callback (libavutil), so its messages reach our log with credentials masked
    libavutil-dev
    # Video files are read with FFmpeg's libraries directly (common/inputs/videodecoder.cpp:
    # frames nobody keeps are not decoded, which OpenCV's videoio cannot be told), and frame
    # files are JPEG-encoded from BGR by TurboJPEG (no byte-by-byte channel swap)
    libavformat-dev libavcodec-dev libswscale-dev libturbojpeg0-dev
)
# Node.js and npm run an existing DeepStack client library (installed from npm into a temporary
# folder) against the server's HTTP API in the tests. A Node.js from elsewhere (with its own npm)
# is used as it is.
command -v npm >/dev/null || packages+=(nodejs npm)
if [[ "${EDGELENS_WITH_X:-0}" == 1 ]]; then
    # Only for screenshots of the app under a virtual X server.
    packages+=(xvfb xauth imagemagick)
fi
if [[ "${EDGELENS_WITH_BENCH:-0}" == 1 ]]; then
    # Only for packaging/shaped-link-bench.sh: namespaces and tc, CPU times, a free port.
    packages+=(iproute2 time python3)
fi
if [[ "${EDGELENS_WITH_DEB:-0}" == 1 ]]; then
    # Only for packaging/deb.sh: Debian package build, man pages, checks of the result.
    packages+=(dpkg-dev debhelper fakeroot help2man lintian appstream desktop-file-utils)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
    sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
