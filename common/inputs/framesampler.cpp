#include "framesampler.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>

namespace edgelens {

FrameSampler::FrameSampler(const SamplingRule &rule)
    : m_rule(rule)
    , m_nextTargetMs(rule.startMs)
{
}

cv::Mat FrameSampler::signature(const cv::Mat &bgr)
{
    cv::Mat grey;
    cv::Mat small;
    // Area averaging first: the signature is the picture's layout, not its noise.
    cv::resize(bgr, small, signatureSize(), 0, 0, cv::INTER_AREA);
    if (small.channels() == 3)
        cv::cvtColor(small, grey, cv::COLOR_BGR2GRAY);
    else
        grey = small;
    return grey;
}

double FrameSampler::difference(const cv::Mat &signatureA, const cv::Mat &signatureB)
{
    if (signatureA.empty() || signatureB.empty() || signatureA.size() != signatureB.size())
        return 0;
    cv::Mat diff;
    cv::absdiff(signatureA, signatureB, diff);
    return cv::mean(diff)[0];
}

FrameSampler::Verdict FrameSampler::decide(const SourceFrame &frame)
{
    if (m_rule.endMs >= 0 && frame.timestampMs > m_rule.endMs)
        return Verdict::Stop;
    const bool inRange = frame.timestampMs >= m_rule.startMs;
    switch (m_rule.mode) {
    case SamplingRule::Mode::EveryNFrames:
        if (!inRange)
            return Verdict::Skip;
        if (m_firstIndexInRange < 0)
            m_firstIndexInRange = frame.index;
        return (frame.index - m_firstIndexInRange) % m_rule.everyFrames == 0 ? Verdict::Keep : Verdict::Skip;
    case SamplingRule::Mode::EverySeconds: {
        if (!inRange || frame.timestampMs < m_nextTargetMs)
            return Verdict::Skip;
        // The next target after this frame's time: a pause longer than T in a VFR file gives
        // one frame, not a burst of the same picture.
        const double periodMs = m_rule.everySeconds * 1000.0;
        const double steps = std::floor((frame.timestampMs - m_rule.startMs) / periodMs + 1e-9) + 1;
        m_nextTargetMs = m_rule.startMs + steps * periodMs;
        return Verdict::Keep;
    }
    case SamplingRule::Mode::SceneChanges: {
        // Every frame feeds the measure, also before the range: a cut right at its start counts.
        const cv::Mat current = !frame.signature.empty() ? frame.signature
                              : frame.image.empty()      ? cv::Mat()
                                                         : signature(frame.image);
        const bool first = m_previousSignature.empty();
        m_lastDifference = first ? 0 : difference(m_previousSignature, current);
        m_previousSignature = current;
        if (!inRange)
            return Verdict::Skip;
        const bool firstInRange = m_firstIndexInRange < 0;
        if (firstInRange)
            m_firstIndexInRange = frame.index;
        return firstInRange || m_lastDifference > m_rule.sceneThreshold ? Verdict::Keep : Verdict::Skip;
    }
    }
    return Verdict::Skip;
}

} // namespace edgelens
