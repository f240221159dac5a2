#include "predictionreader.h"

#include "eval/boundedfile.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace edgelens {

QString PredictionReader::sidecarPath(const QString &predictionsDir, const QString &imageRelativePath)
{
    const QFileInfo rel(imageRelativePath);
    const QString name = rel.completeBaseName() + QStringLiteral(".json");
    return QDir(predictionsDir).filePath(rel.path() == QLatin1String(".") ? name : rel.path() + QLatin1Char('/') + name);
}

QString PredictionReader::findSidecar(const QString &predictionsDir, const QString &imageRelativePath)
{
    const QString specific = QDir(predictionsDir).filePath(imageRelativePath + QStringLiteral(".json"));
    if (QFileInfo(specific).isFile())
        return specific;
    const QString plain = sidecarPath(predictionsDir, imageRelativePath);
    return QFileInfo(plain).isFile() ? plain : QString();
}

std::optional<DetectionResult> PredictionReader::readFile(const QString &path, QString *error,
                                                         bool *hasDetectionData)
{
    const std::optional<QByteArray> bytes =
        BoundedFile::read(path, kMaxFileBytes, QStringLiteral("a prediction sidecar"), error);
    if (!bytes)
        return std::nullopt;
    return parse(*bytes, path, error, hasDetectionData);
}

std::optional<DetectionResult> PredictionReader::parse(const QByteArray &json, const QString &origin, QString *error,
                                                      bool *hasDetectionData)
{
    const auto fail = [&](const QString &message) {
        if (error)
            *error = origin + QStringLiteral(": ") + message;
        return std::nullopt;
    };
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return fail(QStringLiteral("not valid JSON at byte %1: %2").arg(parseError.offset).arg(parseError.errorString()));
    if (!doc.isObject())
        return fail(QStringLiteral("expected a JSON object with a detections array"));
    const QJsonObject root = doc.object();
    DetectionResult result;
    result.imageWidth = root.value(QStringLiteral("width")).toInt();
    result.imageHeight = root.value(QStringLiteral("height")).toInt();
    result.model = root.value(QStringLiteral("model")).toString();

    const bool withData = root.value(QStringLiteral("has_detection_data")).toBool(true);
    if (hasDetectionData)
        *hasDetectionData = withData;
    if (!withData) {
        if (hasDetectionData)
            return result;
        return fail(QStringLiteral("written for a legacy server, which returns no detection data "
                                   "(has_detection_data: false); it cannot be scored"));
    }
    if (!root.value(QStringLiteral("detections")).isArray())
        return fail(QStringLiteral("detections: expected an array (is this an edgelens-cli --json sidecar?)"));

    const QJsonArray detections = root.value(QStringLiteral("detections")).toArray();
    for (qsizetype i = 0; i < detections.size(); ++i) {
        const QString where = QStringLiteral("detections[%1]").arg(i);
        if (!detections.at(i).isObject())
            return fail(where + QStringLiteral(": expected an object"));
        const QJsonObject o = detections.at(i).toObject();
        const QJsonValue classId = o.value(QStringLiteral("class_id"));
        if (!classId.isDouble() || classId.toDouble() != std::floor(classId.toDouble()) || classId.toDouble() < 0)
            return fail(where + QStringLiteral(".class_id: expected a non-negative integer"));
        const QJsonValue confidence = o.value(QStringLiteral("confidence"));
        if (!confidence.isDouble() || !std::isfinite(confidence.toDouble()))
            return fail(where + QStringLiteral(".confidence: expected a number"));
        const QJsonArray box = o.value(QStringLiteral("box")).toArray();
        bool numbers = box.size() == 4;
        for (const QJsonValue &v : box)
            numbers = numbers && v.isDouble() && std::isfinite(v.toDouble());
        if (!numbers)
            return fail(where + QStringLiteral(".box: expected 4 numbers [x, y, width, height]"));
        result.detections.append(detectionFromJson(o));
    }
    return result;
}

} // namespace edgelens
