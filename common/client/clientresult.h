#pragma once

#include "protocol/detection.h"

#include <QByteArray>
#include <QMetaType>
#include <QString>

namespace edgelens {

// One finished request as a client sees it. Legacy servers answer with a marked-up JPEG only,
// so hasDetectionData tells whether `result` carries detections or just the image size.
struct ClientResult
{
    DetectionResult result;
    QByteArray jpeg;                // annotated image; empty when DetectOptions::returnImage was false
    bool hasDetectionData = false;  // false for legacy servers
    double roundTripMs = 0;         // last attempt: request written -> reply parsed
    int attempts = 1;               // > 1 when the request was re-sent after a dropped connection
    bool legacy = false;            // answered over the tutorial's one-image-per-connection protocol
    QString device;                 // the device that answered: DeviceSpec::resultName(), "host:port" or "embedded"
    QString protocol;               // "deepstack" for the HTTP API; empty: v2 or legacy (see `legacy`)
};

} // namespace edgelens

Q_DECLARE_METATYPE(edgelens::ClientResult)
