#include "annotation.h"

#include <QHash>
#include <QJsonArray>
#include <QtGlobal>

#include <cmath>

namespace edgelens {

namespace {

QJsonArray detectionsJson(const QList<Detection> &detections)
{
    QJsonArray array;
    for (const Detection &d : detections)
        array.append(toJson(d));
    return array;
}

QList<Detection> detectionsFromJson(const QJsonValue &value)
{
    QList<Detection> out;
    const QJsonArray array = value.toArray();
    out.reserve(array.size());
    for (const QJsonValue &v : array)
        out.append(detectionFromJson(v.toObject()));
    return out;
}

QString timeText(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODateWithMs) : QString();
}

} // namespace

double ThresholdPolicy::thresholdFor(const QString &model) const
{
    // Manifests hold floats: 0.4f must be 0.4, as the user reads it.
    const double value = userThreshold >= 0 ? userThreshold : modelDefaults.value(model, fallback);
    return std::round(value * 1000.0) / 1000.0;
}

double ThresholdPolicy::requestConfidence() const
{
    return userThreshold >= 0 ? std::min(userThreshold, kRequestFloor) : kRequestFloor;
}

bool Annotation::passes(const Detection &detection, double threshold)
{
    return std::round(double(detection.confidence) * 1000.0) >= std::round(threshold * 1000.0);
}

int Annotation::colorId(const Detection &detection)
{
    return detection.classId >= 0 ? detection.classId : int(qHash(detection.label) % 1000u);
}

void Annotation::markEdited()
{
    edited = true;
    editedBy = currentUser();
    editedAt = QDateTime::currentDateTimeUtc();
}

QList<Detection> Annotation::accepted() const
{
    QList<Detection> out;
    for (const Detection &d : boxes) {
        if (passes(d, threshold))
            out.append(d);
    }
    return out;
}

Annotation Annotation::fromModel(const DetectionResult &model, double threshold)
{
    Annotation a;
    a.boxes = model.detections;
    a.threshold = threshold;
    return a;
}

QString Annotation::currentUser()
{
    QString user = qEnvironmentVariable("USER");
    if (user.isEmpty())
        user = qEnvironmentVariable("USERNAME");
    return user.isEmpty() ? QStringLiteral("unknown") : user;
}

namespace sidecar {

void writeAnnotation(QJsonObject &sidecar, const DetectionResult &model, const Annotation &annotation)
{
    QList<Detection> below;
    const QList<Detection> accepted = annotation.accepted();
    for (const Detection &d : annotation.boxes) {
        if (!accepted.contains(d))
            below.append(d);
    }
    sidecar.insert(QStringLiteral("detections"), detectionsJson(accepted));
    sidecar.insert(QStringLiteral("below_threshold"), detectionsJson(below));
    sidecar.insert(QStringLiteral("model_detections"), detectionsJson(model.detections));
    sidecar.insert(QStringLiteral("confidence_threshold"), std::round(annotation.threshold * 1000.0) / 1000.0);
    sidecar.insert(QStringLiteral("edited"), annotation.edited);
    sidecar.insert(QStringLiteral("reviewed"), annotation.reviewed);
    const auto setOrRemove = [&sidecar](const QString &key, const QString &value) {
        if (value.isEmpty())
            sidecar.remove(key);
        else
            sidecar.insert(key, value);
    };
    setOrRemove(QStringLiteral("edited_by"), annotation.edited ? annotation.editedBy : QString());
    setOrRemove(QStringLiteral("edited_at"), annotation.edited ? timeText(annotation.editedAt) : QString());
    setOrRemove(QStringLiteral("reviewed_by"), annotation.reviewed ? annotation.reviewedBy : QString());
    setOrRemove(QStringLiteral("reviewed_at"), annotation.reviewed ? timeText(annotation.reviewedAt) : QString());
    if (annotation.hasNewerOutput) {
        QJsonObject newer = toJson(annotation.newerOutput);
        sidecar.insert(QStringLiteral("newer_model_output"), newer);
    } else {
        sidecar.remove(QStringLiteral("newer_model_output"));
    }
    if (!model.model.isEmpty())
        sidecar.insert(QStringLiteral("model"), model.model);
}

bool readAnnotation(const QJsonObject &object, DetectionResult *model, Annotation *annotation)
{
    const bool hasData = object.value(QStringLiteral("has_detection_data")).toBool(true)
        && object.contains(QStringLiteral("detections"));
    *model = detectionResultFromJson(object);
    const QList<Detection> accepted = detectionsFromJson(object.value(QStringLiteral("detections")));
    const QList<Detection> below = detectionsFromJson(object.value(QStringLiteral("below_threshold")));
    if (object.contains(QStringLiteral("model_detections")))
        model->detections = detectionsFromJson(object.value(QStringLiteral("model_detections")));
    Annotation a;
    a.boxes = accepted + below;
    a.threshold = object.value(QStringLiteral("confidence_threshold")).toDouble(0.0);
    a.edited = object.value(QStringLiteral("edited")).toBool(false);
    a.reviewed = object.value(QStringLiteral("reviewed")).toBool(false);
    a.editedBy = object.value(QStringLiteral("edited_by")).toString();
    a.editedAt = QDateTime::fromString(object.value(QStringLiteral("edited_at")).toString(), Qt::ISODateWithMs);
    a.reviewedBy = object.value(QStringLiteral("reviewed_by")).toString();
    a.reviewedAt = QDateTime::fromString(object.value(QStringLiteral("reviewed_at")).toString(), Qt::ISODateWithMs);
    const QJsonValue newer = object.value(QStringLiteral("newer_model_output"));
    if (newer.isObject()) {
        a.hasNewerOutput = true;
        a.newerOutput = detectionResultFromJson(newer.toObject());
    }
    if (!object.contains(QStringLiteral("confidence_threshold"))) {
        // Written by the CLI or an older app: what it saved is what passed its threshold.
        double lowest = 1.0;
        for (const Detection &d : accepted)
            lowest = std::min(lowest, double(d.confidence));
        a.threshold = accepted.isEmpty() ? 0.0 : lowest;
    }
    *annotation = a;
    return hasData;
}

} // namespace sidecar
} // namespace edgelens
