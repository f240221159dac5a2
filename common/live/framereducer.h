#pragma once

#include <QByteArray>
#include <QSize>

#include <opencv2/core/mat.hpp>

namespace edgelens {

// A live frame made ready for the device once: reduced to what the model needs (the same
// rule as photos, ImageTransfer::reducedSize) and encoded as JPEG, with the factors that map
// the device's boxes back to the frame's pixels. Thread-safe (call it on a worker thread).
struct ReducedFrame
{
    QByteArray jpeg;     // empty when encoding failed
    QSize sentSize;
    double scaleX = 1.0; // sent pixels -> frame pixels
    double scaleY = 1.0;

    // modelInput empty: unknown, the frame goes at its own size.
    static ReducedFrame make(const cv::Mat &frame, const QSize &modelInput, double inputMultiple, int jpegQuality);
};

} // namespace edgelens
