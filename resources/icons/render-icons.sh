#!/bin/sh
# Regenerates the committed PNGs from the SVG sources (Qt's SVG module is not a dependency,
# so the app loads PNGs). Needs ImageMagick; run from this folder after editing an SVG.
set -eu
cd "$(dirname "$0")"
for size in 16 32 48 64 128 256; do
    convert -background none -density 384 edgelens.svg -resize ${size}x${size} -depth 8 -strip PNG32:edgelens-${size}.png
done
for name in zoom-in zoom-out zoom-fit zoom-original run stop settings export; do
    convert -background none -density 192 ${name}.svg -resize 32x32 -depth 8 -strip PNG32:${name}.png
done
