#!/bin/bash
# Runs inside the bootstrapped bookworm chroot (packaging/oci.sh, mmdebstrap customize hook) and
# copies into /image only what the server needs at run time; /image.tar becomes the container's
# root file system. Debian packages the server's libraries depend on also hold programs, data,
# documentation and further libraries it never loads (libgdal, which OpenCV's imgcodecs links,
# brings dozens); copying by need instead of deleting by pattern keeps the image as small as the
# dependencies allow without a list to maintain.
#
# Kept: the ELF files the dynamic loader maps for edgelens-server and for the plugins Qt loads
# at run time (the TLS backends), each with its symlink chain (Debian's alternatives for
# BLAS/LAPACK included); bash and openssl for the health check; the model manifests, OpenCV's cascades
# (the fallback detector), the C.UTF-8 locale, a few files from /etc; the copyright file and
# the dpkg status entry of every package a kept file comes from (licences; scanners such as
# trivy read the status file).
# Usage: image-tree.sh UID (the unprivileged user the server runs as).
set -euo pipefail
uid=$1
image=/image
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")

declare -A keep=()
# A path and, when it is a symlink, every link it goes through; directories are named by their
# real path (merged /usr: /lib is a link to usr/lib) so no kept entry passes through a link.
add() {
    local path=$1 dir target
    while :; do
        dir=$(realpath -- "$(dirname -- "$path")")
        path=${dir%/}/$(basename -- "$path")
        [[ -z ${keep[$path]:-} ]] || return 0
        [[ -e $path || -L $path ]] || { echo "image-tree: $path is missing" >&2; exit 1; }
        keep[$path]=1
        [[ -L $path ]] || return 0
        target=$(readlink -- "$path")
        [[ $target == /* ]] || target=$dir/$target
        path=$target
    done
}
# An ELF file and everything the loader maps for it (ldd lists the whole closure).
add_elf() {
    local lib
    add "$1"
    while read -r lib; do
        add "$lib"
    done < <(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
    if ldd "$1" | grep -q 'not found'; then
        ldd "$1" >&2
        echo "image-tree: $1 has unresolved libraries" >&2
        exit 1
    fi
}
add_tree() {
    local file
    while IFS= read -r -d '' file; do add "$file"; done < <(find "$1" \( -type f -o -type l \) -print0)
}

add_elf /usr/bin/edgelens-server
for plugin in /usr/lib/"$arch"/qt6/plugins/tls/*.so; do add_elf "$plugin"; done
add_elf /usr/bin/bash
add_elf /usr/bin/openssl
add /bin/bash
add /bin
add /lib
add /lib64
add /sbin
add_tree /usr/share/edgelens
add_tree /usr/share/opencv4/haarcascades
add_tree /usr/share/opencv4/lbpcascades
add_tree /usr/lib/locale/C.utf8
for f in /etc/ld.so.conf /etc/nsswitch.conf; do add "$f"; done
add_tree /etc/ld.so.conf.d

# The packages the kept files come from: their copyright files and dpkg status entries.
# dpkg knows some files by their name before merged /usr (/lib/x86_64-linux-gnu/libc.so.6).
mapfile -t packages < <(for f in "${!keep[@]}"; do [[ -d $f ]] || printf '%s\n' "$f"; done \
    | sed -E 'p; s,^/usr/(bin|sbin|lib|lib64)/,/\1/,' | sort -u \
    | xargs -d '\n' dpkg-query -S 2>/dev/null | grep -v '^diversion' \
    | sed 's/: .*//; s/, /\n/g' | sed 's/:.*//' | sort -u)
((${#packages[@]} > 0)) || { echo "image-tree: no package owns the kept files" >&2; exit 1; }
for p in "${packages[@]}"; do
    [[ -e /usr/share/doc/$p/copyright ]] && add "/usr/share/doc/$p/copyright"
done

rm -rf "$image"
mkdir -p "$image"
printf '%s\n' "${!keep[@]}" | sed 's,^/,,' | sort \
    | tar --create --file=- --directory=/ --no-recursion --verbatim-files-from --files-from=- \
    | tar --extract --file=- --directory="$image"

mkdir -p "$image/var/lib/dpkg" "$image/etc" "$image/tmp" "$image/var/lib/edgelens"
dpkg-query --status "${packages[@]}" >"$image/var/lib/dpkg/status"
printf '%s\n' "${packages[@]}" >"$image/var/lib/dpkg/image-packages.txt"
chmod 1777 "$image/tmp"
# Only root and the server's user; no shell login for either.
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nedgelens:x:%s:%s:EdgeLens server:/var/lib/edgelens:/usr/sbin/nologin\n' \
    "$uid" "$uid" >"$image/etc/passwd"
printf 'root:x:0:\nedgelens:x:%s:\n' "$uid" >"$image/etc/group"
# The volume: models downloaded for the server and its TLS identity (XDG_DATA_HOME).
chown "$uid:$uid" "$image/var/lib/edgelens"
chmod 0750 "$image/var/lib/edgelens"
ldconfig -r "$image"
tar --create --file=/image.tar --directory="$image" --numeric-owner .
