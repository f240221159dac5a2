#include "detection.h"

#include <QJsonArray>
#include <QMap>

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgelens {

namespace {

// A double outside float's range converts with undefined behaviour (the fuzzer's
// {"confidence": 1e300}); NaN instead is refused by every range check downstream.
float toFloat(double value)
{
    return std::abs(value) <= double(std::numeric_limits<float>::max()) ? float(value)
                                                                         : std::numeric_limits<float>::quiet_NaN();
}

double round3(double value)
{
    return std::round(value * 1000.0) / 1000.0;
}

// Floats widened to double print as 0.4000000059604645; options travel as the user typed them.
double roundOption(float value)
{
    return std::round(double(value) * 1e6) / 1e6;
}

} // namespace

QJsonObject toJson(const Detection &detection)
{
    const QRectF &b = detection.box;
    QJsonObject object{
        {QStringLiteral("label"), detection.label},
        {QStringLiteral("class_id"), detection.classId},
        {QStringLiteral("confidence"), round3(detection.confidence)},
        {QStringLiteral("box"), QJsonArray{round3(b.x()), round3(b.y()), round3(b.width()), round3(b.height())}},
    };
    // Only frames of a video have one: the wire format of a photo's answer is unchanged.
    if (detection.trackId > 0)
        object.insert(QStringLiteral("track_id"), detection.trackId);
    return object;
}

Detection detectionFromJson(const QJsonObject &object)
{
    Detection d;
    d.label = object.value(QStringLiteral("label")).toString();
    d.classId = object.value(QStringLiteral("class_id")).toInt(-1);
    d.confidence = float(object.value(QStringLiteral("confidence")).toDouble());
    const QJsonArray box = object.value(QStringLiteral("box")).toArray();
    if (box.size() == 4)
        d.box = QRectF(box.at(0).toDouble(), box.at(1).toDouble(), box.at(2).toDouble(), box.at(3).toDouble());
    d.trackId = std::max(0, object.value(QStringLiteral("track_id")).toInt(0));
    return d;
}

QJsonObject toJson(const DetectOptions &options)
{
    QJsonObject o{
        {QStringLiteral("confidence"), roundOption(options.confidence)},
        {QStringLiteral("max_detections"), options.maxDetections},
        {QStringLiteral("return_image"), options.returnImage},
        {QStringLiteral("jpeg_quality"), options.jpegQuality},
    };
    if (options.nmsIou >= 0)
        o.insert(QStringLiteral("nms_iou"), roundOption(options.nmsIou));
    if (!options.model.isEmpty())
        o.insert(QStringLiteral("model"), options.model);
    if (options.deadlineMs >= 0)
        o.insert(QStringLiteral("deadline_ms"), options.deadlineMs);
    if (!options.classFilter.isEmpty()) {
        QList<int> ids(options.classFilter.cbegin(), options.classFilter.cend());
        std::sort(ids.begin(), ids.end());
        QJsonArray classes;
        for (int id : ids)
            classes.append(id);
        o.insert(QStringLiteral("classes"), classes);
    }
    return o;
}

DetectOptions detectOptionsFromJson(const QJsonObject &object)
{
    DetectOptions options;
    options.confidence = toFloat(object.value(QStringLiteral("confidence")).toDouble(options.confidence));
    options.nmsIou = toFloat(object.value(QStringLiteral("nms_iou")).toDouble(options.nmsIou));
    options.maxDetections = object.value(QStringLiteral("max_detections")).toInt(options.maxDetections);
    options.returnImage = object.value(QStringLiteral("return_image")).toBool(options.returnImage);
    options.jpegQuality = object.value(QStringLiteral("jpeg_quality")).toInt(options.jpegQuality);
    options.model = object.value(QStringLiteral("model")).toString();
    options.deadlineMs = object.value(QStringLiteral("deadline_ms")).toInt(options.deadlineMs);
    const QJsonArray classes = object.value(QStringLiteral("classes")).toArray();
    for (const QJsonValue &v : classes)
        options.classFilter.insert(v.toInt());
    return options;
}

QJsonObject toJson(const StageTimings &timings)
{
    return {
        {QStringLiteral("decode_ms"), round3(timings.decodeMs)},
        {QStringLiteral("inference_ms"), round3(timings.inferenceMs)},
        {QStringLiteral("markup_ms"), round3(timings.markupMs)},
        {QStringLiteral("encode_ms"), round3(timings.encodeMs)},
    };
}

StageTimings stageTimingsFromJson(const QJsonObject &object)
{
    StageTimings t;
    t.decodeMs = object.value(QStringLiteral("decode_ms")).toDouble();
    t.inferenceMs = object.value(QStringLiteral("inference_ms")).toDouble();
    t.markupMs = object.value(QStringLiteral("markup_ms")).toDouble();
    t.encodeMs = object.value(QStringLiteral("encode_ms")).toDouble();
    return t;
}

QJsonObject toJson(const DetectionResult &result)
{
    QJsonArray detections;
    for (const Detection &d : result.detections)
        detections.append(toJson(d));
    return {
        {QStringLiteral("width"), result.imageWidth},
        {QStringLiteral("height"), result.imageHeight},
        {QStringLiteral("model"), result.model},
        {QStringLiteral("detections"), detections},
        {QStringLiteral("timings"), toJson(result.timings)},
    };
}

DetectionResult detectionResultFromJson(const QJsonObject &object)
{
    DetectionResult r;
    r.imageWidth = object.value(QStringLiteral("width")).toInt();
    r.imageHeight = object.value(QStringLiteral("height")).toInt();
    r.model = object.value(QStringLiteral("model")).toString();
    const QJsonArray detections = object.value(QStringLiteral("detections")).toArray();
    for (const QJsonValue &v : detections)
        r.detections.append(detectionFromJson(v.toObject()));
    r.timings = stageTimingsFromJson(object.value(QStringLiteral("timings")).toObject());
    return r;
}

QString summarizeLabels(const QList<Detection> &detections, int maxLabels)
{
    QMap<QString, int> counts;
    for (const Detection &d : detections)
        ++counts[d.label];
    QList<QPair<QString, int>> sorted;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        sorted.append({it.key(), it.value()});
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto &a, const auto &b) { return a.second > b.second; });
    QStringList parts;
    for (int i = 0; i < sorted.size() && i < maxLabels; ++i)
        parts.append(QString::number(sorted.at(i).second) + QLatin1Char(' ') + sorted.at(i).first);
    if (sorted.size() > maxLabels)
        parts.append(QStringLiteral("…"));
    return parts.join(QStringLiteral(", "));
}

} // namespace edgelens
