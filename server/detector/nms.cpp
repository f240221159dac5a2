#include "nms.h"

#include <algorithm>
#include <unordered_map>

namespace edgelens {

float Nms::iou(const cv::Rect2f &a, const cv::Rect2f &b)
{
    const float ix = std::max(0.0f, std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x));
    const float iy = std::max(0.0f, std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y));
    const float inter = ix * iy;
    const float uni = a.width * a.height + b.width * b.height - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

std::vector<Candidate> Nms::classwise(std::vector<Candidate> candidates, float iouThreshold, int maxDetections,
                                      const QSet<int> &classFilter)
{
    if (maxDetections <= 0)
        return {};
    candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                    [&](const Candidate &c) {
                                        return c.box.width <= 0 || c.box.height <= 0
                                            || (!classFilter.isEmpty() && !classFilter.contains(c.classId));
                                    }),
                     candidates.end());
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate &a, const Candidate &b) { return a.score > b.score; });

    std::vector<Candidate> kept;
    std::unordered_map<int, std::vector<cv::Rect2f>> keptByClass;
    for (const Candidate &c : candidates) {
        std::vector<cv::Rect2f> &sameClass = keptByClass[c.classId];
        const bool suppressed = std::any_of(sameClass.begin(), sameClass.end(),
                                            [&](const cv::Rect2f &k) { return iou(k, c.box) > iouThreshold; });
        if (suppressed)
            continue;
        sameClass.push_back(c.box);
        kept.push_back(c);
        if (int(kept.size()) >= maxDetections)
            break;
    }
    return kept;
}

} // namespace edgelens
