#include "deepstackreply.h"

#include "models/modelmanifest.h"

#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

#include <algorithm>
#include <cmath>

namespace edgelens {

namespace {

// What a person can read of a body that is not JSON: its start, printable.
QString excerpt(const QByteArray &body)
{
    QString text = QString::fromUtf8(body.left(120)).simplified();
    if (body.size() > 120)
        text += QStringLiteral("…");
    return text.isEmpty() ? QStringLiteral("an empty body") : QLatin1Char('"') + text + QLatin1Char('"');
}

// A number DeepStack may send as a JSON number or (some forks) as a numeric string.
bool readNumber(const QJsonValue &value, double *out)
{
    if (value.isDouble()) {
        *out = value.toDouble();
        return std::isfinite(*out);
    }
    if (value.isString()) {
        bool ok = false;
        *out = value.toString().toDouble(&ok);
        return ok && std::isfinite(*out);
    }
    return false;
}

} // namespace

int DeepStackReply::classIdForLabel(const QString &label)
{
    static const QHash<QString, int> ids = [] {
        QHash<QString, int> map;
        const QStringList names = ModelManifest::cocoClassNames();
        for (int i = 0; i < names.size(); ++i)
            map.insert(names.at(i), i);
        return map;
    }();
    return ids.value(label.trimmed().toLower(), -1);
}

DeepStackReply DeepStackReply::parse(int status, const QByteArray &body, const QString &server)
{
    DeepStackReply reply;
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    const QJsonObject object = document.object();
    const bool isJson = parseError.error == QJsonParseError::NoError && document.isObject();
    const QString serverWords = object.value(QStringLiteral("error")).toString();

    auto failure = [&](Outcome outcome, const QString &fallback) {
        reply.outcome = outcome;
        reply.message = serverWords.isEmpty() ? fallback : serverWords;
        return reply;
    };

    if (status == 401 || status == 403) {
        return failure(Outcome::Unauthorized, QStringLiteral("HTTP %1").arg(status));
    }
    if (status == 429 || status == 503)
        return failure(Outcome::Busy, QStringLiteral("HTTP %1").arg(status));
    if (status >= 500)
        return failure(Outcome::ServerError,
                       QStringLiteral("HTTP %1 with %2").arg(status).arg(isJson ? QStringLiteral("no error text")
                                                                                : excerpt(body)));
    if (status >= 400)
        return failure(Outcome::ImageRefused, isJson ? QStringLiteral("HTTP %1").arg(status)
                                                     : QStringLiteral("HTTP %1: %2").arg(status).arg(excerpt(body)));
    if (status != 200) {
        reply.message = QStringLiteral("The server at %1 answered HTTP %2, not a DeepStack answer.").arg(server).arg(status);
        return reply;
    }
    if (!isJson) {
        reply.message = QStringLiteral("The server at %1 did not answer with DeepStack JSON (%2): %3")
                            .arg(server, parseError.error == QJsonParseError::NoError ? QStringLiteral("not an object")
                                                                                      : parseError.errorString(),
                                 excerpt(body));
        return reply;
    }
    if (!object.value(QStringLiteral("success")).toBool(false)) {
        // DeepStack reports some failures with 200 and success: false.
        return failure(Outcome::ImageRefused, QStringLiteral("the server reported no success and gave no reason"));
    }
    const QJsonValue predictions = object.value(QStringLiteral("predictions"));
    if (!predictions.isArray()) {
        reply.message = QStringLiteral("The server at %1 answered success without a \"predictions\" list.").arg(server);
        return reply;
    }
    const QJsonArray list = predictions.toArray();
    // Kept aside until every prediction has been read: a refused answer carries no boxes.
    QList<Detection> detections;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonObject p = list.at(i).toObject();
        double conf = 0, x1 = 0, y1 = 0, x2 = 0, y2 = 0;
        if (!readNumber(p.value(QStringLiteral("confidence")), &conf) || !readNumber(p.value(QStringLiteral("x_min")), &x1)
            || !readNumber(p.value(QStringLiteral("y_min")), &y1) || !readNumber(p.value(QStringLiteral("x_max")), &x2)
            || !readNumber(p.value(QStringLiteral("y_max")), &y2)) {
            reply.message = QStringLiteral("The server at %1 sent prediction %2 without numeric confidence and corners.")
                                .arg(server)
                                .arg(i + 1);
            return reply;
        }
        if (x2 < x1)
            std::swap(x1, x2);
        if (y2 < y1)
            std::swap(y1, y2);
        // Corners each finite can still be a box too wide for a double (-1e308 to 1e308).
        if (!std::isfinite(x2 - x1) || !std::isfinite(y2 - y1)) {
            reply.message = QStringLiteral("The server at %1 sent prediction %2 with corners out of range.")
                                .arg(server)
                                .arg(i + 1);
            return reply;
        }
        Detection d;
        d.label = p.value(QStringLiteral("label")).toString();
        d.classId = classIdForLabel(d.label);
        d.confidence = float(std::clamp(conf, 0.0, 1.0));
        d.box = QRectF(x1, y1, x2 - x1, y2 - y1);
        detections.append(d);
    }
    reply.detections = std::move(detections);
    std::stable_sort(reply.detections.begin(), reply.detections.end(),
                     [](const Detection &a, const Detection &b) { return a.confidence > b.confidence; });
    reply.model = object.value(QStringLiteral("model")).toString();
    double ms = 0;
    if (readNumber(object.value(QStringLiteral("inferenceMs")), &ms))
        reply.inferenceMs = ms;
    if (readNumber(object.value(QStringLiteral("processMs")), &ms))
        reply.processMs = ms;
    reply.outcome = Outcome::Ok;
    return reply;
}

} // namespace edgelens
