#!/usr/bin/env bash
# help2man HELP2MAN PROGRAM INCLUDE OUTPUT: one man page from PROGRAM's --help and --version,
# plus the hand-written sections in INCLUDE (a help2man include file). For edgelens-cli the
# subcommands' own --help is appended, so the page lists every option the program has.
set -euo pipefail
help2man=$1 program=$2 include=$3 output=$4
name=$(basename "$program")
# Run by bare name so the pages say "edgelens-cli", not the build path; no display needed.
export PATH="$(dirname "$program"):$PATH" QT_QPA_PLATFORM=offscreen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$include" "$tmp/include.h2m"
if [[ $name == edgelens-cli ]]; then
    for command in models eval; do
        printf '[%s COMMAND]\n.nf\n' "${command^^}" >>"$tmp/include.h2m"
        # Roff needs leading dots and backslashes escaped.
        "$name" "$command" --help | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' >>"$tmp/include.h2m"
        printf '.fi\n\n' >>"$tmp/include.h2m"
    done
fi
description=$(sed -n 's/^# *NAME: *//p' "$include")
# Named after the executable, not after the application name its --version prints.
version=$("$name" --version | awk 'NR == 1 { print $NF }')
mkdir -p "$(dirname "$output")"
"$help2man" --no-info --section=1 --name="$description" \
    --version-string="$name $version" --source="EdgeLens $version" \
    --include="$tmp/include.h2m" --output="$output.tmp" "$name"
mv "$output.tmp" "$output"
