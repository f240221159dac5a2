#!/usr/bin/env bash
# Builds the container image of edgelens-server from Debian packages only, no base image from
# any registry: the server package (deb.sh --server-only, or the one given with --deb) is
# installed with mmdebstrap into a bookworm chroot, which apt fills with exactly that package's
# dependencies; packaging/container/image-tree.sh copies out what the server loads (the
# image's root file system), and buildah makes the image. Outputs in build/oci/:
#   edgelens-server.tar      docker-archive, tagged VERSION and latest: `podman load -i` and
#                            `docker load -i` both read it
#   edgelens-server.oci.tar  OCI archive, for tools that want OCI (the OCI image format has no
#                            health check, so this one has none)
# The image: user edgelens (uid 10001), entrypoint edgelens-server, ports 6000 (EdgeLens v2 and
# the tutorial's protocol) and 5000 (HTTP: DeepStack API, /metrics, /healthz), volume
# /var/lib/edgelens (models downloaded for the server, its TLS identity), weights also read from
# /models, health check on /healthz. docs/DEPLOY.md ("In a container") says how to run it.
# Usage: oci.sh [--deb build/deb/edgelens-server_VERSION_ARCH.deb]
# Environment: EDGELENS_DEBIAN_MIRROR (default: the mirror this machine's apt uses for bookworm,
# else http://deb.debian.org/debian; security updates too). Root, or rootless with subordinate ids (mmdebstrap's
# unshare mode, buildah). Downloaded packages are kept in build/oci/apt-cache for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
uid=10001

deb=""
case "${1:-}" in
    "") ;;
    --deb) deb=$(realpath -- "${2:?--deb needs a file}") ;;
    *) echo "usage: oci.sh [--deb FILE]" >&2; exit 2 ;;
esac
bash packaging/install-deps.sh

if [[ -z $deb ]]; then
    bash packaging/deb.sh --server-only
    deb=$(realpath build/deb/edgelens-server_*.deb)
fi
echo "oci.sh: the server package took $((SECONDS - started)) s"
version=$(dpkg-deb --field "$deb" Version)
image=localhost/edgelens-server

out=build/oci
mkdir -p "$out/apt-cache"
rm -f "$out/image.tar" "$out/edgelens-server.tar" "$out/edgelens-server.oci.tar"

# The Debian mirror this machine's apt uses for bookworm (and its security archive), so a
# machine that reaches only its own mirror works as it is.
host_site() {
    apt-get indextargets --format '$(SITE)' "Codename: $1" 'Component: main' 'Created-By: Packages' 2>/dev/null \
        | head -n1
}
mirror=${EDGELENS_DEBIAN_MIRROR:-$(host_site bookworm)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(host_site bookworm-security)
security=${security:-${mirror%/debian}/debian-security}
bootstrap_started=$SECONDS
# The chroot itself is thrown away (null format); only what image-tree.sh copied to /image
# leaves it, as image.tar. Documentation, man pages and translations are not even unpacked.
mmdebstrap --variant=apt --format=null --skip=essential/unlink \
    --include="$deb" --include=openssl \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt=force-unsafe-io \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
    --setup-hook="sync-in $out/apt-cache /var/cache/apt/archives" \
    --customize-hook="sync-out /var/cache/apt/archives $out/apt-cache" \
    --customize-hook="copy-in packaging/container/image-tree.sh packaging/container/healthcheck.sh /tmp" \
    --customize-hook="chroot \"\$1\" bash /tmp/image-tree.sh $uid" \
    --customize-hook="copy-out /image.tar $out" \
    bookworm /dev/null \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main"
echo "oci.sh: the root file system took $((SECONDS - bootstrap_started)) s"

# A storage of our own (vfs: plain directories, nothing mounted), removed at the end, so the
# build leaves nothing in the system's container storage.
storage=$(mktemp -d "$PWD/$out/storage.XXXXXX")
trap 'rm -rf "$storage"' EXIT
b() { buildah --root "$storage/root" --runroot "$storage/run" --storage-driver vfs "$@"; }
container=$(b from --format docker scratch)
b add "$container" "$out/image.tar" /
b add --chmod 0755 "$container" packaging/container/healthcheck.sh /usr/libexec/edgelens/healthcheck
b config \
    --user "$uid:$uid" --workingdir /var/lib/edgelens \
    --env HOME=/var/lib/edgelens --env XDG_DATA_HOME=/var/lib/edgelens \
    --env EDGELENS_MODEL_PATH=/models --env LANG=C.UTF-8 \
    --port 6000/tcp --port 5000/tcp --volume /var/lib/edgelens \
    --entrypoint '["/usr/bin/edgelens-server"]' --cmd '["--port", "6000", "--http-port", "5000"]' \
    --stop-signal SIGTERM \
    --healthcheck 'CMD /usr/libexec/edgelens/healthcheck' --healthcheck-interval 30s \
    --healthcheck-timeout 30s --healthcheck-start-period 60s --healthcheck-retries 3 \
    --label org.opencontainers.image.title=edgelens-server \
    --label org.opencontainers.image.description="EdgeLens object detection device server" \
    --label org.opencontainers.image.version="$version" \
    --label org.opencontainers.image.revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    "$container"
# Docker's format keeps the health check (the OCI image configuration has no field for it).
b commit --quiet --format docker --rm "$container" "$image:$version" >/dev/null
b tag "$image:$version" "$image:latest"
# One image named twice in the docker-archive (buildah push writes one name).
podman --root "$storage/root" --runroot "$storage/run" --storage-driver vfs save --quiet \
    --multi-image-archive --format docker-archive --output "$out/edgelens-server.tar" \
    "$image:$version" "$image:latest"
b push --quiet --format oci "$image:$version" "oci-archive:$out/edgelens-server.oci.tar:$image:$version" \
    2> >(grep -v 'HEALTHCHECK is not supported for OCI' >&2)
rm -f "$out/image.tar"

echo "oci.sh: $image:$version and :latest in $((SECONDS - started)) s;" \
     "$(du -m "$out/edgelens-server.tar" | cut -f1) MB docker-archive (the image unpacked)," \
     "$(du -m "$out/edgelens-server.oci.tar" | cut -f1) MB OCI archive (compressed):"
ls -l "$out"/edgelens-server*.tar
