#pragma once

#include "protocol/detection.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace edgelens {

// The JSON answers of DeepStack's and CodeProject.AI Server's vision API, shaped exactly as
// their clients (Home Assistant, Blue Iris, Frigate, Agent DVR) read them. Pure functions: the
// HTTP listener decides status codes and timing, this decides the bytes.
class DeepStackAnswer final
{
public:
    static constexpr const char *kModuleId = "EdgeLens";
    static constexpr const char *kModuleName = "EdgeLens Object Detection";

    struct Timing
    {
        double inferenceMs = 0; // network forward
        double processMs = 0;   // decode + inference + markup on the worker
        double roundTripMs = 0; // request complete -> answer ready, as the server saw it
    };

    // `command` is "detect" for /v1/vision/detection and "custom" for /v1/vision/custom/<m>.
    // Predictions below minConfidence are left out; the rest sorted by confidence, highest first.
    static QJsonObject detection(const DetectionResult &result, float minConfidence, const QString &command,
                                 const QString &requestId, const QString &inferenceDevice, const Timing &timing);
    // {"label", "confidence", "x_min", "y_min", "x_max", "y_max"} with integer corners clamped
    // to the image.
    static QJsonArray predictions(const DetectionResult &result, float minConfidence);
    static QJsonObject error(int httpStatus, const QString &message, double durationMs);
    static QJsonObject modelList(const QStringList &models);
    // CodeProject.AI's GET /v1/status/updateavailable. This server never phones home, so the
    // latest version it knows of is its own.
    static QJsonObject updateAvailable(const QString &version);

private:
    DeepStackAnswer() = delete;
};

} // namespace edgelens
