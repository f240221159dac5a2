#pragma once

#include "detector/modelmanifest.h"
#include "protocol/detection.h"

#include <QList>
#include <QSet>
#include <QString>

#include <memory>

namespace cv {
class Mat;
}

namespace edgelens {

struct DetectParams
{
    float confidence = 0.5f;
    float nmsIou = -1.0f; // < 0: the manifest's default
    int maxDetections = 100;
    QSet<int> classFilter; // empty: all classes
};

// One model loaded into one cv::dnn::Net (or cascade). Not thread-safe: a Net must not run
// concurrent forwards, so every worker thread creates its own Detector from the manifest.
class Detector
{
public:
    virtual ~Detector() = default;

    // bgr: 8-bit 3-channel image as cv::imdecode returns it. Boxes come back in its pixels,
    // sorted by confidence, at most params.maxDetections, class-wise NMS applied.
    virtual QList<Detection> detect(const cv::Mat &bgr, const DetectParams &params) = 0;

    virtual const ModelManifest &manifest() const = 0;

    // "OpenCV/CPU", "OpenVINO/CPU", ... for logs and server-info.
    virtual QString backendDescription() const = 0;
};

// Loads the manifest's files into a fresh detector; nullptr with *error set on failure.
std::unique_ptr<Detector> createDetector(const ModelManifest &manifest, QString *error);

} // namespace edgelens
