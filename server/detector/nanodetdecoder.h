#pragma once

#include "detector/decoder.h"

namespace edgelens {

// NanoDet GFL head: per stride a [cells, classes] score tensor (sigmoid applied) and a
// [cells, 4 * bins] distance tensor. The ONNX export's output names lie, so tensors are
// paired by shape: the column count tells scores from distances, the row count the stride.
class NanoDetDecoder final : public Decoder
{
public:
    NanoDetDecoder(cv::Size input, int numClasses, std::vector<int> strides = {8, 16, 32}, int regBins = 8);

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

private:
    cv::Size m_input;
    int m_numClasses;
    std::vector<int> m_strides;
    int m_regBins;
};

} // namespace edgelens
