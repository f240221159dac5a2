#pragma once

// Images made on the spot, so a suite does not depend on files for what a few pixels can show.

#include <QByteArray>
#include <QColor>
#include <QImage>

namespace edgelens::test {

// width x height RGB32 filled with color.
QImage solidImage(int width, int height, const QColor &color);
// image encoded as format ("JPEG", "PNG", ...); quality -1 is Qt's default. Empty on failure.
QByteArray encodeImage(const QImage &image, const char *format = "JPEG", int quality = -1);
// The two above in one step: the bytes of a plain picture, as a client would send them.
QByteArray solidImageBytes(int width, int height, const QColor &color, const char *format = "JPEG");
// jpeg with an EXIF block (little-endian TIFF) whose orientation tag (1..8) says how to turn
// the stored pixels for display, as cameras write it.
QByteArray withExifOrientation(const QByteArray &jpeg, int orientation);

} // namespace edgelens::test
