#include "testimages.h"

#include <QBuffer>

namespace edgelens::test {

QImage solidImage(int width, int height, const QColor &color)
{
    QImage image(width, height, QImage::Format_RGB32);
    image.fill(color);
    return image;
}

QByteArray encodeImage(const QImage &image, const char *format, int quality)
{
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (!image.save(&buffer, format, quality))
        return {};
    return bytes;
}

QByteArray solidImageBytes(int width, int height, const QColor &color, const char *format)
{
    return encodeImage(solidImage(width, height, color), format);
}

QByteArray withExifOrientation(const QByteArray &jpeg, int orientation)
{
    QByteArray tiff;
    tiff.append("II*\0", 4);
    tiff.append("\x08\0\0\0", 4);             // IFD0 at offset 8
    tiff.append("\x01\0", 2);                 // one entry
    tiff.append("\x12\x01\x03\0\x01\0\0\0", 8); // Orientation, SHORT, count 1
    tiff.append(char(orientation));
    tiff.append("\0\0\0", 3);
    tiff.append("\0\0\0\0", 4);               // no next IFD
    QByteArray app1("Exif\0\0", 6);
    app1.append(tiff);
    const int length = int(app1.size()) + 2;
    QByteArray segment("\xFF\xE1", 2);
    segment.append(char(length >> 8));
    segment.append(char(length & 0xFF));
    segment.append(app1);
    return jpeg.left(2) + segment + jpeg.mid(2);
}

} // namespace edgelens::test
