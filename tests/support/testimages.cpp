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

} // namespace edgelens::test
