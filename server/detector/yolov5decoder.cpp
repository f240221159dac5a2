#include "yolov5decoder.h"

#include "detector/tensorview.h"

namespace edgelens {

Yolov5Decoder::Yolov5Decoder(int numClasses, Scores scores)
    : m_numClasses(numClasses)
    , m_scores(scores)
{
}

bool Yolov5Decoder::decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                           QString *error) const
{
    const int columns = 5 + m_numClasses;
    const cv::Mat *output =
        findOutput(outputs, [&](const cv::Mat &out) { return TensorView(out).columns() == columns; });
    if (!output) {
        return unexpectedOutputs(QStringLiteral("yolov5"), QStringLiteral("a [1, N, %1] output").arg(columns), outputs,
                                 error);
    }
    const TensorView view(*output);
    const float *data = view.data();
    for (int r = 0; r < view.rows(); ++r) {
        const float *row = data + size_t(r) * size_t(columns);
        const float objectness = probability(m_scores, row[4]);
        if (objectness < threshold)
            continue;
        // sigmoid is monotonic: the best logit is the best probability
        const ClassScore best = bestClass(m_numClasses, [row](int c) { return row[5 + c]; });
        const float score = objectness * probability(m_scores, best.score);
        if (score < threshold)
            continue;
        candidates.push_back(
            {best.classId, score, cv::Rect2f(row[0] - row[2] / 2, row[1] - row[3] / 2, row[2], row[3])});
    }
    return true;
}

} // namespace edgelens
