#pragma once

#include "detector/decoder.h"
#include "detector/detector.h"

#include <opencv2/dnn.hpp>

#include <memory>
#include <string>
#include <vector>

namespace edgelens {

// A cv::dnn::Net plus the decoder for its family: preprocess, forward, decode, class-wise
// NMS, map back to image pixels.
class DnnDetector final : public Detector
{
    Q_DISABLE_COPY_MOVE(DnnDetector)

public:
    // backend: "opencv", "openvino" or "cuda" (checked by the caller).
    // Points `net` at the backend/target pair for a resolved backend name; returns the
    // description shown in logs ("OpenCV/CPU"). Shared with the bench so it times the same net.
    static QString applyBackend(cv::dnn::Net &net, const QString &backend);

    // The manifest's network as create() reads it (ONNX through OnnxCompat, Darknet with its
    // [yolo] thresh patched); an empty Net with *error on failure. Shared with the bench so it
    // times the same graph.
    static cv::dnn::Net readNetwork(const ModelManifest &manifest, QString *error);

    static std::unique_ptr<DnnDetector> create(const ModelManifest &manifest, const QString &backend,
                                               QString *error);

    QList<Detection> detect(const cv::Mat &bgr, const DetectParams &params) override;
    const ModelManifest &manifest() const override;
    QString backendDescription() const override;
    QString lastError() const override;

    // What `models check` shows a person deciding whether a manifest fits its file:
    // the outputs' shapes at load ("[1, 1600, 80], [1, 1600, 32], ..."), and how many boxes
    // the last detect() kept that reached beyond the input canvas by more than a tenth of its
    // side before clipping (a decoder that does not match the outputs throws boxes far out).
    QString outputShapes() const;
    int lastFarOutside() const;

private:
    DnnDetector() = default;

    ModelManifest m_manifest;
    cv::dnn::Net m_net;
    std::vector<std::string> m_outputNames;
    std::unique_ptr<Decoder> m_decoder;
    QString m_backendDescription;
    QString m_lastError;
    QString m_outputShapes;
    int m_lastFarOutside = 0;
};

} // namespace edgelens
