#include "scaleddecode.h"

#include <QBuffer>
#include <QImageIOHandler>
#include <QImageReader>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>

namespace edgelens {

namespace {

int reducedFlag(int denominator)
{
    switch (denominator) {
    case 2: return cv::IMREAD_REDUCED_COLOR_2;
    case 4: return cv::IMREAD_REDUCED_COLOR_4;
    case 8: return cv::IMREAD_REDUCED_COLOR_8;
    default: return cv::IMREAD_COLOR;
    }
}

} // namespace

bool ScaledDecode::isJpeg(const QByteArray &bytes)
{
    return bytes.size() > 3 && uchar(bytes[0]) == 0xFF && uchar(bytes[1]) == 0xD8 && uchar(bytes[2]) == 0xFF;
}

QSize ScaledDecode::orientedSize(const QByteArray &bytes)
{
    QByteArray copy = QByteArray::fromRawData(bytes.constData(), bytes.size());
    QBuffer buffer(&copy);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    QSize size = reader.size();
    if (!size.isValid())
        return {};
    // OpenCV applies a JPEG's EXIF orientation when decoding; the header's size is before it.
    if (isJpeg(bytes) && (reader.transformation() & QImageIOHandler::TransformationRotate90))
        size.transpose();
    return size;
}

QSize ScaledDecode::reducedSize(const QSize &size, int denominator)
{
    return QSize((size.width() + denominator - 1) / denominator, (size.height() + denominator - 1) / denominator);
}

int ScaledDecode::largestReductionHolding(const QSize &size, const QSizeF &atLeast)
{
    for (int denominator : {8, 4, 2}) {
        const QSize reduced = reducedSize(size, denominator);
        if (reduced.width() >= atLeast.width() && reduced.height() >= atLeast.height())
            return denominator;
    }
    return 1;
}

int ScaledDecode::smallestReductionWithin(const QSize &size, int maxSide)
{
    for (int denominator : {1, 2, 4}) {
        const QSize reduced = reducedSize(size, denominator);
        if (std::max(reduced.width(), reduced.height()) <= maxSide)
            return denominator;
    }
    return 8;
}

cv::Mat ScaledDecode::decode(const QByteArray &bytes, int denominator)
{
    // A cv::Mat header over the caller's bytes: imdecode only reads them.
    const cv::Mat buffer(1, int(bytes.size()), CV_8UC1, const_cast<char *>(bytes.constData()));
    return cv::imdecode(buffer, reducedFlag(denominator));
}

} // namespace edgelens
