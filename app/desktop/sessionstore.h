#pragma once

// The gallery survives a restart: the list of images, what came back for each and where it
// was saved, written as JSON to the app's data folder. Unfinished images come back queued,
// and videos still being sampled come back with their rule and the last frame the gallery
// got, so quitting in the middle of a batch loses nothing but time.

#include "galleryitem.h"
#include "videosampling.h"

#include <QJsonObject>
#include <QList>
#include <QString>

namespace edgelens {

class SessionStore final
{
public:
    static QString defaultPath(); // <AppDataLocation>/session.json

    // Pure functions of their arguments: safe on any thread.
    static QJsonObject toJson(const QList<GalleryItem> &items, const VideoSamplings &videos = {});
    // Items whose original no longer exists are dropped (counted in *dropped); items that
    // were on their way come back Queued. Unknown versions and broken files give an empty
    // list with *error set. *videos: the videos whose sampling had not finished and that
    // still exist.
    static QList<GalleryItem> fromJson(const QJsonObject &object, int *dropped = nullptr, QString *error = nullptr,
                                       VideoSamplings *videos = nullptr);

    static bool save(const QList<GalleryItem> &items, const QString &path, QString *error = nullptr,
                     const VideoSamplings &videos = {});
    static QList<GalleryItem> load(const QString &path, int *dropped = nullptr, QString *error = nullptr,
                                   VideoSamplings *videos = nullptr);

    static constexpr int kVersion = 1;
    static constexpr qint64 kMaxFileBytes = 512LL * 1024 * 1024;

private:
    SessionStore() = delete;
};

} // namespace edgelens
