#pragma once

#include "protocol/detection.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace edgelens {

// Reads the JSON sidecars `edgelens-cli --json` writes next to its results:
// {image, width, height, model, detections: [{label, class_id, confidence, box: [x, y, w, h]}]},
// one per image at DIR/<relative path of the image's folder>/<stem>.json.
class PredictionReader final
{
public:
    static QString sidecarPath(const QString &predictionsDir, const QString &imageRelativePath);
    // The sidecar that exists for the image, empty if none: <file name>.json first (the CLI's
    // name when "a.jpg" and "a.png" would collide), then sidecarPath().
    static QString findSidecar(const QString &predictionsDir, const QString &imageRelativePath);

    // Errors name the file and the entry: "a.json: detections[2].box: expected 4 numbers".
    //
    // A legacy server answers with the marked-up image only, so the CLI's sidecar of such a run
    // says "has_detection_data": false and has no detections. Given hasDetectionData, that file
    // reads as the image size alone with *hasDetectionData = false, for the caller to skip;
    // without it, it is an error: reading it as "nothing found" would score it wrongly.
    static std::optional<DetectionResult> readFile(const QString &path, QString *error,
                                                   bool *hasDetectionData = nullptr);
    static std::optional<DetectionResult> parse(const QByteArray &json, const QString &origin, QString *error,
                                                bool *hasDetectionData = nullptr);

    static constexpr qint64 kMaxFileBytes = 64LL * 1024 * 1024;
};

} // namespace edgelens
