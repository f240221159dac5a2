#!/usr/bin/env bash
# Builds the Debian packages edgelens (desktop app + CLI) and edgelens-server (device server,
# systemd unit, model manifests) into build/deb/, then checks them with lintian (no errors
# allowed), appstreamcli and desktop-file-validate. Uses dpkg-buildpackage with the debhelper
# files in packaging/debian on a copy of the source tree in build/deb-build/ (the checkout
# itself stays untouched). Weights are never packaged. See docs/PACKAGING.md.
# --server-only: only the edgelens-server package (build profile pkg.edgelens.server-only: the
# server, its libraries and man page are compiled, not the app or the CLI), for the container
# image (packaging/oci.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
server_only=0
case "${1:-}" in
    "") ;;
    --server-only) server_only=1 ;;
    *) echo "usage: deb.sh [--server-only]" >&2; exit 2 ;;
esac
EDGELENS_WITH_DEB=1 bash packaging/install-deps.sh

work=build/deb-build
out=build/deb
rm -rf "$work"
mkdir -p "$work/src" "$out"
if ((server_only)); then rm -f "$out"/edgelens-server_*.deb; else rm -f "$out"/*.deb; fi

# The sources as they are now (committed or not), without build outputs or git metadata.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf - | tar -xf - -C "$work/src"
else
    tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$work/src"
fi
cp -r packaging/debian "$work/src/debian"

# The package version is the project's (CMakeLists.txt), so --version and dpkg agree.
version=$(sed -n 's/^ *VERSION \([0-9][0-9.]*\)$/\1/p' CMakeLists.txt | head -n1)
[[ -n $version ]] || { echo "deb.sh: no VERSION in CMakeLists.txt" >&2; exit 1; }
maintainer=$(sed -n 's/^Maintainer: //p' packaging/debian/control)
when=$(git log -1 --format=%aD 2>/dev/null || date -R)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo "no git")
cat >"$work/src/debian/changelog" <<CHANGELOG
edgelens ($version) unstable; urgency=medium

  * Package build of EdgeLens $version from commit $commit.

 -- $maintainer  $when
CHANGELOG

export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$(nproc)}"
profiles=()
((server_only)) && profiles=(-Ppkg.edgelens.server-only)
(cd "$work/src" && dpkg-buildpackage -b -us -uc "${profiles[@]}")
debs=("$work"/*.deb)
mv "${debs[@]}" "$out/"
debs=("${debs[@]/#$work/$out}")

echo "== lintian"
lintian --fail-on error --display-level '>=info' "${debs[@]}"
echo "lintian: no errors"

if ((!server_only)); then
    echo "== appstreamcli validate, desktop-file-validate"
    rm -rf "$work/check" && mkdir -p "$work/check"
    for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$work/check"; done
    appstreamcli validate --no-net "$work"/check/usr/share/metainfo/*.metainfo.xml
    desktop-file-validate "$work"/check/usr/share/applications/edgelens.desktop
fi

echo "== packages in $out"
for deb in "${debs[@]}"; do
    dpkg-deb -f "$deb" Package Version Architecture Installed-Size Depends
    echo
done
