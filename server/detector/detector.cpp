#include "detector.h"

#include "detector/cascadedetector.h"
#include "detector/dnndetector.h"

#include <QLoggingCategory>

#include <opencv2/dnn.hpp>

#include <QElapsedTimer>

#include <algorithm>
#include <array>

Q_LOGGING_CATEGORY(lcDetector, "edgelens.detector")

namespace edgelens {

namespace {

cv::dnn::Backend backendId(const QString &name)
{
    if (name == QLatin1String("openvino"))
        return cv::dnn::DNN_BACKEND_INFERENCE_ENGINE;
    if (name == QLatin1String("cuda"))
        return cv::dnn::DNN_BACKEND_CUDA;
    return cv::dnn::DNN_BACKEND_OPENCV;
}

} // namespace

double measureMsPerImage(Detector &detector)
{
    // Noise rather than a blank canvas: decoders and NMS see candidates to work through.
    cv::Mat image(480, 640, CV_8UC3);
    cv::RNG rng(16);
    rng.fill(image, cv::RNG::UNIFORM, 0, 256);
    DetectParams params;
    params.confidence = detector.manifest().defaultConfidence;
    detector.detect(image, params); // first run: allocations, lazy layer setup
    std::array<double, 3> ms{};
    for (double &m : ms) {
        QElapsedTimer timer;
        timer.start();
        detector.detect(image, params);
        m = double(timer.nsecsElapsed()) / 1e6;
    }
    std::sort(ms.begin(), ms.end());
    return ms[1];
}

QStringList knownBackends()
{
    return {QStringLiteral("opencv"), QStringLiteral("openvino"), QStringLiteral("cuda")};
}

QStringList availableBackends()
{
    QStringList names{QStringLiteral("opencv")};
    try {
        for (const auto &pair : cv::dnn::getAvailableBackends()) {
            for (const QString &name : {QStringLiteral("openvino"), QStringLiteral("cuda")}) {
                if (pair.first == backendId(name) && !names.contains(name))
                    names.append(name);
            }
        }
    } catch (const cv::Exception &e) {
        qCWarning(lcDetector) << "cannot list cv::dnn backends:" << e.what();
    }
    return names;
}

QString resolveBackend(const QString &name)
{
    QString backend = name.trimmed().toLower();
    if (backend.isEmpty())
        backend = qEnvironmentVariable("EDGELENS_DNN_BACKEND").trimmed().toLower();
    return backend.isEmpty() ? QStringLiteral("opencv") : backend;
}

QString backendProblem(const QString &backend)
{
    if (!knownBackends().contains(backend))
        return QStringLiteral("unknown inference backend \"%1\" (expected one of %2)")
            .arg(backend, knownBackends().join(QStringLiteral(", ")));
    if (!availableBackends().contains(backend))
        return QStringLiteral("inference backend \"%1\" is not available in this OpenCV %2 build (available: %3)")
            .arg(backend, QStringLiteral(CV_VERSION), availableBackends().join(QStringLiteral(", ")));
    return {};
}

std::unique_ptr<Detector> createDetector(const ModelManifest &manifest, QString *error)
{
    return createDetector(manifest, QString(), error);
}

std::unique_ptr<Detector> createDetector(const ModelManifest &manifest, const QString &requestedBackend,
                                         QString *error)
{
    if (manifest.family == QLatin1String("cascade"))
        return CascadeDetector::create(manifest, error);

    const QString backend = resolveBackend(requestedBackend);
    if (const QString problem = backendProblem(backend); !problem.isEmpty()) {
        if (error)
            *error = problem;
        return nullptr;
    }
    if (!manifest.isComplete()) {
        if (error)
            *error = QStringLiteral("%1: missing %2").arg(manifest.name, manifest.missingFiles().join(QStringLiteral(", ")));
        return nullptr;
    }
    return DnnDetector::create(manifest, backend, error);
}

} // namespace edgelens
