#include "ssddecoder.h"

#include "detector/tensorview.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace edgelens {

SsdDecoder::SsdDecoder(cv::Size input, int numClasses, LabelMap labelMap, int labelOffset)
    : m_input(input)
    , m_numClasses(numClasses)
    , m_labelMap(labelMap)
    , m_labelOffset(labelOffset)
{
}

int SsdDecoder::cocoCategoryToClass(int categoryId)
{
    static constexpr std::array<int, 80> kIds{
        1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
        22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
        46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
        67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90};
    const auto it = std::lower_bound(kIds.begin(), kIds.end(), categoryId);
    if (it == kIds.end() || *it != categoryId)
        return -1;
    return int(it - kIds.begin());
}

bool SsdDecoder::decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                        QString *error) const
{
    const cv::Mat *output = findOutput(outputs, [](const cv::Mat &out) { return TensorView(out).columns() == 7; });
    if (!output)
        return unexpectedOutputs(QStringLiteral("ssd"), QStringLiteral("a [1, 1, N, 7] output"), outputs, error);
    const TensorView view(*output);
    const float *data = view.data();
    for (int r = 0; r < view.rows(); ++r) {
        const float *row = data + size_t(r) * 7;
        const float score = row[2];
        if (!(score >= threshold) || !std::isfinite(row[3]) || !std::isfinite(row[4]) || !std::isfinite(row[5])
            || !std::isfinite(row[6]))
            continue;
        const int label = int(std::lround(row[1]));
        const int classId = m_labelMap == LabelMap::Coco90 ? cocoCategoryToClass(label) : label - m_labelOffset;
        if (classId < 0 || classId >= m_numClasses)
            continue; // background or a label the model's names do not cover
        const float x1 = row[3] * float(m_input.width);
        const float y1 = row[4] * float(m_input.height);
        const float x2 = row[5] * float(m_input.width);
        const float y2 = row[6] * float(m_input.height);
        candidates.push_back({classId, score, cv::Rect2f(x1, y1, x2 - x1, y2 - y1)});
    }
    return true;
}

} // namespace edgelens
