#pragma once

#include "models/modelmanifest.h"
#include "protocol/detection.h"

#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>

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
    Q_DISABLE_COPY_MOVE(Detector) // owns a Net; copies would share it across threads

public:
    virtual ~Detector() = default;

    // bgr: 8-bit 3-channel image as cv::imdecode returns it. Boxes come back in its pixels,
    // sorted by confidence, at most params.maxDetections, class-wise NMS applied.
    virtual QList<Detection> detect(const cv::Mat &bgr, const DetectParams &params) = 0;

    virtual const ModelManifest &manifest() const = 0;

    // "OpenCV/CPU", "OpenVINO/CPU", ... for logs and server-info.
    virtual QString backendDescription() const = 0;

    // Why the last detect() returned nothing when it failed (unusable image, inference or
    // decoding error); empty after a successful call, even one that found nothing.
    virtual QString lastError() const { return {}; }

protected:
    Detector() = default;
};

// Loads the manifest's files into a fresh detector; nullptr with *error set on failure.
// Uses the backend named by EDGELENS_DNN_BACKEND, else "opencv".
std::unique_ptr<Detector> createDetector(const ModelManifest &manifest, QString *error);

// Same with an explicit cv::dnn backend: "opencv" (CPU), "openvino" or "cuda"; an empty name
// means the default above. Fails with a clear message when this OpenCV build lacks it.
std::unique_ptr<Detector> createDetector(const ModelManifest &manifest, const QString &backend, QString *error);

// Milliseconds one detect() takes here (preprocess, forward, decode, NMS): the median of three
// runs on a 640x480 photo-sized test image after one warm-up run. The server measures each
// model at startup and reports it in server-info; `models list` shows it.
double measureMsPerImage(Detector &detector);

// Backend names createDetector() accepts on this machine, "opencv" first.
QStringList availableBackends();
QStringList knownBackends(); // every name createDetector() understands

// What a backend request means: `name`, else $EDGELENS_DNN_BACKEND, else "opencv"; lower case.
QString resolveBackend(const QString &name);

// Empty when createDetector() can use `backend` (a resolved name) here, else the reason.
QString backendProblem(const QString &backend);

} // namespace edgelens
