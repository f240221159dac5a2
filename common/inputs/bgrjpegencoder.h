#pragma once

#include <QByteArray>
#include <QString>

#include <opencv2/core/mat.hpp>

namespace edgelens {

// Encodes 8-bit BGR pixels as a standard baseline JPEG (4:2:0, accurate DCT, as libjpeg's
// defaults and cv::imencode give) with libjpeg-turbo's TurboJPEG API, which reads BGR as it
// is. Debian's OpenCV hands libjpeg RGB rows it swaps byte by byte first: for a 1080p frame
// that swap cost about as much as the compression itself. Keeps its compressor between
// frames; not thread-safe (one per extractor).
class BgrJpegEncoder final
{
public:
    BgrJpegEncoder();
    ~BgrJpegEncoder();
    BgrJpegEncoder(const BgrJpegEncoder &) = delete;
    BgrJpegEncoder &operator=(const BgrJpegEncoder &) = delete;

    // quality 1..100. False with *error for an empty or non-BGR image, or a failed compression.
    bool encode(const cv::Mat &bgr, int quality, QByteArray *jpeg, QString *error);

private:
    void *m_handle = nullptr; // tjhandle
};

} // namespace edgelens
