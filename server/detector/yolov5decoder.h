#pragma once

#include "detector/decoder.h"

namespace edgelens {

// Ultralytics YOLOv5 ONNX export: [1, N, 5 + classes] rows of cx, cy, w, h (input pixels),
// objectness and class probabilities, all already through sigmoid. score = obj * cls.
class Yolov5Decoder final : public Decoder
{
public:
    Yolov5Decoder(int numClasses, Scores scores = Scores::Probabilities); // boxes come in input pixels: no input size needed

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

private:
    int m_numClasses;
    Scores m_scores;
};

} // namespace edgelens
