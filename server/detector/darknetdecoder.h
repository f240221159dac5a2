#pragma once

#include "detector/decoder.h"

#include <QByteArray>

namespace edgelens {

// OpenCV's [yolo]/[region] layers output decoded rows: cx, cy, w, h as fractions of the
// input, objectness, then per-class scores already multiplied by the objectness.
class DarknetDecoder final : public Decoder
{
public:
    DarknetDecoder(cv::Size input, int numClasses);

    bool decode(const std::vector<cv::Mat> &outputs, float threshold, std::vector<Candidate> &candidates,
                QString *error) const override;

    // OpenCV zeroes class scores under each [yolo] section's `thresh` (default 0.2), which
    // hides the low scores that accuracy measurements and low --confidence need; this sets
    // thresh in every [yolo] section, overriding any value already there.
    static QByteArray patchYoloThreshold(const QByteArray &cfg, double threshold);

private:
    cv::Size m_input;
    int m_numClasses;
};

} // namespace edgelens
