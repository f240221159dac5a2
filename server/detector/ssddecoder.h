#pragma once

#include "detector/decoder.h"

namespace edgelens {

// SSD-style DetectionOutput (Caffe MobileNet-SSD, TensorFlow Object Detection API graphs):
// [1, 1, N, 7] rows of image id, label, score, x1, y1, x2, y2 (fractions of the input).
// Labels are turned into class ids by subtracting labelOffset (1 when 0 is the background),
// or through the COCO 1..90 category id table for TensorFlow's COCO graphs.
class SsdDecoder final : public Decoder
{
public:
    enum class LabelMap { Offset, Coco90 };

    SsdDecoder(cv::Size input, int numClasses, LabelMap labelMap = LabelMap::Offset, int labelOffset = 1);

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

    static int cocoCategoryToClass(int categoryId); // 1..90 -> 0..79, -1 for the gaps

private:
    cv::Size m_input;
    int m_numClasses;
    LabelMap m_labelMap;
    int m_labelOffset;
};

} // namespace edgelens
