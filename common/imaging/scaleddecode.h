#pragma once

#include <QByteArray>
#include <QSize>
#include <QSizeF>

#include <opencv2/core/mat.hpp>

namespace edgelens {

// libjpeg's DCT scaling through cv::imdecode: decoding a 12 MP JPEG at 1/2, 1/4 or 1/8 costs a
// fraction of a full decode. One place for the client's reduced copies and local markup and for
// the device's reduced decode, so both sides agree on reduced sizes and on orientation.
class ScaledDecode final
{
public:
    ScaledDecode() = delete;

    static bool isJpeg(const QByteArray &bytes);
    // The size cv::imdecode delivers (a JPEG's EXIF orientation applied), read from the header
    // only; empty when the header is unreadable.
    static QSize orientedSize(const QByteArray &bytes);
    // The size a 1/denominator decode delivers: libjpeg rounds a scaled side up.
    static QSize reducedSize(const QSize &size, int denominator);
    // The largest of 8, 4 and 2 whose reduced size still holds `atLeast` on both sides; 1 when
    // none does.
    static int largestReductionHolding(const QSize &size, const QSizeF &atLeast);
    // The smallest of 1, 2, 4 and 8 whose reduced size fits within maxSide; 8 when none does.
    static int smallestReductionWithin(const QSize &size, int maxSide);
    // cv::imdecode scaled by 1/denominator (1, 2, 4 or 8; DCT scaling applies to JPEG only).
    // Empty when undecodable; may throw cv::Exception.
    static cv::Mat decode(const QByteArray &bytes, int denominator);
};

} // namespace edgelens
