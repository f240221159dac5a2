#pragma once

#include "protocol/detection.h"

#include <QList>
#include <QString>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

namespace edgelens {

// Draws detections people can read at any image size: one stable colour per class id,
// "person 93%" on a filled tab in the box colour with black or white text (whichever
// contrasts), stroke and font scaled to the image, tabs kept inside the image. The style
// (colours, sizes, label text) is MarkupStyle's, shared with the app's overlays. The server's
// markup and a client's markup of the same detections are identical pixel for pixel.
class Annotator final
{
public:
    // Draws in place on an 8-bit BGR image (size unchanged). note, when set, is written in a
    // banner at the top-left, e.g. "fallback detector: Haar cascades".
    static void draw(cv::Mat &bgr, const QList<Detection> &detections, const QString &note = {});

    // Same, on a copy; the input is left untouched.
    static cv::Mat annotated(const cv::Mat &bgr, const QList<Detection> &detections, const QString &note = {});

    // MarkupStyle's colours as OpenCV BGR; Qt code uses MarkupStyle directly.
    static cv::Scalar classColor(int classId);
    static cv::Scalar textColorOn(const cv::Scalar &background); // black or white
};

} // namespace edgelens
