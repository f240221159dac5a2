#include "yolov5decoder.h"

#include "detector/tensorview.h"

namespace edgelens {

Yolov5Decoder::Yolov5Decoder(cv::Size input, int numClasses)
    : m_input(input)
    , m_numClasses(numClasses)
{
}

bool Yolov5Decoder::decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                           QString *error) const
{
    const int columns = 5 + m_numClasses;
    const cv::Mat *output = nullptr;
    for (const cv::Mat &out : outputs) {
        if (TensorView(out).columns() == columns)
            output = &out;
    }
    if (!output) {
        if (error)
            *error = QStringLiteral("yolov5: expected a [1, N, %1] output, got %2")
                         .arg(columns)
                         .arg(TensorView::describe(outputs));
        return false;
    }
    const TensorView view(*output);
    const float *data = view.data();
    for (int r = 0; r < view.rows(); ++r) {
        const float *row = data + size_t(r) * size_t(columns);
        const float objectness = row[4];
        if (objectness < threshold)
            continue;
        int bestClass = 0;
        for (int c = 1; c < m_numClasses; ++c) {
            if (row[5 + c] > row[5 + bestClass])
                bestClass = c;
        }
        const float score = objectness * row[5 + bestClass];
        if (score < threshold)
            continue;
        candidates.push_back(
            {bestClass, score, cv::Rect2f(row[0] - row[2] / 2, row[1] - row[3] / 2, row[2], row[3])});
    }
    return true;
}

} // namespace edgelens
