#pragma once

#include <QMetaType>
#include <QtGlobal>

#include <opencv2/core/mat.hpp>

namespace edgelens {

// One decoded frame of a live source, stamped once at capture.
struct LiveFrame
{
    cv::Mat image;           // 8-bit BGR, shared (cv::Mat refcount): never written after capture
    quint64 sequence = 0;    // 1, 2, ... for the life of the source, continuing across reconnects
    quint64 connection = 0;  // which (re)connection delivered it: 1, 2, ...
    qint64 capturedMs = 0;   // wall-clock ms since the epoch it was captured: its own FrameStamp when
                             // it carries one (made by the sender), else when it arrived here
    bool stamped = false;    // capturedMs came from the frame's FrameStamp
    qint64 arrivedMs = 0;    // wall-clock ms since the epoch it was decoded here
    double positionMs = -1;  // file sources: its timestamp in the file; else -1
    qint64 steadyNs = 0;     // steady clock when it was captured here (time since the source started)

    bool isValid() const { return !image.empty(); }
};

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::LiveFrame)
