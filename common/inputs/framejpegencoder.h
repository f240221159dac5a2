#pragma once

#include <QByteArray>
#include <QString>

#include <opencv2/core/mat.hpp>

namespace edgelens {

// Writes video frames as standard baseline JPEGs (4:2:0, accurate DCT, as libjpeg's defaults
// and cv::imencode give) with libjpeg-turbo's TurboJPEG API:
// - from 8-bit BGR pixels, which TurboJPEG reads as they are (Debian's OpenCV hands libjpeg
//   RGB rows it swaps byte by byte first);
// - from a decoder's 4:2:0 planes at full range, which are already the JPEG's own colour
//   layout: no conversion to RGB and back, no second chroma subsampling.
// Keeps its compressor between frames; not thread-safe (one per user).
class FrameJpegEncoder final
{
public:
    FrameJpegEncoder();
    ~FrameJpegEncoder();
    FrameJpegEncoder(const FrameJpegEncoder &) = delete;
    FrameJpegEncoder &operator=(const FrameJpegEncoder &) = delete;

    // quality 1..100. False with *error for an empty or non-BGR image, or a failed compression.
    bool encode(const cv::Mat &bgr, int quality, QByteArray *jpeg, QString *error);
    // y: 8-bit, w x h; cb, cr: 8-bit, ceil(w/2) x ceil(h/2); full range (JPEG's, 0..255).
    bool encodeYuv420(const cv::Mat &y, const cv::Mat &cb, const cv::Mat &cr, int quality, QByteArray *jpeg,
                      QString *error);

private:
    bool ensureHandle(QString *error);
    bool finish(int ret, unsigned char *buffer, unsigned long size, QByteArray *jpeg, QString *error);

    void *m_handle = nullptr; // tjhandle
};

} // namespace edgelens
