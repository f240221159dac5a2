#pragma once

#include "detector/decoder.h"

#include <QSet>

#include <vector>

namespace edgelens {

// The post-processing every family shares. Class-wise greedy NMS by hand because
// cv::dnn::NMSBoxesBatched only arrived in OpenCV 4.7 and Debian 12 ships 4.6.
class Nms final
{
public:
    // Drops classes outside classFilter (empty: keep all), suppresses same-class boxes
    // overlapping a better one by more than iou, returns at most maxDetections sorted by
    // score (ties keep decoder order).
    static std::vector<Candidate> classwise(std::vector<Candidate> candidates, float iou, int maxDetections,
                                            const QSet<int> &classFilter = {});

    static float iou(const cv::Rect2f &a, const cv::Rect2f &b);
};

} // namespace edgelens
