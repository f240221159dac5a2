#include "nanodetdecoder.h"

#include "detector/tensorview.h"

#include <algorithm>
#include <cmath>

namespace edgelens {

NanoDetDecoder::NanoDetDecoder(cv::Size input, int numClasses, std::vector<int> strides, int regBins,
                               CellCentre centre, QString family)
    : m_input(input)
    , m_numClasses(numClasses)
    , m_strides(std::move(strides))
    , m_regBins(regBins)
    , m_centre(centre)
    , m_family(std::move(family))
{
}

bool NanoDetDecoder::decode(const std::vector<cv::Mat> &outputs, float threshold,
                            std::vector<Candidate> &candidates, QString *error) const
{
    const int boxColumns = 4 * m_regBins;
    if (boxColumns == m_numClasses) {
        if (error)
            *error = QStringLiteral("%1: %2 classes and %3 distance bins cannot be told apart by shape")
                         .arg(m_family)
                         .arg(m_numClasses)
                         .arg(m_regBins);
        return false;
    }
    std::vector<float> softmax(static_cast<size_t>(m_regBins));

    for (int stride : m_strides) {
        const int gw = (m_input.width + stride - 1) / stride;
        const int gh = (m_input.height + stride - 1) / stride;
        const int cells = gw * gh;
        const cv::Mat *scores = nullptr;
        const cv::Mat *boxes = nullptr;
        for (const cv::Mat &out : outputs) {
            const TensorView view(out);
            if (view.rows() != cells)
                continue;
            if (view.columns() == m_numClasses)
                scores = &out;
            else if (view.columns() == boxColumns)
                boxes = &out;
        }
        if (!scores || !boxes) {
            if (error)
                *error = QStringLiteral("%1: no [%2, %3] score and [%2, %4] distance outputs for stride %5 "
                                        "(outputs: %6)")
                             .arg(m_family)
                             .arg(cells)
                             .arg(m_numClasses)
                             .arg(boxColumns)
                             .arg(stride)
                             .arg(TensorView::describe(outputs));
            return false;
        }
        const float *scoreData = TensorView(*scores).data();
        const float *boxData = TensorView(*boxes).data();
        const float centreOffset = m_centre == CellCentre::NanoDet ? float(stride - 1) / 2.0f : float(stride) / 2.0f;

        for (int i = 0; i < cells; ++i) {
            const float *row = scoreData + size_t(i) * size_t(m_numClasses);
            const float *best = std::max_element(row, row + m_numClasses);
            if (*best < threshold)
                continue;
            const float cx = float(i % gw) * float(stride) + centreOffset;
            const float cy = float(i / gw) * float(stride) + centreOffset;
            float dist[4];
            for (int side = 0; side < 4; ++side) {
                const float *bins = boxData + size_t(i) * size_t(boxColumns) + size_t(side * m_regBins);
                const float peak = *std::max_element(bins, bins + m_regBins);
                float sum = 0.0f;
                for (int b = 0; b < m_regBins; ++b) {
                    softmax[size_t(b)] = std::exp(bins[b] - peak);
                    sum += softmax[size_t(b)];
                }
                float expectation = 0.0f;
                for (int b = 0; b < m_regBins; ++b)
                    expectation += float(b) * softmax[size_t(b)];
                dist[side] = expectation / sum * float(stride);
            }
            const float x1 = std::clamp(cx - dist[0], 0.0f, float(m_input.width));
            const float y1 = std::clamp(cy - dist[1], 0.0f, float(m_input.height));
            const float x2 = std::clamp(cx + dist[2], 0.0f, float(m_input.width));
            const float y2 = std::clamp(cy + dist[3], 0.0f, float(m_input.height));
            candidates.push_back({int(best - row), *best, cv::Rect2f(x1, y1, x2 - x1, y2 - y1)});
        }
    }
    return true;
}

} // namespace edgelens
