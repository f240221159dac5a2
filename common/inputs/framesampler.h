#pragma once

#include "inputs/framesource.h"
#include "inputs/samplingrule.h"

#include <opencv2/core/mat.hpp>

namespace edgelens {

// Applies a SamplingRule to frames in the order they are shown: says which frames to keep, and when the
// rest of the source need not be decoded any more (past the time range). One per run of a
// source; frames must come in the order the source gave them.
class FrameSampler final
{
public:
    explicit FrameSampler(const SamplingRule &rule);

    enum class Verdict { Skip, Keep, Stop };

    // Whether the frame needs its pixels for the decision (scene changes) before keep().
    bool needsPixels() const { return m_rule.needsPixels(); }
    // frame.signature, else frame.image, must be set when needsPixels(). Frames after a Stop
    // are not looked at.
    Verdict decide(const SourceFrame &frame);

    // The scene measure between the last two frames looked at (0 before the second).
    double lastDifference() const { return m_lastDifference; }
    // The measure itself: mean absolute difference of two frames reduced to 64 x 36 grey.
    static cv::Mat signature(const cv::Mat &bgr);
    static cv::Size signatureSize() { return cv::Size(64, 36); }
    static double difference(const cv::Mat &signatureA, const cv::Mat &signatureB);

private:
    SamplingRule m_rule;
    qint64 m_firstIndexInRange = -1;
    double m_nextTargetMs = 0;
    cv::Mat m_previousSignature;
    double m_lastDifference = 0;
};

} // namespace edgelens
