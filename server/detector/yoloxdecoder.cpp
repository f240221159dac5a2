#include "yoloxdecoder.h"

#include "detector/tensorview.h"

#include <algorithm>
#include <cmath>

namespace edgelens {

YoloxDecoder::YoloxDecoder(cv::Size input, int numClasses, Layout layout, std::vector<int> strides, Scores scores)
    : m_input(input)
    , m_numClasses(numClasses)
    , m_layout(layout)
    , m_strides(std::move(strides))
    , m_scores(scores)
{
}

bool YoloxDecoder::decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                          QString *error) const
{
    const int channels = 5 + m_numClasses;
    int totalCells = 0;
    for (int s : m_strides)
        totalCells += ((m_input.width + s - 1) / s) * ((m_input.height + s - 1) / s);

    const cv::Mat *output = findOutput(outputs, [&](const cv::Mat &out) {
        const TensorView view(out);
        return view.rows() == totalCells && view.columns() == channels;
    });
    if (!output) {
        return unexpectedOutputs(QStringLiteral("yolox"),
                                 QStringLiteral("a [1, %1, %2] output").arg(totalCells).arg(channels), outputs, error);
    }
    const float *data = TensorView(*output).data();

    size_t blockStart = 0; // in floats
    int cellStart = 0;     // in cells, for the Rows layout
    for (int stride : m_strides) {
        const int gw = (m_input.width + stride - 1) / stride;
        const int gh = (m_input.height + stride - 1) / stride;
        const int cells = gw * gh;
        // value(c, i): channel c of cell i in either layout
        const auto value = [&](int c, int i) {
            if (m_layout == Layout::ChannelMajorBlocks)
                return data[blockStart + size_t(c) * size_t(cells) + size_t(i)];
            return data[size_t(cellStart + i) * size_t(channels) + size_t(c)];
        };
        for (int i = 0; i < cells; ++i) {
            const float objectness = probability(m_scores, value(4, i));
            if (objectness < threshold)
                continue; // the score is objectness times a class probability, never more
            // sigmoid is monotonic: the best logit is the best probability
            const ClassScore best = bestClass(m_numClasses, [&](int c) { return value(5 + c, i); });
            const float score = objectness * probability(m_scores, best.score);
            if (score < threshold)
                continue;
            const float cx = (value(0, i) + float(i % gw)) * float(stride);
            const float cy = (value(1, i) + float(i / gw)) * float(stride);
            const float w = std::exp(std::min(value(2, i), 20.0f)) * float(stride);
            const float h = std::exp(std::min(value(3, i), 20.0f)) * float(stride);
            candidates.push_back({best.classId, score, cv::Rect2f(cx - w / 2, cy - h / 2, w, h)});
        }
        blockStart += size_t(cells) * size_t(channels);
        cellStart += cells;
    }
    return true;
}

} // namespace edgelens
