#pragma once

#include "detector/decoder.h"

namespace edgelens {

// FastestDet: one [1, 5 + classes, gh, gw] map; per cell objectness (sigmoid applied), four
// box values, class probabilities (softmax applied). score = obj^a * cls^b.
class FastestDetDecoder final : public Decoder
{
public:
    FastestDetDecoder(cv::Size input, int numClasses, float objExponent = 0.6f, float clsExponent = 0.4f);

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

private:
    cv::Size m_input;
    int m_numClasses;
    float m_objExponent;
    float m_clsExponent;
};

} // namespace edgelens
