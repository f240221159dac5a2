#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <opencv2/core.hpp>

namespace edgelens {

// Phone-camera-sized test photos made on the fly from small images (never committed): each
// source is upscaled to 4032x3024 (cubic), given mild sensor-like noise and saved as a JPEG of
// quality 92, about 2-3 MB like a 12 MP phone photo. For the shaped-link benchmark and the
// 12 MP accuracy comparison.
class PhotoGenerator final
{
public:
    // Writes `count` photos (cycling through the sources) into outputDir as <stem>-12mp.jpg
    // (with a -N suffix after the first round). Returns the paths; empty with *error on failure.
    static QStringList generate(const QString &sourceDir, const QString &outputDir, int count, QString *error);
    // One photo made from a decoded source image, as JPEG bytes; the noise comes from rng.
    static QByteArray makePhoto(const cv::Mat &source, cv::RNG &rng);
    static constexpr int kWidth = 4032;
    static constexpr int kHeight = 3024;
};

} // namespace edgelens
