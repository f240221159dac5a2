#pragma once

#include "detector/detector.h"

#include <opencv2/objdetect.hpp>

#include <vector>

namespace edgelens {

// Last-resort detector from OpenCV's Haar/LBP cascades: file i of the manifest detects class
// i. Confidence grows with the number of merged neighbour hits (n / (n + 2 * min_neighbors)),
// a rough evidence measure, not a calibrated probability. Always reported as a fallback.
class CascadeDetector final : public Detector
{
    Q_DISABLE_COPY_MOVE(CascadeDetector)

public:
    static std::unique_ptr<CascadeDetector> create(const ModelManifest &manifest, QString *error);

    QList<Detection> detect(const cv::Mat &bgr, const DetectParams &params) override;
    const ModelManifest &manifest() const override;
    QString backendDescription() const override;
    QString lastError() const override;

private:
    CascadeDetector() = default;

    ModelManifest m_manifest;
    std::vector<cv::CascadeClassifier> m_cascades;
    double m_scaleFactor = 1.1;
    int m_minNeighbors = 3;
    double m_minSizeFraction = 0.04;
    int m_maxSide = 1024;
    QString m_lastError;
};

} // namespace edgelens
