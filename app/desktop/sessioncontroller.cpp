#include "sessioncontroller.h"

#include "gallerymodel.h"
#include "sessionstore.h"

#include <QCoreApplication>
#include <QFutureWatcher>
#include <QLoggingCategory>
#include <QPair>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

Q_LOGGING_CATEGORY(lcSessionController, "edgelens.app.sessioncontroller")

namespace edgelens {

namespace {
using Loaded = QPair<QList<GalleryItem>, QString>;
}

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
        const auto [items, message] = watcher->result();
        const QList<int> rows = m_model->addItems(items);
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
        emit restored(again, message);
    });
    watcher->setFuture(QtConcurrent::run([path] {
        int dropped = 0;
        QString error;
        const QList<GalleryItem> items = SessionStore::load(path, &dropped, &error);
        QString message;
        if (!error.isEmpty()) {
            qCWarning(lcSessionController) << "previous session not restored:" << error;
            message = SessionController::tr("The previous session could not be restored: %1").arg(error);
        } else if (!items.isEmpty()) {
            message = SessionController::tr("Restored %n image(s) from the last session.", nullptr, int(items.size()));
            if (dropped > 0)
                message += QLatin1Char(' ') + SessionController::tr("%n image(s) no longer exist and were left out.", nullptr, dropped);
        }
        return qMakePair(items, message);
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
    const QString path = m_file;
    m_save = QtConcurrent::run([items, path] {
        QString error;
        const bool ok = SessionStore::save(items, path, &error);
        if (!ok)
            qCWarning(lcSessionController) << "cannot save the session:" << error;
        return ok;
    });
}

void SessionController::saveNow()
{
    if (m_file.isEmpty() || !m_restored)
        return;
    m_timer->stop();
    m_save.waitForFinished();
    QString error;
    if (!SessionStore::save(m_model->items(), m_file, &error))
        qCWarning(lcSessionController) << "cannot save the session:" << error;
}

void SessionController::finish()
{
    saveNow();
    m_timer->stop();
    m_file.clear();
}

} // namespace edgelens
