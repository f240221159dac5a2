#include "framereducer.h"

#include "imaging/imagetransfer.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <vector>

namespace edgelens {

ReducedFrame ReducedFrame::make(const cv::Mat &frame, const QSize &modelInput, double inputMultiple, int jpegQuality)
{
    ReducedFrame out;
    if (frame.empty())
        return out;
    const QSize original(frame.cols, frame.rows);
    const QSize target = modelInput.isValid() ? ImageTransfer::reducedSize(original, modelInput, inputMultiple)
                                              : original;
    cv::Mat sent = frame;
    std::vector<uchar> bytes;
    // Runs on a pool thread: an OpenCV failure (out of memory, a frame it cannot encode) is an
    // empty result the pipeline counts as failed, never an exception left in a future.
    try {
        if (target.isValid() && target != original)
            cv::resize(frame, sent, cv::Size(target.width(), target.height()), 0, 0, cv::INTER_AREA);
        if (!cv::imencode(".jpg", sent, bytes, {cv::IMWRITE_JPEG_QUALITY, jpegQuality}))
            return out;
    } catch (const cv::Exception &) {
        return out;
    }
    out.jpeg = QByteArray(reinterpret_cast<const char *>(bytes.data()), qsizetype(bytes.size()));
    out.sentSize = QSize(sent.cols, sent.rows);
    out.scaleX = double(original.width()) / double(std::max(1, sent.cols));
    out.scaleY = double(original.height()) / double(std::max(1, sent.rows));
    return out;
}

} // namespace edgelens
