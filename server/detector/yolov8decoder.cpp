#include "yolov8decoder.h"

#include "detector/tensorview.h"

namespace edgelens {

Yolov8Decoder::Yolov8Decoder(cv::Size input, int numClasses)
    : m_input(input)
    , m_numClasses(numClasses)
{
}

bool Yolov8Decoder::decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                           QString *error) const
{
    const int channels = 4 + m_numClasses;
    const cv::Mat *output = nullptr;
    for (const cv::Mat &out : outputs) {
        // [1, channels, N]: rows() is the channel count once the batch axis is dropped
        const TensorView view(out);
        if (view.shape().size() == 2 && view.rows() == channels)
            output = &out;
    }
    if (!output) {
        if (error)
            *error = QStringLiteral("yolov8: expected a [1, %1, N] output, got %2")
                         .arg(channels)
                         .arg(TensorView::describe(outputs));
        return false;
    }
    const TensorView view(*output);
    const int n = view.columns();
    const float *data = view.data();
    const auto value = [&](int c, int i) { return data[size_t(c) * size_t(n) + size_t(i)]; };
    for (int i = 0; i < n; ++i) {
        int bestClass = 0;
        float best = value(4, i);
        for (int c = 1; c < m_numClasses; ++c) {
            if (value(4 + c, i) > best) {
                best = value(4 + c, i);
                bestClass = c;
            }
        }
        if (best < threshold)
            continue;
        const float w = value(2, i);
        const float h = value(3, i);
        candidates.push_back({bestClass, best, cv::Rect2f(value(0, i) - w / 2, value(1, i) - h / 2, w, h)});
    }
    return true;
}

} // namespace edgelens
