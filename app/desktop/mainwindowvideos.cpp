// MainWindow's videos: each dropped video is asked its sampling rule (one dialog at a time,
// or one rule for the rest), then sampled by the queue into a gallery group whose summary
// follows the queue's signals.

#include "mainwindow.h"

#include "galleryfilterproxy.h"
#include "inputs/videofilesource.h"
#include "mainwindowparts.h"
#include "processingqueue.h"
#include "statuspresenter.h"
#include "targetcontroller.h"
#include "widgets/videosamplingdialog.h"

#include <QFileInfo>
#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

namespace edgelens {

void MainWindow::connectVideos()
{
    ProcessingQueue *queue = m_parts->queue();
    connect(queue, &ProcessingQueue::videoStarted, this, [this](const QString &video, qint64 estimated) {
        m_proxy->setGroupInfo(video, estimated, m_proxy->groupSummary(video).note);
        m_parts->status()->showMessage(estimated >= 0 ? tr("Sampling %1: about %n frame(s).", nullptr, int(estimated))
                                                            .arg(QFileInfo(video).fileName())
                                                      : tr("Sampling %1.").arg(QFileInfo(video).fileName()),
                                       6000);
    });
    connect(queue, &ProcessingQueue::videoVariableFrameRate, this, [this](const QString &video) {
        m_proxy->setGroupInfo(video, m_proxy->groupSummary(video).expected, GalleryFilterProxy::variableFrameRateNote());
    });
    connect(queue, &ProcessingQueue::videoFinished, this,
            [this](const QString &video, qint64 kept, const QString &error) {
                // Now the count is known, not estimated.
                m_proxy->setGroupInfo(video, kept, m_proxy->groupSummary(video).note);
                if (!error.isEmpty())
                    m_parts->status()->showError(tr("%1: %2 (the %n frame(s) before are kept)", nullptr, int(kept))
                                                     .arg(QFileInfo(video).fileName(), error));
                checkAllDone();
            });
}

void MainWindow::queueVideos(const QStringList &canonicalPaths)
{
    m_pendingVideos += canonicalPaths;
    askNextVideo();
}

void MainWindow::askNextVideo()
{
    while (!m_askingVideo && !m_pendingVideos.isEmpty()) {
        const QString path = m_pendingVideos.takeFirst();
        if (m_ruleForRemaining) {
            startVideo(path, *m_ruleForRemaining);
            continue;
        }
        m_askingVideo = true;
        struct Probe
        {
            bool ok = false;
            SourceProperties properties;
            QString error;
        };
        // Opening a container reads its header, and a network share may take a while.
        auto *watcher = new QFutureWatcher<Probe>(this);
        connect(watcher, &QFutureWatcher<Probe>::finished, this, [this, watcher, path] {
            watcher->deleteLater();
            const Probe probe = watcher->result();
            if (!probe.ok) {
                m_parts->status()->showError(tr("Cannot read %1 as a video: %2").arg(QFileInfo(path).fileName(), probe.error));
                m_askingVideo = false;
                askNextVideo();
                checkAllDone();
                return;
            }
            auto *dialog = new VideoSamplingDialog(path, probe.properties, SamplingRule(), int(m_pendingVideos.size()), this);
            dialog->setAttribute(Qt::WA_DeleteOnClose);
            connect(dialog, &QDialog::finished, this, [this, dialog, path](int result) {
                if (result == QDialog::Accepted) {
                    if (dialog->applyToRemaining())
                        m_ruleForRemaining = dialog->rule();
                    startVideo(path, dialog->rule());
                }
                m_askingVideo = false;
                askNextVideo();
                checkAllDone();
            });
            dialog->open();
        });
        watcher->setFuture(QtConcurrent::run([path] {
            Probe probe;
            probe.ok = VideoFileSource::probe(path, &probe.properties, &probe.error);
            return probe;
        }));
    }
    if (m_pendingVideos.isEmpty() && !m_askingVideo)
        m_ruleForRemaining.reset(); // a later drop is asked again
}

void MainWindow::startVideo(const QString &path, const SamplingRule &rule, qint64 resumeAfterIndex)
{
    m_parts->status()->clearLastError();
    m_parts->target()->ensureReady();
    QString error;
    if (!m_parts->queue()->enqueueVideo(path, rule, &error, resumeAfterIndex))
        m_parts->status()->showError(tr("Cannot sample %1: %2").arg(QFileInfo(path).fileName(), error));
    updateActions();
}

} // namespace edgelens
