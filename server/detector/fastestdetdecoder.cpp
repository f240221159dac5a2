#include "fastestdetdecoder.h"

#include "detector/tensorview.h"

#include <cmath>

namespace edgelens {

FastestDetDecoder::FastestDetDecoder(cv::Size input, int numClasses, float objExponent, float clsExponent)
    : m_input(input)
    , m_numClasses(numClasses)
    , m_objExponent(objExponent)
    , m_clsExponent(clsExponent)
{
}

bool FastestDetDecoder::decode(const std::vector<cv::Mat> &outputs, float threshold,
                               std::vector<Candidate> &candidates, QString *error) const
{
    const int channels = 5 + m_numClasses;
    const cv::Mat *output = findOutput(outputs, [&](const cv::Mat &out) {
        return out.depth() == CV_32F && out.isContinuous() && out.dims == 4 && out.size[0] == 1
            && out.size[1] == channels;
    });
    if (!output) {
        return unexpectedOutputs(QStringLiteral("fastestdet"), QStringLiteral("a [1, %1, H, W] output").arg(channels),
                                 outputs, error);
    }
    const int gh = output->size[2];
    const int gw = output->size[3];
    const size_t plane = size_t(gh) * size_t(gw);
    const float *data = output->ptr<float>();
    for (int row = 0; row < gh; ++row) {
        for (int col = 0; col < gw; ++col) {
            const size_t cell = size_t(row) * size_t(gw) + size_t(col);
            const auto value = [&](int c) { return data[size_t(c) * plane + cell]; };
            const float objectness = value(0);
            if (objectness <= 0.0f)
                continue;
            const ClassScore best = bestClass(m_numClasses, [&](int c) { return value(5 + c); });
            if (best.score <= 0.0f)
                continue;
            const float score = std::pow(objectness, m_objExponent) * std::pow(best.score, m_clsExponent);
            if (score < threshold)
                continue;
            const float cx = (float(col) + std::tanh(value(1))) / float(gw) * float(m_input.width);
            const float cy = (float(row) + std::tanh(value(2))) / float(gh) * float(m_input.height);
            const float w = sigmoid(value(3)) * float(m_input.width);
            const float h = sigmoid(value(4)) * float(m_input.height);
            candidates.push_back({best.classId, score, cv::Rect2f(cx - w / 2, cy - h / 2, w, h)});
        }
    }
    return true;
}

} // namespace edgelens
