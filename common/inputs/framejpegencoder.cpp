#include "framejpegencoder.h"

#include <turbojpeg.h>

#include <cstring>

namespace edgelens {

FrameJpegEncoder::FrameJpegEncoder() = default;

FrameJpegEncoder::~FrameJpegEncoder()
{
    if (m_handle)
        tjDestroy(m_handle);
}

bool FrameJpegEncoder::ensureHandle(QString *error)
{
    if (!m_handle)
        m_handle = tjInitCompress();
    if (!m_handle && error)
        *error = QStringLiteral("TurboJPEG: %1").arg(QString::fromLocal8Bit(tjGetErrorStr2(nullptr)));
    return m_handle != nullptr;
}

bool FrameJpegEncoder::finish(int ret, unsigned char *buffer, unsigned long size, QByteArray *jpeg, QString *error)
{
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

// No TJFLAG_PROGRESSIVE: baseline, what every reader takes. Accurate DCT: libjpeg's default;
// TurboJPEG's own would be the fast one.
bool FrameJpegEncoder::encode(const cv::Mat &bgr, int quality, QByteArray *jpeg, QString *error)
{
    if (bgr.empty() || bgr.type() != CV_8UC3 || bgr.dims != 2) {
        if (error)
            *error = QStringLiteral("only 8-bit BGR pictures are encoded as JPEG here");
        return false;
    }
    if (!ensureHandle(error))
        return false;
    unsigned char *buffer = nullptr; // TurboJPEG sizes it
    unsigned long size = 0;
    const int ret = tjCompress2(m_handle, bgr.data, bgr.cols, int(bgr.step[0]), bgr.rows, TJPF_BGR, &buffer, &size,
                                TJSAMP_420, qBound(1, quality, 100), TJFLAG_ACCURATEDCT);
    return finish(ret, buffer, size, jpeg, error);
}

bool FrameJpegEncoder::encodeYuv420(const cv::Mat &y, const cv::Mat &cb, const cv::Mat &cr, int quality,
                                    QByteArray *jpeg, QString *error)
{
    const cv::Size chroma((y.cols + 1) / 2, (y.rows + 1) / 2);
    if (y.empty() || y.type() != CV_8UC1 || cb.type() != CV_8UC1 || cr.type() != CV_8UC1 || cb.size() != chroma
        || cr.size() != chroma) {
        if (error)
            *error = QStringLiteral("4:2:0 planes of 8 bits expected");
        return false;
    }
    if (!ensureHandle(error))
        return false;
    const unsigned char *planes[3] = {y.data, cb.data, cr.data};
    const int strides[3] = {int(y.step[0]), int(cb.step[0]), int(cr.step[0])};
    unsigned char *buffer = nullptr;
    unsigned long size = 0;
    const int ret = tjCompressFromYUVPlanes(m_handle, planes, y.cols, strides, y.rows, TJSAMP_420, &buffer, &size,
                                            qBound(1, quality, 100), TJFLAG_ACCURATEDCT);
    return finish(ret, buffer, size, jpeg, error);
}

} // namespace edgelens
