#pragma once

// Plain data shared by every part of EdgeLens: what a detector finds, what a client asks
// for, and what a server answers. The JSON forms here are the single schema used by the
// v2 wire protocol, the CLI's --json sidecars and the desktop app (see docs/PROTOCOL.md).

#include <QJsonObject>
#include <QList>
#include <QRectF>
#include <QSet>
#include <QString>
#include <QStringList>

namespace edgelens {

struct Detection
{
    int classId = -1;
    QString label;
    float confidence = 0.0f;
    QRectF box; // original-image pixels: x, y (top-left), width, height
    // The same object across the sampled frames of a video (>= 1; 0: none given). Servers never
    // set it; TrackAssigner does, and a corrected box keeps it. JSON "track_id" when set.
    int trackId = 0;

    friend bool operator==(const Detection &a, const Detection &b)
    {
        return a.classId == b.classId && a.label == b.label && qFuzzyCompare(a.confidence, b.confidence)
            && a.box == b.box && a.trackId == b.trackId;
    }
};

// What a client may ask of one detection request; every field has a usable default.
struct DetectOptions
{
    float confidence = 0.5f; // the tutorial's threshold
    float nmsIou = -1.0f;    // < 0: the model's own default
    int maxDetections = 100;
    QSet<int> classFilter;   // empty: every class
    QString model;           // empty: the server's default model
    bool returnImage = true; // annotated JPEG in the reply
    int jpegQuality = 90;
    // v2 only: the server answers deadline_exceeded instead of running the request when no
    // worker has started it within this many ms of its arrival (a live client wants no stale
    // frame). < 0: no deadline. The server's clock, so no clock needs to agree with another.
    int deadlineMs = -1;
};

struct StageTimings
{
    double decodeMs = 0;
    double inferenceMs = 0;
    double markupMs = 0;
    double encodeMs = 0;
};

struct DetectionResult
{
    int imageWidth = 0;
    int imageHeight = 0;
    QString model;
    QList<Detection> detections;
    StageTimings timings;
};

QJsonObject toJson(const Detection &detection);
Detection detectionFromJson(const QJsonObject &object);

QJsonObject toJson(const DetectOptions &options);
DetectOptions detectOptionsFromJson(const QJsonObject &object);

QJsonObject toJson(const StageTimings &timings);
StageTimings stageTimingsFromJson(const QJsonObject &object);

QJsonObject toJson(const DetectionResult &result);
DetectionResult detectionResultFromJson(const QJsonObject &object);

// "3 person, 1 dog": counts per label, most frequent first (ties by name).
QString summarizeLabels(const QList<Detection> &detections, int maxLabels = 3);

} // namespace edgelens
