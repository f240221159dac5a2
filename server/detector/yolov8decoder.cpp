#include "yolov8decoder.h"

#include "detector/tensorview.h"

namespace edgelens {

Yolov8Decoder::Yolov8Decoder(int numClasses, Scores scores)
    : m_numClasses(numClasses)
    , m_scores(scores)
{
}

bool Yolov8Decoder::decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                           QString *error) const
{
    const int channels = 4 + m_numClasses;
    const cv::Mat *output = findOutput(outputs, [&](const cv::Mat &out) {
        // [1, channels, N]: rows() is the channel count once the batch axis is dropped
        const TensorView view(out);
        return view.shape().size() == 2 && view.rows() == channels;
    });
    if (!output) {
        return unexpectedOutputs(QStringLiteral("yolov8"), QStringLiteral("a [1, %1, N] output").arg(channels), outputs,
                                 error);
    }
    const TensorView view(*output);
    const int n = view.columns();
    const float *data = view.data();
    const auto value = [&](int c, int i) { return data[size_t(c) * size_t(n) + size_t(i)]; };
    for (int i = 0; i < n; ++i) {
        const ClassScore best = bestClass(m_numClasses, [&](int c) { return value(4 + c, i); });
        const float score = probability(m_scores, best.score);
        if (score < threshold)
            continue;
        const float w = value(2, i);
        const float h = value(3, i);
        candidates.push_back({best.classId, score, cv::Rect2f(value(0, i) - w / 2, value(1, i) - h / 2, w, h)});
    }
    return true;
}

} // namespace edgelens
