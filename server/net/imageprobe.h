#pragma once

#include <QByteArray>
#include <QString>

namespace edgelens {

// What an encoded image's header says about it, read without decoding a single pixel.
struct ImageInfo
{
    QString format; // "jpeg", "png", "bmp", "webp", "tiff"; empty when not recognised
    int width = 0;
    int height = 0;
    QString error;  // why the header could not be read, when format is empty or sizes are 0

    bool isValid() const { return !format.isEmpty() && width > 0 && height > 0; }
    qint64 pixels() const { return qint64(width) * qint64(height); }
};

// Reads the image dimensions from the first bytes of JPEG, PNG, BMP, WebP and TIFF files so a
// server can refuse a decompression bomb (a small file claiming a huge canvas) before
// cv::imdecode allocates the canvas. Never reads past the given bytes.
class ImageProbe final
{
public:
    static ImageInfo probe(const QByteArray &encoded);
    static QString supportedFormats(); // "JPEG, PNG, BMP, WebP or TIFF", for error messages

private:
    ImageProbe() = delete;
};

} // namespace edgelens
