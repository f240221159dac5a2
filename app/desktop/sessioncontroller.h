#pragma once

// Keeps the gallery between runs: restores it from the session file in the background at
// start, saves it (again in the background) a few seconds after each change, and once more,
// synchronously, on quit. SessionStore knows the file format; this class knows when.

#include "videosampling.h"

#include <QFuture>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

class QTimer;

namespace edgelens {

class GalleryModel;

class SessionController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionController)

public:
    // file: the session file; empty keeps nothing (tests, --no-session).
    SessionController(GalleryModel *model, const QString &file, QObject *parent = nullptr);
    ~SessionController() override; // waits for a save in progress

    // Adds the stored images to the model, in the background; restored() follows. Until then
    // nothing is saved: the file is the truth.
    void restore();
    bool isRestored() const { return m_restored; } // true at once without a session file
    void saveNow();
    // Where each save learns which videos are still being sampled (the queue); without it
    // none are kept.
    void setVideosInProgress(std::function<VideoSamplings()> videos) { m_videos = std::move(videos); }
    // Saves one last time and detaches from the file, so what happens while the window
    // closes (cancelling images on their way) does not reach it.
    void finish();

signals:
    // queuedAgain: images that were waiting or in flight last time; videos: videos whose
    // sampling had not finished, to continue; message: for the status bar (empty when there
    // is nothing worth saying).
    void restored(const QStringList &queuedAgain, const edgelens::VideoSamplings &videos, const QString &message);

private:
    void scheduleSave();
    void saveInBackground();

    VideoSamplings videosInProgress() const;

    GalleryModel *m_model;
    std::function<VideoSamplings()> m_videos;
    QString m_file;
    QTimer *m_timer = nullptr;
    QFuture<bool> m_save;
    bool m_restored = false;
};

} // namespace edgelens
