#pragma once

#include "models/modelmanifest.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace edgelens {

struct PipelineFigures
{
    QString model;
    QString backend;
    double forwardMedianMs = 0; // cv::dnn::Net::forward() alone, as MODELS.md measures it
    double detectMedianMs = 0;  // Detector::detect(): preprocess + forward + decode + NMS
    int threads = 1;
    int images = 0;
    double seconds = 0;
    double imagesPerSecond = 0; // decode + detect + markup + JPEG encode, what a server does per image
};

// The server's per-image work without the network: decode, detect, draw, encode, in-process,
// on `threads` threads with one Detector each. The yardstick the server figures are held to.
class PipelineBench final
{
public:
    // backend: a createDetector() name ("opencv", "openvino", "cuda"); empty: its default.
    explicit PipelineBench(const QList<QByteArray> &images, const QString &backend = QString());

    // Median of `iterations` forwards on the model's input size (after two warm-up runs).
    static std::optional<double> forwardMedianMs(const ModelManifest &manifest, int iterations,
                                                 const QString &backend, QString *error);

    // seconds > 0: run until then; otherwise `count` images in all.
    std::optional<PipelineFigures> run(const ModelManifest &manifest, int threads, double seconds, int count,
                                       QString *error) const;

private:
    QList<QByteArray> m_images;
    QString m_backend;
};

} // namespace edgelens
