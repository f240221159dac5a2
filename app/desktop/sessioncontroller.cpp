#include "sessioncontroller.h"

#include "gallerymodel.h"
#include "sessionstore.h"

#include <QCoreApplication>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

Q_LOGGING_CATEGORY(lcSessionController, "edgelens.app.sessioncontroller")

namespace edgelens {

namespace {
struct Loaded
{
    QList<GalleryItem> items;
    VideoSamplings videos;
    QString message;
};
} // namespace

SessionController::SessionController(GalleryModel *model, const QString &file, QObject *parent)
    : QObject(parent)
    , m_model(model)
    , m_file(file)
{
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    m_timer->setInterval(3000);
    connect(m_timer, &QTimer::timeout, this, &SessionController::saveInBackground);
}

SessionController::~SessionController()
{
    m_save.waitForFinished();
}

void SessionController::restore()
{
    if (m_file.isEmpty()) {
        m_restored = true;
        return;
    }
    const QString path = m_file;
    auto *watcher = new QFutureWatcher<Loaded>(this);
    connect(watcher, &QFutureWatcher<Loaded>::finished, this, [this, watcher] {
        watcher->deleteLater();
        const Loaded loaded = watcher->result();
        const QList<int> rows = m_model->addItems(loaded.items);
        QStringList again;
        for (int row : rows) {
            if (m_model->item(row).status == GalleryItem::Status::Queued)
                again.append(m_model->item(row).path);
        }
        m_restored = true;
        connect(m_model, &GalleryModel::statusCountsChanged, this, &SessionController::scheduleSave);
        connect(m_model, &GalleryModel::annotationChanged, this, &SessionController::scheduleSave);
        connect(m_model, &QAbstractItemModel::rowsRemoved, this, &SessionController::scheduleSave);
        connect(m_model, &QAbstractItemModel::modelReset, this, &SessionController::scheduleSave);
        emit restored(again, loaded.videos, loaded.message);
    });
    watcher->setFuture(QtConcurrent::run([path] {
        int dropped = 0;
        QString error;
        Loaded loaded;
        loaded.items = SessionStore::load(path, &dropped, &error, &loaded.videos);
        if (!error.isEmpty()) {
            qCWarning(lcSessionController) << "previous session not restored:" << error;
            loaded.message = SessionController::tr("The previous session could not be restored: %1").arg(error);
            return loaded;
        }
        QStringList parts;
        if (!loaded.items.isEmpty())
            parts << SessionController::tr("Restored %n image(s) from the last session.", nullptr, int(loaded.items.size()));
        if (dropped > 0)
            parts << SessionController::tr("%n image(s) no longer exist and were left out.", nullptr, dropped);
        if (!loaded.videos.isEmpty())
            parts << SessionController::tr("Sampling of %n video(s) goes on after the last frame it reached.", nullptr,
                                           int(loaded.videos.size()));
        loaded.message = parts.join(QLatin1Char(' '));
        return loaded;
    }));
}

void SessionController::scheduleSave()
{
    if (!m_file.isEmpty() && m_restored)
        m_timer->start();
}

void SessionController::saveInBackground()
{
    if (m_file.isEmpty())
        return;
    if (m_save.isRunning()) {
        m_timer->start(); // one writer at a time; try again shortly
        return;
    }
    const QList<GalleryItem> items = m_model->items();
    const VideoSamplings videos = videosInProgress();
    const QString path = m_file;
    m_save = QtConcurrent::run([items, videos, path] {
        QString error;
        const bool ok = SessionStore::save(items, path, &error, videos);
        if (!ok)
            qCWarning(lcSessionController) << "cannot save the session:" << error;
        return ok;
    });
}

VideoSamplings SessionController::videosInProgress() const
{
    return m_videos ? m_videos() : VideoSamplings();
}

void SessionController::saveNow()
{
    if (m_file.isEmpty() || !m_restored)
        return;
    m_timer->stop();
    m_save.waitForFinished();
    QString error;
    if (!SessionStore::save(m_model->items(), m_file, &error, videosInProgress()))
        qCWarning(lcSessionController) << "cannot save the session:" << error;
}

void SessionController::finish()
{
    saveNow();
    m_timer->stop();
    m_file.clear();
}

} // namespace edgelens
