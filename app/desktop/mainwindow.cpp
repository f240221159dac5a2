#include "mainwindow.h"

#include "annotationsaver.h"
#include "client/detectionclient.h"
#include "models/modelcatalog.h"
#include "detailcontroller.h"
#include "embeddedserver.h"
#include "exportcontroller.h"
#include "gallerydelegate.h"
#include "galleryfilterbar.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "imagecollector.h"
#include "live/livewindow.h"
#include "mainwindowparts.h"
#include "processingqueue.h"
#include "resultsfolder.h"
#include "sessioncontroller.h"
#include "statuspresenter.h"
#include "targetcontroller.h"
#include "thumbnailcache.h"
#include "trustprompter.h"
#include "widgets/aboutdialog.h"
#include "widgets/detailview.h"
#include "widgets/icons.h"
#include "widgets/settingsdialog.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QIcon>
#include <QItemSelectionModel>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QScreen>
#include <QSettings>
#include <QShowEvent>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>
#include <QWindow>
#include <QtConcurrent/QtConcurrentRun>

#include <utility>


Q_LOGGING_CATEGORY(lcMainWindow, "edgelens.app.mainwindow")

namespace edgelens {

namespace {

const QSize kBaseThumb(160, 120);
constexpr int kMinZoom = -2;
constexpr int kMaxZoom = 4;


} // namespace

MainWindow::MainWindow(const AppSettings &settings, const AppOptions &options, QWidget *parent)
    : QMainWindow(parent)
    , m_settings(settings)
    , m_options(options)
{
    setWindowTitle(tr("EdgeLens"));
    setAcceptDrops(true);

    createGallery();
    m_parts = std::make_unique<MainWindowParts>(
        MainWindowParts::Gallery{m_model, m_proxy, m_view, m_thumbnails, statusBar(), this}, m_options.sessionFile);

    createActions();
    createMenus();
    createToolBar();
    connectGallery();
    connectParts();

    applySettings(m_settings);
    restoreWindowState();
    updateProgress();
    updateEmptyText();

    m_parts->session()->restore();

    // Asked for explicitly (the README's main command does): have the model loaded and the
    // server listening before the first drop, so the status bar says it is ready.
    if (m_options.embedded)
        m_parts->target()->ensureReady();

    if (!m_options.images.isEmpty()) {
        m_quitWhenDoneArmed = m_options.quitWhenDone;
        addPaths(m_options.images);
    }
    if (!m_options.live.isEmpty())
        QMetaObject::invokeMethod(this, &MainWindow::openLiveFromOptions, Qt::QueuedConnection);
}

MainWindow::~MainWindow()
{
    // The live view sends through the parts' client: it goes (stopping its capture thread)
    // while the client still exists, not later with the window's other children.
    delete m_live.data();
    // The window's own members go next: nothing said meanwhile may reach its handlers. The
    // parts then go in reverse dependency order (MainWindowParts), the gallery widgets after
    // them with the window's children.
    m_parts->disconnectFrom(this);
    const QObject *gallery[] = {m_model, m_proxy, m_thumbnails, m_view, m_view->selectionModel(), m_filterBar};
    for (const QObject *sender : gallery)
        disconnect(sender, nullptr, this, nullptr);
}

void MainWindow::createGallery()
{
    m_model = new GalleryModel(this);
    m_proxy = new GalleryFilterProxy(this);
    m_proxy->setSourceModel(m_model);
    m_thumbnails = new ThumbnailCache(this);
    m_delegate = new GalleryDelegate(m_thumbnails, this);
    m_view = new GalleryView(this);
    m_view->setModel(m_proxy);
    m_view->setItemDelegate(m_delegate);
    setCentralWidget(m_view);
    zoomThumbnails(0);
}

void MainWindow::connectGallery()
{
    connect(m_thumbnails, &ThumbnailCache::thumbnailReady, m_view->viewport(), qOverload<>(&QWidget::update));
    connect(m_view, &QAbstractItemView::activated, m_parts->details(), &DetailController::show);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, &MainWindow::showContextMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::updateActions);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateEmptyText);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateEmptyText);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateEmptyText);
    connect(m_filterBar, &GalleryFilterBar::filterChanged, this, &MainWindow::updateEmptyText);
    connect(m_model, &GalleryModel::statusCountsChanged, this, &MainWindow::updateActions);
    connect(m_delegate, &GalleryDelegate::groupToggleRequested, m_proxy,
            [this](const QString &group) { m_proxy->setGroupCollapsed(group, !m_proxy->isGroupCollapsed(group)); });
}

void MainWindow::connectParts()
{
    const MainWindowParts &p = *m_parts;
    connect(p.collector(), &ImageCollector::imagesFound, this, [this](const QList<GalleryModel::NewImage> &images) {
        const QList<int> rows = m_model->addImages(images);
        QStringList paths;
        paths.reserve(rows.size());
        for (int row : rows)
            paths.append(m_model->item(row).path);
        enqueueNew(paths);
    });
    connect(p.collector(), &ImageCollector::finished, this, &MainWindow::handleCollectFinished);
    connect(p.collector(), &ImageCollector::videosFound, this, &MainWindow::queueVideos);
    connectVideos();

    connect(p.queue(), &ProcessingQueue::progressChanged, this, &MainWindow::updateProgress);
    connect(p.queue(), &ProcessingQueue::idle, this, &MainWindow::checkAllDone);
    connect(p.queue(), &ProcessingQueue::outputError, p.status(), &StatusPresenter::showError);
    connect(p.queue(), &ProcessingQueue::itemFinished, this, &MainWindow::handleItemFinished);
    connect(p.status(), &StatusPresenter::windowTitleChanged, this, &QWidget::setWindowTitle);
    connect(p.status(), &StatusPresenter::refreshed, this, &MainWindow::updateActions);
    connect(p.exporter(), &ExportController::statusMessage, p.status(), &StatusPresenter::showMessage);
    connect(p.session(), &SessionController::restored, this, &MainWindow::handleSessionRestored);
    p.session()->setVideosInProgress([queue = p.queue()] { return queue->videosInProgress(); });
    connect(p.details(), &DetailController::message, this, [this](const QString &text) { m_parts->status()->showMessage(text, 6000); });
    connect(p.annotations(), &AnnotationSaver::failed, p.status(), &StatusPresenter::showError);
    connect(p.annotations(), &AnnotationSaver::saved, this, [this](const QString &path, const QString &resultPath) {
        // The marked-up image was redrawn from the corrections.
        if (!resultPath.isEmpty())
            m_thumbnails->invalidate(resultPath);
        m_view->viewport()->update();
        if (DetailView *detail = m_parts->details()->view(); detail && detail->originalPath() == path)
            detail->reloadResultImage();
    });
    connect(p.client(), &DetectionClient::serverInfoReceived, this,
            [this](quint64, const QJsonObject &info, double, const QString &device) {
                learnModelDefaults(info);
                m_lastServerInfo = {info, m_model->deviceDisplayName(device)};
            });
}

bool MainWindow::isSessionRestored() const
{
    return m_parts->session()->isRestored();
}

void MainWindow::saveSession()
{
    m_parts->session()->saveNow();
}

void MainWindow::handleSessionRestored(const QStringList &queuedAgain, const VideoSamplings &videos,
                                       const QString &message)
{
    enqueueNew(queuedAgain);
    for (const VideoSampling &video : videos)
        startVideo(video.path, video.rule, video.resumeAfterIndex);
    if (!message.isEmpty())
        m_parts->status()->showMessage(message, 8000);
    updateEmptyText();
    checkAllDone();
}

void MainWindow::enqueueNew(const QStringList &paths)
{
    if (paths.isEmpty())
        return;
    m_parts->target()->ensureReady();
    m_parts->queue()->enqueue(paths);
}

void MainWindow::handleItemFinished(const QString &path, bool ok)
{
    const int row = m_model->rowOfPath(path);
    if (row < 0)
        return;
    const GalleryItem &it = m_model->item(row);
    if (ok) {
        // "Process Again" writes the same result file: the old thumbnail is stale now.
        if (!it.resultPath.isEmpty())
            m_thumbnails->invalidate(it.resultPath);
    } else {
        m_parts->status()->setLastFailure(it.fileName, it.error);
    }
    m_parts->details()->refresh(path);
}

void MainWindow::restoreWindowState()
{
    QSettings s;
    s.beginGroup(QStringLiteral("MainWindow"));
    if (!restoreGeometry(s.value(QStringLiteral("geometry")).toByteArray())) {
        const QRect avail = screen() ? screen()->availableGeometry() : QRect(0, 0, 1280, 800);
        resize(avail.size() * 0.8);
    }
    restoreState(s.value(QStringLiteral("state")).toByteArray());
    m_thumbStep = qBound(kMinZoom, s.value(QStringLiteral("zoom"), 0).toInt(), kMaxZoom);
    zoomThumbnails(0);
    m_filterBar->setSortIndex(s.value(QStringLiteral("sort"), 0).toInt());
    m_filterBar->setDescending(s.value(QStringLiteral("descending"), false).toBool());
    s.endGroup();
}

void MainWindow::saveWindowState() const
{
    QSettings s;
    s.beginGroup(QStringLiteral("MainWindow"));
    s.setValue(QStringLiteral("geometry"), saveGeometry());
    s.setValue(QStringLiteral("state"), saveState());
    s.setValue(QStringLiteral("zoom"), m_thumbStep);
    s.setValue(QStringLiteral("sort"), m_filterBar->sortIndex());
    s.setValue(QStringLiteral("descending"), m_filterBar->isDescending());
    s.endGroup();
}

void MainWindow::applySettings(const AppSettings &settings)
{
    m_settings = settings;
    applyThresholdPolicy();
    m_parts->target()->apply(m_settings);
    m_parts->annotations()->setOutput({m_settings.jsonSidecars, m_settings.resultMaxSide, m_settings.jpegQuality});
}

void MainWindow::applyThresholdPolicy()
{
    // The threshold a result is shown and saved at: the user's, else the answering model's
    // recommendation (its manifest, as the server reports it or as installed here).
    ThresholdPolicy policy;
    policy.userThreshold = m_settings.confidence;
    for (const ModelManifest &m : ModelCatalog().all())
        policy.modelDefaults.insert(m.name, m.defaultConfidence);
    for (auto it = m_serverModelDefaults.cbegin(); it != m_serverModelDefaults.cend(); ++it)
        policy.modelDefaults.insert(it.key(), it.value());
    m_model->setThresholdPolicy(policy);
    m_parts->queue()->resultSaver().setThresholdPolicy(policy);
}

void MainWindow::learnModelDefaults(const QJsonObject &serverInfo)
{
    const QJsonArray models = serverInfo.value(QStringLiteral("models")).toArray();
    bool changed = false;
    for (const QJsonValue &v : models) {
        const QJsonObject m = v.toObject();
        const QString name = m.value(QStringLiteral("name")).toString();
        const QJsonValue confidence = m.value(QStringLiteral("default_confidence"));
        if (name.isEmpty() || !confidence.isDouble())
            continue;
        changed = changed || m_serverModelDefaults.value(name, -1) != confidence.toDouble();
        m_serverModelDefaults.insert(name, confidence.toDouble());
    }
    if (changed)
        applyThresholdPolicy();
}

void MainWindow::openResults(const QString &folder)
{
    m_parts->status()->showMessage(tr("Reading results in %1\u2026").arg(QDir::toNativeSeparators(folder)));
    auto *watcher = new QFutureWatcher<ResultsFolder::Scan>(this);
    connect(watcher, &QFutureWatcher<ResultsFolder::Scan>::finished, this, [this, watcher, folder] {
        watcher->deleteLater();
        const ResultsFolder::Scan scan = watcher->result();
        m_model->addItems(scan.items); // finished already: nothing is queued or sent
        QStringList parts;
        parts << tr("%n result(s) with detection data", nullptr, scan.pairs);
        if (scan.resultsOnly > 0)
            parts << tr("%n marked-up image(s) without detection data", nullptr, scan.resultsOnly);
        if (!scan.movedOriginals.isEmpty())
            parts << tr("%n original(s) not found where the sidecar says", nullptr, int(scan.movedOriginals.size()));
        m_parts->status()->showMessage(tr("Opened %1: %2.").arg(QDir::toNativeSeparators(folder), parts.join(QStringLiteral(", "))),
                              10000);
        if (!scan.movedOriginals.isEmpty()) {
            qCWarning(lcMainWindow) << "originals not found:" << scan.movedOriginals;
            m_parts->status()->showError(tr("Originals not found (moved or deleted): %1")
                                    .arg(scan.movedOriginals.mid(0, 5).join(QStringLiteral("; "))));
        }
        updateActions();
        updateEmptyText();
        emit resultsOpened(scan.pairs, scan.resultsOnly, scan.movedOriginals);
    });
    watcher->setFuture(QtConcurrent::run(&ResultsFolder::scan, folder));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_parts->queue()->isBusy() && !m_quitWhenDoneArmed && !m_quitConfirmed && isVisible()) {
        const int left = m_parts->queue()->batchTotal() - m_parts->queue()->batchFinished();
        const auto answer = QMessageBox::question(this, tr("Quit EdgeLens"),
            tr("%n image(s) are still waiting or being processed. Results saved so far are kept.\n\nQuit anyway?", nullptr, left),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
    }
    m_quitConfirmed = true;
    // Corrections still being saved (each a redraw of a photo that may have 12 MP) finish on
    // their worker threads: the window closes when the saver is idle, and keeps answering
    // meanwhile instead of waiting for them here on the GUI thread.
    if (!m_parts->annotations()->isIdle()) {
        event->ignore();
        if (!std::exchange(m_closeWhenSaved, true)) {
            m_parts->status()->showMessage(tr("Saving corrections before quitting\u2026"), 0);
            connect(
                m_parts->annotations(), &AnnotationSaver::idle, this,
                [this] {
                    m_closeWhenSaved = false; // a save started meanwhile makes this close wait again
                    close();
                },
                Qt::ConnectionType(Qt::QueuedConnection | Qt::SingleShotConnection));
        }
        return;
    }
    saveWindowState();
    // Saved before cancelling, so images still on their way come back queued next time.
    m_parts->session()->finish(); // what cancel() does next must not reach the file
    m_parts->queue()->cancel();
    event->accept();
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    // A move to a screen with another scale factor changes how many pixels a thumbnail needs.
    if (QWindow *window = windowHandle(); window && !m_screenHooked) {
        m_screenHooked = true;
        connect(window, &QWindow::screenChanged, this, [this] { zoomThumbnails(0); });
        zoomThumbnails(0);
    }
}

void MainWindow::resizeEvent(QResizeEvent *event)
{
    QMainWindow::resizeEvent(event);
    arrangeToolBars();
}

QList<int> MainWindow::selectedSourceRows() const
{
    QList<int> rows;
    const QModelIndexList selected = m_view->selectionModel()->selectedIndexes();
    rows.reserve(selected.size());
    for (const QModelIndex &index : selected)
        rows.append(m_proxy->sourceRowsOf(index)); // a collapsed video's cell: all its frames
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    return rows;
}

void MainWindow::removeSelected()
{
    const QList<int> rows = selectedSourceRows();
    // From the bottom up, in contiguous runs, so each removal leaves the remaining rows valid.
    for (int i = int(rows.size()) - 1; i >= 0;) {
        int j = i;
        while (j > 0 && rows.at(j - 1) == rows.at(j) - 1)
            --j;
        for (int k = j; k <= i; ++k)
            m_thumbnails->invalidate(m_model->item(rows.at(k)).path);
        m_model->removeRows(rows.at(j), i - j + 1);
        i = j - 1;
    }
    updateActions();
}

void MainWindow::clearGallery()
{
    if (m_model->rowCount() == 0)
        return;
    if (m_parts->queue()->isBusy()) {
        const auto answer = QMessageBox::question(this, tr("Clear Gallery"),
            tr("Processing is still running. Stop it and clear the gallery? Saved results stay on disk."));
        if (answer != QMessageBox::Yes)
            return;
        m_parts->queue()->cancel();
    }
    m_model->clear();
    m_thumbnails->clear();
    updateActions();
}

void MainWindow::startOrPause()
{
    if (m_parts->queue()->isBusy()) {
        if (m_parts->queue()->isPaused())
            m_parts->queue()->resume();
        else
            m_parts->queue()->pause();
    }
    updateActions();
    updateProgress();
}

void MainWindow::cancelProcessing()
{
    const int n = m_parts->queue()->cancel();
    m_parts->status()->showMessage(tr("%n image(s) cancelled; Retry Failed sends them again.", nullptr, n), 6000);
    updateActions();
}

void MainWindow::retryFailed()
{
    m_parts->status()->clearLastError();
    m_parts->target()->ensureReady();
    const int n = m_parts->queue()->retryFailed();
    m_parts->status()->showMessage(tr("%n image(s) queued again.", nullptr, n), 5000);
    updateActions();
}

void MainWindow::openSettings()
{
    SettingsDialog dialog(m_settings, this);
    dialog.showMeasuredTimes(m_lastServerInfo.first, m_lastServerInfo.second);
    if (dialog.exec() == QDialog::Accepted) {
        m_parts->trust()->addAnnouncedFingerprints(dialog.announcedFingerprints());
        changeSettings(dialog.settings());
    }
}

void MainWindow::changeSettings(const AppSettings &chosen)
{
    if (TargetController::targetDiffers(m_settings, chosen) && m_parts->queue()->isBusy()) {
        const int left = m_parts->queue()->batchTotal() - m_parts->queue()->batchFinished();
        const auto answer = QMessageBox::question(this, tr("Switch Target"),
            tr("%n image(s) are still being processed. Switch to the new target now? Images in flight are sent again "
               "to the new target; nothing is lost.", nullptr, left),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            // Keep everything but the target.
            AppSettings keep = chosen;
            keep.target = m_settings.target;
            keep.host = m_settings.host;
            keep.port = m_settings.port;
            keep.protocol = m_settings.protocol;
            keep.devices = m_settings.devices;
            keep.embeddedJoins = m_settings.embeddedJoins;
            keep.token = m_settings.token;
            keep.model = m_settings.model;
            applySettings(keep);
            keep.save();
            return;
        }
    }
    applySettings(chosen);
    chosen.save();
}

QList<int> MainWindow::exportRows() const
{
    // A multi-selection means "these"; a single selected item is usually just the last click.
    QList<int> rows = selectedSourceRows();
    if (rows.size() <= 1) {
        rows.clear();
        for (int r = 0; r < m_model->rowCount(); ++r)
            rows.append(r);
    }
    return rows;
}

bool MainWindow::exportDetectionsTo(const QString &format, const QString &target, QString *message)
{
    return m_parts->exporter()->exportDetectionsTo(exportRows(), format, target, message);
}

void MainWindow::openOutputFolder()
{
    QString dir = m_settings.outputDir;
    if (dir.isEmpty()) {
        const QList<int> rows = selectedSourceRows();
        const int row = rows.isEmpty() ? (m_model->rowCount() > 0 ? 0 : -1) : rows.first();
        if (row >= 0)
            dir = m_parts->queue()->outputDirectoryFor(m_model->item(row).path);
    }
    if (dir.isEmpty() || !QFileInfo(dir).isDir()) {
        m_parts->status()->showMessage(tr("No results have been saved yet."), 5000);
        return;
    }
    QDesktopServices::openUrl(QUrl::fromLocalFile(dir));
}

void MainWindow::showAbout()
{
    AboutDialog about(this);
    about.exec();
}

void MainWindow::processSelectedAgain()
{
    QStringList paths;
    for (int row : selectedSourceRows()) {
        const GalleryItem &it = m_model->item(row);
        const bool onItsWay = it.status == GalleryItem::Status::Queued || it.status == GalleryItem::Status::Sending
            || it.status == GalleryItem::Status::Processing;
        // A marked-up image opened from a results folder is not an original to send.
        if (!onItsWay && !it.resultsOnly)
            paths << it.path;
    }
    if (paths.isEmpty())
        return;
    m_parts->status()->clearLastError();
    m_parts->target()->ensureReady();
    m_parts->queue()->enqueue(paths);
    m_parts->status()->showMessage(tr("%n image(s) queued again.", nullptr, int(paths.size())), 5000);
}

void MainWindow::zoomThumbnails(int step)
{
    m_thumbStep = qBound(kMinZoom, m_thumbStep + step, kMaxZoom);
    const double factor = 1.0 + 0.25 * m_thumbStep;
    const QSize logical = (QSizeF(kBaseThumb) * factor).toSize();
    m_delegate->setThumbnailSize(logical);
    const qreal dpr = devicePixelRatio();
    const QSize devicePixels = (QSizeF(logical) * dpr).toSize();
    m_thumbnails->setThumbnailSize(devicePixels);
    m_thumbnails->setMaxCostBytes(ThumbnailCache::defaultBudgetFor(devicePixels));
    m_view->setGridSize(m_delegate->sizeHint(QStyleOptionViewItem(), QModelIndex()) + QSize(8, 8));
    if (m_zoomInAction) {
        m_zoomInAction->setEnabled(m_thumbStep < kMaxZoom);
        m_zoomOutAction->setEnabled(m_thumbStep > kMinZoom);
    }
    m_view->doItemsLayout();
}

void MainWindow::updateProgress()
{
    m_parts->status()->updateProgress();
    updateActions();
}

QString MainWindow::statusText() const
{
    return m_parts->status()->stateText();
}

void MainWindow::updateEmptyText()
{
    if (m_model->rowCount() == 0)
        m_view->setEmptyText(tr("Drop images here"), tr("or use File \u25b8 Add Images\u2026 (Ctrl+O) / Add Folder\u2026 (Ctrl+Shift+O), or paste paths with Ctrl+V"));
    else
        m_view->setEmptyText(tr("No images match the filter"), tr("%n image(s) are hidden by the current filter.", nullptr, m_model->rowCount()));
}

void MainWindow::checkAllDone()
{
    updateProgress();
    m_parts->status()->updateConnectionStatus();
    if (m_parts->collector()->isBusy() || m_parts->queue()->isBusy() || m_askingVideo || !m_pendingVideos.isEmpty())
        return;
    emit allDone();
    if (m_quitWhenDoneArmed) {
        m_quitWhenDoneArmed = false;
        QTimer::singleShot(0, this, &QWidget::close);
    }
}

} // namespace edgelens
