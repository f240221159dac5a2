#include "bgrjpegencoder.h"

#include <turbojpeg.h>

#include <cstring>

namespace edgelens {

BgrJpegEncoder::BgrJpegEncoder() = default;

BgrJpegEncoder::~BgrJpegEncoder()
{
    if (m_handle)
        tjDestroy(m_handle);
}

bool BgrJpegEncoder::encode(const cv::Mat &bgr, int quality, QByteArray *jpeg, QString *error)
{
    if (bgr.empty() || bgr.type() != CV_8UC3 || bgr.dims != 2) {
        if (error)
            *error = QStringLiteral("only 8-bit BGR pictures are encoded as JPEG here");
        return false;
    }
    if (!m_handle)
        m_handle = tjInitCompress();
    if (!m_handle) {
        if (error)
            *error = QStringLiteral("TurboJPEG: %1").arg(QString::fromLocal8Bit(tjGetErrorStr2(nullptr)));
        return false;
    }
    unsigned char *buffer = nullptr; // TurboJPEG sizes it
    unsigned long size = 0;
    // No TJFLAG_PROGRESSIVE: baseline, what every reader takes. Accurate DCT: libjpeg's
    // default, TurboJPEG's would be the fast one.
    const int ret = tjCompress2(m_handle, bgr.data, bgr.cols, int(bgr.step[0]), bgr.rows, TJPF_BGR, &buffer, &size,
                                TJSAMP_420, qBound(1, quality, 100), TJFLAG_ACCURATEDCT);
    if (ret != 0) {
        if (error)
            *error = QStringLiteral("TurboJPEG: %1").arg(QString::fromLocal8Bit(tjGetErrorStr2(m_handle)));
        tjFree(buffer);
        return false;
    }
    jpeg->resize(qsizetype(size));
    std::memcpy(jpeg->data(), buffer, size);
    tjFree(buffer);
    return true;
}

} // namespace edgelens
