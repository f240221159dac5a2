#include "cascadedetector.h"

#include "detector/nms.h"

#include <QFile>
#include <QLoggingCategory>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcCascade, "edgelens.detector.cascade")

namespace edgelens {

std::unique_ptr<CascadeDetector> CascadeDetector::create(const ModelManifest &manifest, QString *error)
{
    std::unique_ptr<CascadeDetector> d(new CascadeDetector);
    d->m_manifest = manifest;
    d->m_manifest.fallback = true; // never let a cascade pass for a real detector
    const QJsonObject &opts = manifest.decoder;
    d->m_scaleFactor = std::clamp(opts.value(QStringLiteral("scale_factor")).toDouble(1.1), 1.01, 2.0);
    d->m_minNeighbors = std::clamp(opts.value(QStringLiteral("min_neighbors")).toInt(3), 1, 100);
    d->m_minSizeFraction = std::clamp(opts.value(QStringLiteral("min_size_fraction")).toDouble(0.04), 0.0, 1.0);
    d->m_maxSide = std::clamp(opts.value(QStringLiteral("max_side")).toInt(1024), 64, 8192);

    if (manifest.files.size() > manifest.classNames.size()) {
        if (error)
            *error = QStringLiteral("%1: class_names: a cascade model needs one name per file (%2 files, %3 names)")
                         .arg(manifest.name)
                         .arg(manifest.files.size())
                         .arg(manifest.classNames.size());
        return nullptr;
    }
    for (const ModelFile &f : manifest.files) {
        if (f.path.isEmpty()) {
            if (error)
                *error = QStringLiteral("%1: %2 was not found").arg(manifest.name, f.name);
            return nullptr;
        }
        cv::CascadeClassifier cascade;
        bool loaded = false;
        try {
            loaded = cascade.load(QFile::encodeName(f.path).toStdString());
        } catch (const cv::Exception &e) {
            qCWarning(lcCascade) << e.what();
        }
        if (!loaded || cascade.empty()) {
            if (error)
                *error = QStringLiteral("%1: %2 is not a cascade OpenCV can load").arg(manifest.name, f.path);
            return nullptr;
        }
        d->m_cascades.push_back(std::move(cascade));
    }
    return d;
}

QList<Detection> CascadeDetector::detect(const cv::Mat &input, const DetectParams &params)
{
    m_lastError.clear();
    if (input.empty() || input.depth() != CV_8U || (input.channels() != 1 && input.channels() != 3
                                                    && input.channels() != 4)) {
        m_lastError = input.empty() ? QStringLiteral("empty image") : QStringLiteral("unsupported image format");
        return {};
    }
    try {
        cv::Mat grey;
        if (input.channels() == 3)
            cv::cvtColor(input, grey, cv::COLOR_BGR2GRAY);
        else if (input.channels() == 4)
            cv::cvtColor(input, grey, cv::COLOR_BGRA2GRAY);
        else
            grey = input;
        // Cascades scan every scale; bounding the image bounds the time on huge photos.
        const double shrink = std::min(1.0, double(m_maxSide) / std::max(grey.cols, grey.rows));
        if (shrink < 1.0)
            cv::resize(grey, grey, cv::Size(), shrink, shrink, cv::INTER_AREA);
        cv::equalizeHist(grey, grey);
        const int minSide = std::max(12, int(std::min(grey.cols, grey.rows) * m_minSizeFraction));

        std::vector<Candidate> candidates;
        for (size_t i = 0; i < m_cascades.size(); ++i) {
            const int classId = int(i);
            if (!params.classFilter.isEmpty() && !params.classFilter.contains(classId))
                continue;
            std::vector<cv::Rect> rects;
            std::vector<int> neighbours;
            m_cascades[i].detectMultiScale(grey, rects, neighbours, m_scaleFactor, m_minNeighbors, 0,
                                           cv::Size(minSide, minSide));
            for (size_t r = 0; r < rects.size(); ++r) {
                const float n = float(r < neighbours.size() ? neighbours[r] : m_minNeighbors);
                const float score = n / (n + 2.0f * float(m_minNeighbors));
                if (score < params.confidence)
                    continue;
                const cv::Rect &b = rects[r];
                candidates.push_back({classId, score,
                                      cv::Rect2f(float(b.x / shrink), float(b.y / shrink), float(b.width / shrink),
                                                 float(b.height / shrink))});
            }
        }
        const float iou = params.nmsIou >= 0 ? params.nmsIou : m_manifest.defaultNmsIou;
        const std::vector<Candidate> kept = Nms::classwise(std::move(candidates), iou, params.maxDetections,
                                                           params.classFilter);
        QList<Detection> detections;
        for (const Candidate &c : kept) {
            Detection d;
            d.classId = c.classId;
            d.label = m_manifest.classNames.value(c.classId);
            d.confidence = c.score;
            const double x1 = std::clamp(double(c.box.x), 0.0, double(input.cols));
            const double y1 = std::clamp(double(c.box.y), 0.0, double(input.rows));
            const double x2 = std::clamp(double(c.box.x + c.box.width), 0.0, double(input.cols));
            const double y2 = std::clamp(double(c.box.y + c.box.height), 0.0, double(input.rows));
            d.box = QRectF(x1, y1, x2 - x1, y2 - y1);
            detections.append(d);
        }
        return detections;
    } catch (const cv::Exception &e) {
        m_lastError = QStringLiteral("cascade detection failed: %1").arg(QString::fromStdString(e.what()).trimmed());
        return {};
    }
}

const ModelManifest &CascadeDetector::manifest() const
{
    return m_manifest;
}

QString CascadeDetector::backendDescription() const
{
    return QStringLiteral("OpenCV cascade/CPU (fallback)");
}

QString CascadeDetector::lastError() const
{
    return m_lastError;
}

} // namespace edgelens
