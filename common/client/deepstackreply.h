#pragma once

// What a DeepStack or CodeProject.AI Server answered to POST /v1/vision/detection (or
// /v1/vision/custom/<model>), as the client acts on it. Pure parsing, no network: the transport
// decides what each outcome does to the request and the device.
//
// DeepStack answers {"success": true, "predictions": [{"label", "confidence", "x_min", "y_min",
// "x_max", "y_max"}, ...]} with integer corners in the sent image's pixels, and errors as
// {"success": false, "error": "..."} with 400 (the image or a field), 401 (the API key) or 500.
// CodeProject.AI adds fields (count, inferenceMs, moduleId, ...); anything else is ignored, and
// predictions come in any order.

#include "protocol/detection.h"

#include <QByteArray>
#include <QString>

namespace edgelens {

struct DeepStackReply
{
    enum class Outcome {
        Ok,           // predictions read
        ImageRefused, // 4xx about this request (bad image, field, model, size): fail the image
        Unauthorized, // 401/403: the API key is wrong or missing; every request would fail
        Busy,         // 503 or 429: send it later or elsewhere
        ServerError,  // 5xx: the device is in trouble
        NotDeepStack, // an answer that is not DeepStack's JSON
    };

    Outcome outcome = Outcome::NotDeepStack;
    QString message;  // the server's own words for a failure (its "error" field), or ours
    QList<Detection> detections; // sent-image pixels, highest confidence first
    QString model;    // "model" when the server names it (EdgeLens does), else empty
    double inferenceMs = 0;
    double processMs = 0;

    // The answer with HTTP status `status` and body `body`. `server` names the device in messages.
    static DeepStackReply parse(int status, const QByteArray &body, const QString &server);
    // COCO's class id for a DeepStack label ("person" -> 0), -1 for a label outside COCO.
    static int classIdForLabel(const QString &label);
};

} // namespace edgelens
