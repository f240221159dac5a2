#include "deepstackanswer.h"

#include <QDateTime>
#include <QHostInfo>

#include <algorithm>
#include <cmath>

namespace edgelens {

namespace {

int clampCorner(double value, int size)
{
    return std::clamp(int(std::lround(value)), 0, std::max(0, size - 1));
}

QJsonObject versionInfo(const QString &version)
{
    const QStringList parts = version.split(QLatin1Char('.'));
    return {{QStringLiteral("major"), parts.value(0).toInt()},
            {QStringLiteral("minor"), parts.value(1).toInt()},
            {QStringLiteral("patch"), parts.value(2).toInt()},
            {QStringLiteral("preRelease"), QJsonValue::Null},
            {QStringLiteral("securityUpdate"), false},
            {QStringLiteral("build"), 0},
            {QStringLiteral("file"), QString()},
            {QStringLiteral("releaseNotes"), QString()}};
}

} // namespace

QJsonArray DeepStackAnswer::predictions(const DetectionResult &result, float minConfidence)
{
    QList<Detection> kept;
    for (const Detection &d : result.detections) {
        if (d.confidence >= minConfidence)
            kept.append(d);
    }
    // Frigate stops reading at the first prediction under its threshold.
    std::stable_sort(kept.begin(), kept.end(),
                     [](const Detection &a, const Detection &b) { return a.confidence > b.confidence; });
    QJsonArray out;
    for (const Detection &d : kept) {
        out.append(QJsonObject{
            {QStringLiteral("label"), d.label},
            {QStringLiteral("confidence"), double(d.confidence)},
            {QStringLiteral("x_min"), clampCorner(d.box.left(), result.imageWidth)},
            {QStringLiteral("y_min"), clampCorner(d.box.top(), result.imageHeight)},
            {QStringLiteral("x_max"), clampCorner(d.box.left() + d.box.width(), result.imageWidth)},
            {QStringLiteral("y_max"), clampCorner(d.box.top() + d.box.height(), result.imageHeight)},
        });
    }
    return out;
}

QJsonObject DeepStackAnswer::detection(const DetectionResult &result, float minConfidence, const QString &command,
                                       const QString &requestId, const QString &inferenceDevice, const Timing &timing)
{
    const QJsonArray found = predictions(result, minConfidence);
    QStringList labels;
    for (const QJsonValue &p : found)
        labels.append(p.toObject().value(QStringLiteral("label")).toString());
    const QString message = labels.isEmpty() ? QStringLiteral("No objects found")
                                             : QStringLiteral("Found ") + labels.join(QStringLiteral(", "));
    return {{QStringLiteral("success"), true},
            {QStringLiteral("message"), message},
            {QStringLiteral("predictions"), found},
            {QStringLiteral("count"), found.size()},
            {QStringLiteral("command"), command},
            {QStringLiteral("moduleId"), QString::fromLatin1(kModuleId)},
            {QStringLiteral("moduleName"), QString::fromLatin1(kModuleName)},
            {QStringLiteral("model"), result.model},
            {QStringLiteral("executionProvider"), inferenceDevice},
            {QStringLiteral("canUseGPU"), inferenceDevice != QLatin1String("CPU")},
            {QStringLiteral("inferenceDevice"), inferenceDevice},
            {QStringLiteral("inferenceMs"), qint64(std::lround(timing.inferenceMs))},
            {QStringLiteral("processMs"), qint64(std::lround(timing.processMs))},
            {QStringLiteral("analysisRoundTripMs"), qint64(std::lround(timing.roundTripMs))},
            {QStringLiteral("duration"), qint64(std::lround(timing.roundTripMs))},
            {QStringLiteral("processedBy"), QHostInfo::localHostName()},
            {QStringLiteral("timestampUTC"), QDateTime::currentDateTimeUtc().toString(Qt::RFC2822Date)},
            {QStringLiteral("code"), 200},
            {QStringLiteral("requestId"), requestId}};
}

QJsonObject DeepStackAnswer::error(int httpStatus, const QString &message, double durationMs)
{
    return {{QStringLiteral("success"), false},
            {QStringLiteral("error"), message},
            {QStringLiteral("duration"), qint64(std::lround(durationMs))},
            {QStringLiteral("code"), httpStatus}};
}

QJsonObject DeepStackAnswer::modelList(const QStringList &models)
{
    return {{QStringLiteral("success"), true},
            {QStringLiteral("models"), QJsonArray::fromStringList(models)},
            {QStringLiteral("moduleId"), QString::fromLatin1(kModuleId)},
            {QStringLiteral("moduleName"), QString::fromLatin1(kModuleName)},
            {QStringLiteral("command"), QStringLiteral("list")},
            {QStringLiteral("code"), 200}};
}

QJsonObject DeepStackAnswer::updateAvailable(const QString &version)
{
    const QJsonObject info = versionInfo(version);
    return {{QStringLiteral("success"), true},
            {QStringLiteral("message"), QStringLiteral("This is the current version")},
            {QStringLiteral("latest"), info},
            {QStringLiteral("current"), info},
            {QStringLiteral("version"), info},
            {QStringLiteral("updateAvailable"), false}};
}

} // namespace edgelens
