#pragma once

#include "detector/decoder.h"

namespace edgelens {

// Ultralytics YOLOv8 ONNX export: [1, 4 + classes, N], channel-major: cx, cy, w, h (input
// pixels) then class probabilities; no objectness. score = best class probability.
class Yolov8Decoder final : public Decoder
{
public:
    Yolov8Decoder(int numClasses, Scores scores = Scores::Probabilities); // boxes come in input pixels: no input size needed

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

private:
    int m_numClasses;
    Scores m_scores;
};

} // namespace edgelens
