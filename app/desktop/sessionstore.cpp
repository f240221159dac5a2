#include "sessionstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QStandardPaths>

Q_LOGGING_CATEGORY(lcSession, "edgelens.app.session")

namespace edgelens {

namespace {

QString statusKey(GalleryItem::Status status)
{
    switch (status) {
    case GalleryItem::Status::Done:
        return QStringLiteral("done");
    case GalleryItem::Status::Failed:
        return QStringLiteral("failed");
    case GalleryItem::Status::Cancelled:
        return QStringLiteral("cancelled");
    case GalleryItem::Status::Queued:
    case GalleryItem::Status::Sending:
    case GalleryItem::Status::Processing:
        break;
    }
    return QStringLiteral("queued");
}

GalleryItem::Status statusFromKey(const QString &key)
{
    if (key == QLatin1String("done"))
        return GalleryItem::Status::Done;
    if (key == QLatin1String("failed"))
        return GalleryItem::Status::Failed;
    if (key == QLatin1String("cancelled"))
        return GalleryItem::Status::Cancelled;
    return GalleryItem::Status::Queued;
}

} // namespace

QString SessionStore::defaultPath()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return dir.isEmpty() ? QString() : QDir(dir).filePath(QStringLiteral("session.json"));
}

QJsonObject SessionStore::toJson(const QList<GalleryItem> &items, const VideoSamplings &videos)
{
    QJsonArray array;
    for (const GalleryItem &it : items) {
        QJsonObject o{
            {QStringLiteral("path"), it.path},
            {QStringLiteral("status"), statusKey(it.status)},
        };
        if (!it.error.isEmpty() && it.status != GalleryItem::Status::Done)
            o.insert(QStringLiteral("error"), it.error);
        // A frame's origin (video, frame_index, timestamp_ms...: the sidecar's keys, which no
        // key of the session uses), so a restored frame steps through its video and exports
        // its place in it.
        it.origin.writeTo(o);
        if (!it.group.isEmpty()) {
            o.insert(QStringLiteral("group"), it.group);
            o.insert(QStringLiteral("group_order"), it.groupOrder);
        }
        if (it.status == GalleryItem::Status::Done) {
            o.insert(QStringLiteral("result_path"), it.resultPath);
            if (!it.sidecarPath.isEmpty())
                o.insert(QStringLiteral("sidecar_path"), it.sidecarPath);
            if (!it.device.isEmpty())
                o.insert(QStringLiteral("device"), it.device);
            o.insert(QStringLiteral("has_detection_data"), it.hasDetectionData);
            o.insert(QStringLiteral("result"), edgelens::toJson(it.result));
            if (it.hasDetectionData) {
                QJsonObject annotation;
                sidecar::writeAnnotation(annotation, it.result, it.annotation);
                o.insert(QStringLiteral("annotation"), annotation);
            }
            if (it.resultsOnly)
                o.insert(QStringLiteral("results_only"), true);
            if (it.finished.isValid())
                o.insert(QStringLiteral("finished"), it.finished.toString(Qt::ISODateWithMs));
        }
        array.append(o);
    }
    QJsonObject session{{QStringLiteral("version"), kVersion}, {QStringLiteral("items"), array}};
    // A key of its own, not a new version: an older EdgeLens reads the items and ignores it.
    if (!videos.isEmpty()) {
        QJsonArray sampling;
        for (const VideoSampling &video : videos) {
            sampling.append(QJsonObject{{QStringLiteral("path"), video.path},
                                        {QStringLiteral("rule"), video.rule.toJson()},
                                        {QStringLiteral("resume_after_index"), video.resumeAfterIndex},
                                        {QStringLiteral("bytes"), video.bytes},
                                        {QStringLiteral("modified_ms"), video.modifiedMs}});
        }
        session.insert(QStringLiteral("videos_sampling"), sampling);
    }
    return session;
}

QList<GalleryItem> SessionStore::fromJson(const QJsonObject &object, int *dropped, QString *error,
                                          VideoSamplings *videos)
{
    QList<GalleryItem> items;
    int gone = 0;
    if (object.value(QStringLiteral("version")).toInt() != kVersion) {
        if (error)
            *error = QStringLiteral("unsupported session version %1").arg(object.value(QStringLiteral("version")).toInt());
        return items;
    }
    const QJsonArray array = object.value(QStringLiteral("items")).toArray();
    items.reserve(array.size());
    for (const QJsonValue &v : array) {
        const QJsonObject o = v.toObject();
        const QString path = o.value(QStringLiteral("path")).toString();
        const QFileInfo info(path);
        if (path.isEmpty() || !info.isFile()) {
            ++gone;
            continue;
        }
        GalleryItem it;
        it.path = path;
        it.fileName = info.fileName();
        it.fileSize = info.size();
        it.modified = info.lastModified();
        it.status = statusFromKey(o.value(QStringLiteral("status")).toString());
        it.error = o.value(QStringLiteral("error")).toString();
        it.origin = ImageOrigin::fromJson(o);
        it.group = o.value(QStringLiteral("group")).toString();
        it.groupOrder = o.value(QStringLiteral("group_order")).toInteger(-1);
        if (it.status == GalleryItem::Status::Done) {
            it.resultPath = o.value(QStringLiteral("result_path")).toString();
            it.sidecarPath = o.value(QStringLiteral("sidecar_path")).toString();
            it.device = o.value(QStringLiteral("device")).toString();
            it.hasDetectionData = o.value(QStringLiteral("has_detection_data")).toBool();
            it.result = detectionResultFromJson(o.value(QStringLiteral("result")).toObject());
            it.finished = QDateTime::fromString(o.value(QStringLiteral("finished")).toString(), Qt::ISODateWithMs);
            it.resultsOnly = o.value(QStringLiteral("results_only")).toBool();
            const QJsonValue annotation = o.value(QStringLiteral("annotation"));
            if (annotation.isObject()) {
                DetectionResult model;
                sidecar::readAnnotation(annotation.toObject(), &model, &it.annotation);
            } else {
                // A session from before corrections existed: what the model said, all of it.
                it.annotation = Annotation::fromModel(it.result, 0.0);
            }
            it.refreshLabels();
        }
        items.append(std::move(it));
    }
    const QJsonArray sampling = object.value(QStringLiteral("videos_sampling")).toArray();
    for (const QJsonValue &v : sampling) {
        const QJsonObject o = v.toObject();
        VideoSampling video;
        video.path = o.value(QStringLiteral("path")).toString();
        video.rule = SamplingRule::fromJson(o.value(QStringLiteral("rule")).toObject());
        video.resumeAfterIndex = o.value(QStringLiteral("resume_after_index")).toInteger(-1);
        video.bytes = o.value(QStringLiteral("bytes")).toInteger(-1);
        video.modifiedMs = o.value(QStringLiteral("modified_ms")).toInteger(-1);
        const QFileInfo file(video.path);
        QString why;
        if (video.path.isEmpty() || !file.isFile())
            why = QStringLiteral("the file is gone");
        else if (file.size() != video.bytes || file.lastModified().toMSecsSinceEpoch() != video.modifiedMs)
            why = QStringLiteral("the file changed since");
        else if (!video.rule.isValid(&why))
            why = QStringLiteral("its sampling rule is not valid: ") + why;
        if (!why.isEmpty()) {
            qCWarning(lcSession).noquote() << video.path << "is not sampled further:" << why;
            continue;
        }
        if (videos)
            videos->append(video);
    }
    if (dropped)
        *dropped = gone;
    return items;
}

bool SessionStore::save(const QList<GalleryItem> &items, const QString &path, QString *error,
                        const VideoSamplings &videos)
{
    if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
        if (error)
            *error = QStringLiteral("%1: cannot create the folder").arg(QFileInfo(path).absolutePath());
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    const QByteArray bytes = QJsonDocument(toJson(items, videos)).toJson(QJsonDocument::Compact);
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QList<GalleryItem> SessionStore::load(const QString &path, int *dropped, QString *error, VideoSamplings *videos)
{
    QFile file(path);
    if (!file.exists())
        return {};
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return {};
    }
    if (file.size() > kMaxFileBytes) {
        if (error)
            *error = QStringLiteral("%1: too large to be a session (%2 MB)").arg(path).arg(file.size() >> 20);
        return {};
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!doc.isObject()) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, parseError.errorString());
        return {};
    }
    return fromJson(doc.object(), dropped, error, videos);
}

} // namespace edgelens
