#include "mainwindow.h"

#include "client/detectionclient.h"
#include "detector/modelcatalog.h"
#include "embeddedserver.h"
#include "export/exporters.h"
#include "gallerydelegate.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "imagecollector.h"
#include "processingqueue.h"
#include "sessionstore.h"
#include "thumbnailcache.h"
#include "widgets/aboutdialog.h"
#include "widgets/connectiontester.h"
#include "widgets/detailview.h"
#include "widgets/icons.h"
#include "widgets/settingsdialog.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QGuiApplication>
#include <QIcon>
#include <QItemSelectionModel>
#include <QJsonObject>
#include <QLabel>
#include <QLoggingCategory>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScreen>
#include <QShortcut>
#include <QShowEvent>
#include <QWindow>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>
#include <QtConcurrent/QtConcurrentRun>

Q_LOGGING_CATEGORY(lcMainWindow, "edgelens.app.mainwindow")

namespace edgelens {

namespace {

const QSize kBaseThumb(160, 120);
constexpr int kMinZoom = -2;
constexpr int kMaxZoom = 4;

QString formatDuration(qint64 ms)
{
    if (ms < 0)
        return QStringLiteral("–");
    const qint64 s = (ms + 999) / 1000;
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QIcon themedIcon(const char *themeName, const QString &resource, QStyle::StandardPixmap fallback)
{
    QIcon icon = QIcon::fromTheme(QLatin1String(themeName));
    if (!icon.isNull())
        return icon;
    if (!resource.isEmpty()) {
        icon = icons::icon(resource);
        if (!icon.isNull())
            return icon;
    }
    return QApplication::style()->standardIcon(fallback);
}

DetectionClient::Protocol toClientProtocol(AppSettings::Protocol p)
{
    switch (p) {
    case AppSettings::Protocol::V2:
        return DetectionClient::Protocol::V2;
    case AppSettings::Protocol::Legacy:
        return DetectionClient::Protocol::Legacy;
    case AppSettings::Protocol::Auto:
        break;
    }
    return DetectionClient::Protocol::Auto;
}

QStringList pathsFromMime(const QMimeData *mime)
{
    QStringList paths;
    if (!mime)
        return paths;
    if (mime->hasUrls()) {
        const QList<QUrl> urls = mime->urls();
        for (const QUrl &url : urls) {
            if (url.isLocalFile())
                paths.append(url.toLocalFile());
        }
        if (!paths.isEmpty())
            return paths;
    }
    if (mime->hasText()) {
        // A pasted list of paths: one per line, as file managers and terminals copy them.
        const QStringList lines = mime->text().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        for (QString line : lines) {
            line = line.trimmed();
            if (line.size() >= 2 && line.startsWith(QLatin1Char('"')) && line.endsWith(QLatin1Char('"')))
                line = line.mid(1, line.size() - 2);
            if (line.startsWith(QLatin1String("file:")))
                line = QUrl(line).toLocalFile();
            if (!line.isEmpty() && QFileInfo::exists(line))
                paths.append(line);
        }
    }
    return paths;
}

} // namespace

MainWindow::MainWindow(const AppSettings &settings, const AppOptions &options, QWidget *parent)
    : QMainWindow(parent)
    , m_settings(settings)
    , m_options(options)
{
    setWindowTitle(tr("EdgeLens"));
    setAcceptDrops(true);

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

    m_collector = new ImageCollector(this);
    m_client = new DetectionClient(this);
    m_queue = new ProcessingQueue(m_model, m_client, this);
    m_embedded = new EmbeddedServer(this);

    createActions();
    createMenus();
    createToolBar();
    createStatusBar();

    connect(m_thumbnails, &ThumbnailCache::thumbnailReady, m_view->viewport(), qOverload<>(&QWidget::update));
    connect(m_view, &QAbstractItemView::activated, this, &MainWindow::showDetail);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, &MainWindow::showContextMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::updateActions);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateEmptyText);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateEmptyText);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateEmptyText);

    connect(m_collector, &ImageCollector::imagesFound, this, [this](const QList<GalleryModel::NewImage> &images) {
        const QList<int> rows = m_model->addImages(images);
        QStringList paths;
        paths.reserve(rows.size());
        for (int row : rows)
            paths.append(m_model->item(row).path);
        if (!paths.isEmpty()) {
            ensureTarget();
            m_queue->enqueue(paths);
        }
    });
    connect(m_collector, &ImageCollector::finished, this, &MainWindow::handleCollectFinished);

    connect(m_model, &GalleryModel::statusCountsChanged, this, &MainWindow::updateActions);
    connect(m_model, &GalleryModel::labelsChanged, this, &MainWindow::updateLabelFilter);
    connect(m_queue, &ProcessingQueue::progressChanged, this, &MainWindow::updateProgress);
    connect(m_queue, &ProcessingQueue::idle, this, &MainWindow::checkAllDone);
    connect(m_queue, &ProcessingQueue::outputError, this, &MainWindow::showError);
    connect(m_queue, &ProcessingQueue::outageChanged, this, [this](bool lost, const QString &reason) {
        m_outage = lost ? reason : QString();
        if (lost)
            statusBar()->showMessage(tr("Lost the connection: %1 Waiting for it to come back; images stay queued.").arg(reason), 8000);
        else
            statusBar()->showMessage(tr("Connection is back; continuing."), 5000);
        updateConnectionStatus();
    });
    connect(m_queue, &ProcessingQueue::itemFinished, this, [this](const QString &path, bool ok) {
        if (ok) {
            // "Process Again" writes the same result file: the old thumbnail is stale now.
            const int row = m_model->rowOfPath(path);
            if (row >= 0 && !m_model->item(row).resultPath.isEmpty())
                m_thumbnails->invalidate(m_model->item(row).resultPath);
        }
        if (!ok) {
            const int row = m_model->rowOfPath(path);
            if (row >= 0)
                m_lastError = QStringLiteral("%1: %2").arg(m_model->item(row).fileName, m_model->item(row).error);
            updateConnectionStatus();
        }
        if (m_detail) {
            const int row = m_model->rowOfPath(path);
            // Keep an open detail view truthful when its image finishes in the background.
            if (row >= 0 && m_detail->property("edgelensPath").toString() == path) {
                const GalleryItem &it = m_model->item(row);
                m_detail->showItem(it.path, it.resultPath, it.result, it.hasDetectionData);
            }
        }
    });

    connect(m_client, &DetectionClient::connectionStateChanged, this, &MainWindow::updateConnectionStatus);
    connect(m_client, &DetectionClient::protocolDetected, this, [this](DetectionClient::Protocol p) {
        if (p == DetectionClient::Protocol::V2)
            m_client->requestServerInfo();
        updateConnectionStatus();
    });
    connect(m_client, &DetectionClient::serverInfoReceived, this, [this](quint64, const QJsonObject &info, double ms) {
        m_serverModel = ConnectionTester::describeServerInfo(info);
        m_latencyMs = ms;
        updateConnectionStatus();
    });
    connect(m_client, &DetectionClient::pongReceived, this, [this](quint64, double ms) {
        m_latencyMs = ms;
        updateConnectionStatus();
    });
    connect(m_client, &DetectionClient::requestRetrying, this, [this](quint64, int attempt, const QString &reason) {
        statusBar()->showMessage(tr("Connection problem, retrying (attempt %1): %2").arg(attempt).arg(reason), 5000);
    });

    connect(m_embedded, &EmbeddedServer::started, this, [this](quint16 port, const QString &model) {
        m_serverModel = model;
        m_client->setTarget(QStringLiteral("127.0.0.1"), port);
        m_client->setProtocol(DetectionClient::Protocol::V2);
        m_queue->setTargetReady(true);
        m_client->requestServerInfo();
        updateConnectionStatus();
    });
    connect(m_embedded, &EmbeddedServer::failed, this, [this](const QString &reason) {
        // Nothing may wait forever for a server that will not come: fail what is queued.
        m_queue->setTargetReady(false);
        const int failed = m_queue->failQueued(tr("embedded server could not start: %1").arg(reason));
        showError(tr("The embedded server could not start: %1").arg(reason));
        qCWarning(lcMainWindow) << "embedded server failed:" << reason << "-" << failed << "images failed";
        updateConnectionStatus();
    });
    connect(m_embedded, &EmbeddedServer::stateChanged, this, &MainWindow::updateConnectionStatus);

    // Latency and rate go stale when nothing happens; refresh them on a slow timer.
    m_statusTimer = new QTimer(this);
    m_statusTimer->setInterval(1000);
    connect(m_statusTimer, &QTimer::timeout, this, [this] {
        updateProgress();
        if (++m_statusTicks % 10 == 0 && m_client->activeProtocol() == DetectionClient::Protocol::V2
            && m_client->connectionState() == DetectionClient::ConnectionState::Connected && !m_queue->isBusy())
            m_client->ping();
    });
    m_statusTimer->start();

    applySettings(m_settings);
    restoreWindowState();
    updateActions();
    updateLabelFilter();
    updateEmptyText();

    m_sessionTimer = new QTimer(this);
    m_sessionTimer->setSingleShot(true);
    m_sessionTimer->setInterval(3000);
    connect(m_sessionTimer, &QTimer::timeout, this, [this] {
        if (m_sessionSave.isRunning()) {
            m_sessionTimer->start(); // one writer at a time; try again shortly
            return;
        }
        const QList<GalleryItem> items = m_model->items();
        const QString path = m_options.sessionFile;
        m_sessionSave = QtConcurrent::run([items, path] {
            QString error;
            const bool ok = SessionStore::save(items, path, &error);
            if (!ok)
                qCWarning(lcMainWindow) << "cannot save the session:" << error;
            return ok;
        });
    });
    restoreSession();

    if (!m_options.images.isEmpty()) {
        m_quitWhenDoneArmed = m_options.quitWhenDone;
        addPaths(m_options.images);
    }
}

void MainWindow::restoreSession()
{
    if (m_options.sessionFile.isEmpty()) {
        m_sessionRestored = true;
        return;
    }
    // Only changes after the restore are worth saving; until then the file is the truth.
    const QString path = m_options.sessionFile;
    auto *watcher = new QFutureWatcher<QPair<QList<GalleryItem>, QString>>(this);
    connect(watcher, &QFutureWatcher<QPair<QList<GalleryItem>, QString>>::finished, this, [this, watcher] {
        watcher->deleteLater();
        const auto [items, message] = watcher->result();
        const QList<int> rows = m_model->addItems(items);
        QStringList again;
        for (int row : rows) {
            if (m_model->item(row).status == GalleryItem::Status::Queued)
                again.append(m_model->item(row).path);
        }
        if (!again.isEmpty()) {
            ensureTarget();
            m_queue->enqueue(again);
        }
        m_sessionRestored = true;
        if (!message.isEmpty())
            statusBar()->showMessage(message, 8000);
        connect(m_model, &GalleryModel::statusCountsChanged, this, &MainWindow::scheduleSessionSave);
        connect(m_model, &QAbstractItemModel::rowsRemoved, this, &MainWindow::scheduleSessionSave);
        connect(m_model, &QAbstractItemModel::modelReset, this, &MainWindow::scheduleSessionSave);
        updateEmptyText();
        checkAllDone();
    });
    watcher->setFuture(QtConcurrent::run([path] {
        int dropped = 0;
        QString error;
        const QList<GalleryItem> items = SessionStore::load(path, &dropped, &error);
        QString message;
        if (!error.isEmpty()) {
            qCWarning(lcMainWindow) << "previous session not restored:" << error;
            message = MainWindow::tr("The previous session could not be restored: %1").arg(error);
        } else if (!items.isEmpty()) {
            message = MainWindow::tr("Restored %n image(s) from the last session.", nullptr, int(items.size()));
            if (dropped > 0)
                message += QLatin1Char(' ') + MainWindow::tr("%n image(s) no longer exist and were left out.", nullptr, dropped);
        }
        return qMakePair(items, message);
    }));
}

void MainWindow::scheduleSessionSave()
{
    if (!m_options.sessionFile.isEmpty() && m_sessionRestored)
        m_sessionTimer->start();
}

void MainWindow::saveSessionNow()
{
    if (m_options.sessionFile.isEmpty() || !m_sessionRestored)
        return;
    m_sessionTimer->stop();
    m_sessionSave.waitForFinished();
    QString error;
    if (!SessionStore::save(m_model->items(), m_options.sessionFile, &error))
        qCWarning(lcMainWindow) << "cannot save the session:" << error;
}

MainWindow::~MainWindow()
{
    // Children go in creation order, the model before the queue: nothing the client or the
    // collector still has to say may reach a half-destroyed window.
    disconnect(m_client, nullptr, nullptr, nullptr);
    disconnect(m_collector, nullptr, nullptr, nullptr);
    disconnect(m_model, nullptr, this, nullptr);
    m_sessionSave.waitForFinished();
    m_collector->cancel();
}

void MainWindow::createActions()
{
    m_addImagesAction = new QAction(themedIcon("document-open", QString(), QStyle::SP_DialogOpenButton), tr("Add &Images…"), this);
    m_addImagesAction->setShortcut(QKeySequence::Open);
    m_addImagesAction->setToolTip(tr("Add image files to the gallery (%1)").arg(QKeySequence(QKeySequence::Open).toString(QKeySequence::NativeText)));
    connect(m_addImagesAction, &QAction::triggered, this, &MainWindow::addImages);

    m_addFolderAction = new QAction(themedIcon("folder-open", QString(), QStyle::SP_DirOpenIcon), tr("Add &Folder…"), this);
    m_addFolderAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    m_addFolderAction->setToolTip(tr("Add every image in a folder and its subfolders (Ctrl+Shift+O)"));
    connect(m_addFolderAction, &QAction::triggered, this, &MainWindow::addFolder);

    m_exportCocoAction = new QAction(themedIcon("document-export", QStringLiteral("export"), QStyle::SP_DialogSaveButton),
                                     tr("Export Detections as &COCO JSON…"), this);
    m_exportCocoAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(m_exportCocoAction, &QAction::triggered, this, [this] { exportDetections(QStringLiteral("coco")); });
    m_exportYoloAction = new QAction(tr("Export Detections as &YOLO txt…"), this);
    m_exportYoloAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Y));
    connect(m_exportYoloAction, &QAction::triggered, this, [this] { exportDetections(QStringLiteral("yolo")); });
    m_exportVocAction = new QAction(tr("Export Detections as Pascal &VOC…"), this);
    m_exportVocAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V));
    connect(m_exportVocAction, &QAction::triggered, this, [this] { exportDetections(QStringLiteral("voc")); });
    m_copyImagesAction = new QAction(tr("Copy &Marked-up Images To…"), this);
    m_copyImagesAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    connect(m_copyImagesAction, &QAction::triggered, this, &MainWindow::copyMarkedUpImages);
    m_openOutputAction = new QAction(tr("Open &Output Folder"), this);
    m_openOutputAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    connect(m_openOutputAction, &QAction::triggered, this, &MainWindow::openOutputFolder);

    m_quitAction = new QAction(themedIcon("application-exit", QString(), QStyle::SP_DialogCloseButton), tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

    m_pasteAction = new QAction(themedIcon("edit-paste", QString(), QStyle::SP_FileIcon), tr("&Paste Image Paths"), this);
    m_pasteAction->setShortcut(QKeySequence::Paste);
    connect(m_pasteAction, &QAction::triggered, this, &MainWindow::pasteFromClipboard);
    m_selectAllAction = new QAction(tr("Select &All"), this);
    m_selectAllAction->setShortcut(QKeySequence::SelectAll);
    connect(m_selectAllAction, &QAction::triggered, m_view, &QAbstractItemView::selectAll);
    m_removeAction = new QAction(themedIcon("list-remove", QString(), QStyle::SP_TrashIcon), tr("&Remove from Gallery"), this);
    m_removeAction->setShortcut(QKeySequence::Delete);
    m_removeAction->setToolTip(tr("Remove the selected images from the gallery (files on disk are kept)"));
    connect(m_removeAction, &QAction::triggered, this, &MainWindow::removeSelected);
    m_clearAction = new QAction(tr("C&lear Gallery"), this);
    m_clearAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Delete));
    connect(m_clearAction, &QAction::triggered, this, &MainWindow::clearGallery);

    m_zoomInAction = new QAction(themedIcon("zoom-in", QStringLiteral("zoom-in"), QStyle::SP_ArrowUp), tr("&Larger Thumbnails"), this);
    m_zoomInAction->setShortcut(QKeySequence::ZoomIn);
    connect(m_zoomInAction, &QAction::triggered, this, [this] { zoomThumbnails(+1); });
    m_zoomOutAction = new QAction(themedIcon("zoom-out", QStringLiteral("zoom-out"), QStyle::SP_ArrowDown), tr("&Smaller Thumbnails"), this);
    m_zoomOutAction->setShortcut(QKeySequence::ZoomOut);
    connect(m_zoomOutAction, &QAction::triggered, this, [this] { zoomThumbnails(-1); });

    m_pauseIcon = themedIcon("media-playback-pause", QString(), QStyle::SP_MediaPause);
    m_resumeIcon = themedIcon("media-playback-start", QStringLiteral("run"), QStyle::SP_MediaPlay);
    m_startPauseAction = new QAction(this);
    m_startPauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    connect(m_startPauseAction, &QAction::triggered, this, &MainWindow::startOrPause);
    m_cancelAction = new QAction(themedIcon("process-stop", QStringLiteral("stop"), QStyle::SP_BrowserStop), tr("&Cancel"), this);
    m_cancelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_cancelAction->setToolTip(tr("Stop processing; unfinished images are marked cancelled (Ctrl+.)"));
    connect(m_cancelAction, &QAction::triggered, this, &MainWindow::cancelProcessing);
    m_retryAction = new QAction(themedIcon("view-refresh", QString(), QStyle::SP_BrowserReload), tr("&Retry Failed"), this);
    m_retryAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_retryAction->setToolTip(tr("Send failed and cancelled images again (Ctrl+R)"));
    connect(m_retryAction, &QAction::triggered, this, &MainWindow::retryFailed);
    m_settingsAction = new QAction(themedIcon("preferences-system", QStringLiteral("settings"), QStyle::SP_FileDialogDetailedView),
                                   tr("&Settings…"), this);
    m_settingsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    m_settingsAction->setMenuRole(QAction::PreferencesRole);
    m_settingsAction->setToolTip(tr("Target device, model, thresholds and output (Ctrl+,)"));
    connect(m_settingsAction, &QAction::triggered, this, &MainWindow::openSettings);
    m_aboutAction = new QAction(tr("&About EdgeLens"), this);
    m_aboutAction->setShortcut(QKeySequence::HelpContents);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);

    m_openAction = new QAction(tr("&Open"), this);
    m_openAction->setShortcut(QKeySequence(Qt::Key_Return));
    m_openAction->setShortcutContext(Qt::WidgetShortcut); // Enter in the gallery only
    connect(m_openAction, &QAction::triggered, this, [this] {
        if (m_view->currentIndex().isValid())
            showDetail(m_view->currentIndex());
    });
    m_processAgainAction = new QAction(tr("Process &Again"), this);
    m_processAgainAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_processAgainAction->setToolTip(tr("Send the selected images again, e.g. after changing the model or threshold"));
    connect(m_processAgainAction, &QAction::triggered, this, &MainWindow::processSelectedAgain);
    m_showResultAction = new QAction(tr("Show Result in &Folder"), this);
    connect(m_showResultAction, &QAction::triggered, this, [this] {
        const QList<int> rows = selectedSourceRows();
        if (rows.isEmpty())
            return;
        const GalleryItem &it = m_model->item(rows.first());
        const QString file = it.resultPath.isEmpty() ? it.path : it.resultPath;
        QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(file).absolutePath()));
    });
    m_copyPathAction = new QAction(tr("&Copy Path"), this);
    connect(m_copyPathAction, &QAction::triggered, this, [this] {
        QStringList paths;
        for (int row : selectedSourceRows())
            paths << QDir::toNativeSeparators(m_model->item(row).path);
        QGuiApplication::clipboard()->setText(paths.join(QLatin1Char('\n')));
    });

    // Shortcuts must work wherever focus is, including the filter combo boxes.
    const QList<QAction *> all{m_addImagesAction, m_addFolderAction, m_exportCocoAction, m_exportYoloAction, m_exportVocAction,
                               m_copyImagesAction, m_openOutputAction, m_quitAction, m_pasteAction, m_selectAllAction,
                               m_removeAction, m_clearAction, m_zoomInAction, m_zoomOutAction, m_startPauseAction,
                               m_cancelAction, m_retryAction, m_settingsAction, m_aboutAction};
    for (QAction *a : all)
        a->setShortcutContext(Qt::WindowShortcut);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_addImagesAction);
    file->addAction(m_addFolderAction);
    file->addSeparator();
    QMenu *exportMenu = file->addMenu(tr("&Export Detections"));
    exportMenu->addAction(m_exportCocoAction);
    exportMenu->addAction(m_exportYoloAction);
    exportMenu->addAction(m_exportVocAction);
    file->addAction(m_copyImagesAction);
    file->addAction(m_openOutputAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_pasteAction);
    edit->addAction(m_selectAllAction);
    edit->addSeparator();
    edit->addAction(m_removeAction);
    edit->addAction(m_clearAction);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_zoomInAction);
    view->addAction(m_zoomOutAction);

    QMenu *tools = menuBar()->addMenu(tr("&Tools"));
    tools->addAction(m_startPauseAction);
    tools->addAction(m_cancelAction);
    tools->addAction(m_retryAction);
    tools->addAction(m_processAgainAction);
    tools->addSeparator();
    tools->addAction(m_settingsAction);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_aboutAction);
}

void MainWindow::createToolBar()
{
    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setMovable(false);
    bar->addAction(m_addImagesAction);
    bar->addAction(m_addFolderAction);
    bar->addSeparator();
    bar->addAction(m_startPauseAction);
    bar->addAction(m_cancelAction);
    bar->addAction(m_retryAction);
    bar->addSeparator();
    auto *exportButton = new QToolButton(bar);
    exportButton->setText(tr("Export"));
    exportButton->setIcon(m_exportCocoAction->icon());
    exportButton->setToolTip(tr("Export detections (COCO JSON: Ctrl+E)"));
    exportButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto *exportMenu = new QMenu(exportButton);
    exportMenu->addAction(m_exportCocoAction);
    exportMenu->addAction(m_exportYoloAction);
    exportMenu->addAction(m_exportVocAction);
    exportMenu->addSeparator();
    exportMenu->addAction(m_copyImagesAction);
    exportButton->setMenu(exportMenu);
    m_exportButton = exportButton;
    bar->addWidget(exportButton);
    bar->addAction(m_settingsAction);

    QToolBar *filters = addToolBar(tr("Filter"));
    filters->setObjectName(QStringLiteral("filterToolBar"));
    filters->setMovable(false);
    filters->addWidget(new QLabel(tr(" Show: "), filters));
    m_statusFilter = new QComboBox(filters);
    m_statusFilter->setObjectName(QStringLiteral("statusFilter"));
    m_statusFilter->addItem(tr("All images"), int(GalleryFilterProxy::StatusFilter::All));
    m_statusFilter->addItem(tr("Waiting"), int(GalleryFilterProxy::StatusFilter::Pending));
    m_statusFilter->addItem(tr("Done"), int(GalleryFilterProxy::StatusFilter::Done));
    m_statusFilter->addItem(tr("With detections"), int(GalleryFilterProxy::StatusFilter::WithDetections));
    m_statusFilter->addItem(tr("Nothing detected"), int(GalleryFilterProxy::StatusFilter::WithoutDetections));
    m_statusFilter->addItem(tr("Failed or cancelled"), int(GalleryFilterProxy::StatusFilter::Failed));
    filters->addWidget(m_statusFilter);
    connect(m_statusFilter, &QComboBox::currentIndexChanged, this, [this] {
        m_proxy->setStatusFilter(GalleryFilterProxy::StatusFilter(m_statusFilter->currentData().toInt()));
        updateEmptyText();
    });

    m_labelFilter = new QComboBox(filters);
    m_labelFilter->setObjectName(QStringLiteral("labelFilter"));
    m_labelFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    filters->addWidget(m_labelFilter);
    connect(m_labelFilter, &QComboBox::currentIndexChanged, this, [this] {
        m_proxy->setLabelFilter(m_labelFilter->currentData().toString());
        updateEmptyText();
    });

    filters->addWidget(new QLabel(tr("  Sort: "), filters));
    m_sortBox = new QComboBox(filters);
    m_sortBox->setObjectName(QStringLiteral("sortKey"));
    m_sortBox->addItem(tr("Order added"), int(GalleryFilterProxy::SortKey::Added));
    m_sortBox->addItem(tr("Name"), int(GalleryFilterProxy::SortKey::Name));
    m_sortBox->addItem(tr("Detections"), int(GalleryFilterProxy::SortKey::Detections));
    m_sortBox->addItem(tr("Date modified"), int(GalleryFilterProxy::SortKey::Modified));
    m_sortBox->addItem(tr("Time processed"), int(GalleryFilterProxy::SortKey::Finished));
    filters->addWidget(m_sortBox);
    m_sortOrder = new QToolButton(filters);
    m_sortOrder->setCheckable(true);
    m_sortOrder->setAutoRaise(true);
    m_sortOrder->setToolTip(tr("Descending order"));
    m_sortOrder->setArrowType(Qt::UpArrow);
    filters->addWidget(m_sortOrder);
    const auto applySort = [this] {
        m_sortOrder->setArrowType(m_sortOrder->isChecked() ? Qt::DownArrow : Qt::UpArrow);
        m_proxy->setSortKey(GalleryFilterProxy::SortKey(m_sortBox->currentData().toInt()),
                            m_sortOrder->isChecked() ? Qt::DescendingOrder : Qt::AscendingOrder);
    };
    connect(m_sortBox, &QComboBox::currentIndexChanged, this, applySort);
    connect(m_sortOrder, &QToolButton::toggled, this, applySort);
}

void MainWindow::createStatusBar()
{
    m_targetLabel = new QLabel(this);
    m_stateLabel = new QLabel(this);
    m_stateLabel->setTextFormat(Qt::PlainText);
    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(220);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QStringLiteral("%v / %m"));
    m_rateLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_targetLabel);
    statusBar()->addPermanentWidget(m_stateLabel, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_rateLabel);
    updateProgress();
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
    m_sortBox->setCurrentIndex(qBound(0, s.value(QStringLiteral("sort"), 0).toInt(), m_sortBox->count() - 1));
    m_sortOrder->setChecked(s.value(QStringLiteral("descending"), false).toBool());
    s.endGroup();
}

void MainWindow::saveWindowState() const
{
    QSettings s;
    s.beginGroup(QStringLiteral("MainWindow"));
    s.setValue(QStringLiteral("geometry"), saveGeometry());
    s.setValue(QStringLiteral("state"), saveState());
    s.setValue(QStringLiteral("zoom"), m_thumbStep);
    s.setValue(QStringLiteral("sort"), m_sortBox->currentIndex());
    s.setValue(QStringLiteral("descending"), m_sortOrder->isChecked());
    s.endGroup();
}

void MainWindow::applySettings(const AppSettings &settings)
{
    const bool targetChanged = settings.target != m_settings.target || settings.host != m_settings.host
        || settings.port != m_settings.port || settings.protocol != m_settings.protocol
        || (settings.target == AppSettings::Target::Embedded && settings.model != m_settings.model);
    m_settings = settings;

    DetectOptions detect;
    detect.confidence = float(m_settings.confidence);
    detect.nmsIou = float(m_settings.nmsIou);
    detect.jpegQuality = m_settings.jpegQuality;
    // The embedded server was started with the chosen model; a remote one uses its default
    // unless the user named one.
    if (m_settings.target == AppSettings::Target::Remote)
        detect.model = m_settings.model;
    m_queue->setDetectOptions(detect);
    ProcessingQueue::OutputOptions out;
    out.directory = m_settings.outputDir;
    out.jsonSidecars = m_settings.jsonSidecars;
    m_queue->setOutputOptions(out);
    m_client->setTimeout(m_settings.timeoutMs);
    m_queue->setMaxInFlight(m_settings.maxInFlight);

    if (targetChanged || !m_queue->isTargetReady())
        applyTarget();
    updateConnectionStatus();
}

void MainWindow::applyTarget()
{
    m_serverModel.clear();
    m_latencyMs = -1;
    m_lastError.clear();
    if (m_settings.target == AppSettings::Target::Remote) {
        m_embedded->stop();
        m_client->setProtocol(toClientProtocol(m_settings.protocol));
        m_client->setTarget(m_settings.host, m_settings.port);
        m_queue->setTargetReady(true);
        if (m_settings.protocol != AppSettings::Protocol::Legacy)
            m_client->requestServerInfo();
    } else {
        m_queue->setTargetReady(false);
        // Started on demand: an empty gallery does not need a model in memory.
        if (m_embedded->state() != EmbeddedServer::State::Stopped || m_model->rowCount() > 0 || m_queue->isBusy())
            ensureTarget();
    }
    updateConnectionStatus();
}

void MainWindow::ensureTarget()
{
    if (m_settings.target != AppSettings::Target::Embedded)
        return;
    const bool sameModel = m_embedded->requestedModel() == m_settings.model;
    if (sameModel && (m_embedded->state() == EmbeddedServer::State::Starting
                      || m_embedded->state() == EmbeddedServer::State::Running)) {
        if (m_embedded->state() == EmbeddedServer::State::Running)
            m_queue->setTargetReady(true);
        return;
    }
    m_queue->setTargetReady(false);
    if (m_embedded->state() == EmbeddedServer::State::Running || m_embedded->state() == EmbeddedServer::State::Starting)
        m_queue->requeueInFlight(); // the old server is about to stop: take its work back first
    m_embedded->start(m_settings.model);
    updateConnectionStatus();
}

void MainWindow::addPaths(const QStringList &paths)
{
    if (paths.isEmpty())
        return;
    statusBar()->showMessage(tr("Looking for images…"));
    m_collector->collect(paths);
    updateActions();
}

bool MainWindow::addMimeData(const QMimeData *mime)
{
    const QStringList paths = pathsFromMime(mime);
    if (paths.isEmpty())
        return false;
    addPaths(paths);
    return true;
}

bool MainWindow::isCollecting() const
{
    return m_collector->isBusy();
}

void MainWindow::handleCollectFinished(int found, int skipped, const QStringList &missing)
{
    QStringList parts;
    parts << tr("%n image(s) found", nullptr, found);
    if (skipped > 0)
        parts << tr("%n other file(s) skipped", nullptr, skipped);
    if (!missing.isEmpty())
        parts << tr("%n path(s) not found", nullptr, int(missing.size()));
    statusBar()->showMessage(parts.join(QStringLiteral(", ")), 8000);
    if (!missing.isEmpty())
        qCWarning(lcMainWindow) << "not found:" << missing;
    updateActions();
    checkAllDone();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!pathsFromMime(event->mimeData()).isEmpty()) {
        event->acceptProposedAction();
        m_view->setDropHighlight(true);
    }
}

void MainWindow::dragLeaveEvent(QDragLeaveEvent *event)
{
    m_view->setDropHighlight(false);
    QMainWindow::dragLeaveEvent(event);
}

void MainWindow::dragMoveEvent(QDragMoveEvent *event)
{
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    m_view->setDropHighlight(false);
    if (addMimeData(event->mimeData()))
        event->acceptProposedAction();
    else
        statusBar()->showMessage(tr("Nothing to add: drop image files or folders."), 5000);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_queue->isBusy() && !m_quitWhenDoneArmed && isVisible()) {
        const int left = m_queue->batchTotal() - m_queue->batchFinished();
        const auto answer = QMessageBox::question(this, tr("Quit EdgeLens"),
            tr("%n image(s) are still waiting or being processed. Results saved so far are kept.\n\nQuit anyway?", nullptr, left),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
    }
    saveWindowState();
    // Saved before cancelling, so images still on their way come back queued next time.
    saveSessionNow();
    m_options.sessionFile.clear(); // what cancel() does next must not reach the file
    m_queue->cancel();
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

void MainWindow::addImages()
{
    QString start = m_settings.lastFolder;
    if (start.isEmpty() || !QFileInfo(start).isDir())
        start = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    QStringList patterns;
    for (const QString &s : ImageCollector::supportedSuffixes())
        patterns << QStringLiteral("*.") + s;
    const QStringList files = QFileDialog::getOpenFileNames(this, tr("Add Images"), start,
        tr("Images (%1);;All files (*)").arg(patterns.join(QLatin1Char(' '))));
    if (files.isEmpty())
        return;
    rememberLastFolder(QFileInfo(files.first()).absolutePath());
    addPaths(files);
}

void MainWindow::rememberLastFolder(const QString &folder)
{
    // Only this one value is stored: m_settings may hold command-line overrides that must
    // not become the saved defaults.
    m_settings.lastFolder = folder;
    AppSettings stored = AppSettings::load();
    stored.lastFolder = folder;
    stored.save();
}

void MainWindow::addFolder()
{
    QString start = m_settings.lastFolder;
    if (start.isEmpty() || !QFileInfo(start).isDir())
        start = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add Folder"), start);
    if (dir.isEmpty())
        return;
    rememberLastFolder(dir);
    addPaths({dir});
}

void MainWindow::pasteFromClipboard()
{
    if (!addMimeData(QGuiApplication::clipboard()->mimeData()))
        statusBar()->showMessage(tr("The clipboard holds no paths of existing files or folders."), 5000);
}

QList<int> MainWindow::selectedSourceRows() const
{
    QList<int> rows;
    const QModelIndexList selected = m_view->selectionModel()->selectedIndexes();
    rows.reserve(selected.size());
    for (const QModelIndex &index : selected)
        rows.append(m_proxy->mapToSource(index).row());
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
    if (m_queue->isBusy()) {
        const auto answer = QMessageBox::question(this, tr("Clear Gallery"),
            tr("Processing is still running. Stop it and clear the gallery? Saved results stay on disk."));
        if (answer != QMessageBox::Yes)
            return;
        m_queue->cancel();
    }
    m_model->clear();
    m_thumbnails->clear();
    updateActions();
}

void MainWindow::startOrPause()
{
    if (m_queue->isBusy()) {
        if (m_queue->isPaused())
            m_queue->resume();
        else
            m_queue->pause();
    }
    updateActions();
    updateProgress();
}

void MainWindow::cancelProcessing()
{
    const int n = m_queue->cancel();
    statusBar()->showMessage(tr("%n image(s) cancelled; Retry Failed sends them again.", nullptr, n), 6000);
    updateActions();
}

void MainWindow::retryFailed()
{
    m_lastError.clear();
    ensureTarget();
    const int n = m_queue->retryFailed();
    statusBar()->showMessage(tr("%n image(s) queued again.", nullptr, n), 5000);
    updateActions();
}

void MainWindow::openSettings()
{
    SettingsDialog dialog(m_settings, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const AppSettings chosen = dialog.settings();
    const bool targetChanged = chosen.target != m_settings.target || chosen.host != m_settings.host
        || chosen.port != m_settings.port || chosen.protocol != m_settings.protocol
        || (chosen.target == AppSettings::Target::Embedded && chosen.model != m_settings.model);
    if (targetChanged && m_queue->isBusy()) {
        const int left = m_queue->batchTotal() - m_queue->batchFinished();
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
    const QList<int> rows = exportRows();
    QList<ExportItem> items;
    int legacy = 0;
    QStringList classNames;
    for (int row : rows) {
        const GalleryItem &it = m_model->item(row);
        if (it.status != GalleryItem::Status::Done)
            continue;
        if (!it.hasDetectionData) {
            ++legacy;
            continue;
        }
        items.append(ExportItem{it.path, it.result.imageWidth, it.result.imageHeight, it.result.detections});
        // Class ids should be the model's own (COCO order), not first-seen order, so files
        // from several exports agree; the catalog knows the model by name.
        if (classNames.isEmpty() && !it.result.model.isEmpty()) {
            if (const std::optional<ModelManifest> manifest = ModelCatalog().find(it.result.model))
                classNames = manifest->classNames;
        }
    }
    if (items.isEmpty()) {
        *message = legacy > 0 ? tr("The processed images came from a legacy server, which sends no detection data to export.")
                              : tr("There are no processed images to export yet.");
        return false;
    }
    QString error;
    bool ok = false;
    if (format == QLatin1String("coco"))
        ok = exportCoco(items, classNames, target, &error);
    else if (format == QLatin1String("yolo"))
        ok = exportYolo(items, classNames, target, &error);
    else if (format == QLatin1String("voc"))
        ok = exportVoc(items, target, &error);
    else
        error = tr("unknown format %1").arg(format);
    if (!ok) {
        *message = tr("Export failed: %1").arg(error);
        return false;
    }
    *message = tr("Exported %n image(s) to %1.", nullptr, int(items.size())).arg(QDir::toNativeSeparators(target));
    if (legacy > 0)
        *message += QLatin1Char(' ') + tr("%n legacy result(s) without detection data were left out.", nullptr, legacy);
    return true;
}

void MainWindow::exportDetections(const QString &format)
{
    const QString start = m_settings.lastFolder.isEmpty() ? QDir::homePath() : m_settings.lastFolder;
    QString target;
    if (format == QLatin1String("coco")) {
        target = QFileDialog::getSaveFileName(this, tr("Export COCO JSON"), QDir(start).filePath(QStringLiteral("detections.json")),
                                              tr("COCO JSON (*.json)"));
    } else {
        target = QFileDialog::getExistingDirectory(this, format == QLatin1String("yolo") ? tr("Export YOLO Labels To") : tr("Export Pascal VOC To"), start);
    }
    if (target.isEmpty())
        return;
    QApplication::setOverrideCursor(Qt::WaitCursor);
    QString message;
    const bool ok = exportDetectionsTo(format, target, &message);
    QApplication::restoreOverrideCursor();
    if (!ok) {
        QMessageBox::warning(this, tr("Export Detections"), message);
        return;
    }
    statusBar()->showMessage(message, 8000);
}

void MainWindow::copyMarkedUpImages()
{
    const QList<int> rows = exportRows();
    QStringList sources;
    for (int row : std::as_const(rows)) {
        const GalleryItem &it = m_model->item(row);
        if (it.status == GalleryItem::Status::Done && !it.resultPath.isEmpty())
            sources.append(it.resultPath);
    }
    if (sources.isEmpty()) {
        QMessageBox::information(this, tr("Copy Marked-up Images"), tr("There are no saved results to copy yet."));
        return;
    }
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Copy Marked-up Images To"), m_settings.lastFolder);
    if (dir.isEmpty())
        return;
    statusBar()->showMessage(tr("Copying %n image(s)…", nullptr, int(sources.size())));
    auto *watcher = new QFutureWatcher<QStringList>(this);
    connect(watcher, &QFutureWatcher<QStringList>::finished, this, [this, watcher, dir, n = sources.size()] {
        watcher->deleteLater();
        const QStringList errors = watcher->result();
        if (errors.isEmpty()) {
            statusBar()->showMessage(tr("Copied %n marked-up image(s) to %1.", nullptr, int(n)).arg(QDir::toNativeSeparators(dir)), 8000);
        } else {
            QMessageBox::warning(this, tr("Copy Marked-up Images"),
                tr("%n image(s) could not be copied:", nullptr, int(errors.size())) + QStringLiteral("\n")
                    + errors.mid(0, 10).join(QLatin1Char('\n')));
        }
    });
    watcher->setFuture(QtConcurrent::run([sources, dir] {
        QStringList errors;
        QDir target(dir);
        for (const QString &src : sources) {
            QString name = QFileInfo(src).fileName();
            // Never overwrite: a second "IMG_0001_detected.jpg" from another folder gets a number.
            QString dest = target.filePath(name);
            for (int i = 2; QFileInfo::exists(dest); ++i)
                dest = target.filePath(QStringLiteral("%1_%2.%3").arg(QFileInfo(name).completeBaseName()).arg(i).arg(QFileInfo(name).suffix()));
            if (!QFile::copy(src, dest))
                errors.append(QStringLiteral("%1 → %2").arg(QDir::toNativeSeparators(src), QDir::toNativeSeparators(dest)));
        }
        return errors;
    }));
}

void MainWindow::openOutputFolder()
{
    QString dir = m_settings.outputDir;
    if (dir.isEmpty()) {
        const QList<int> rows = selectedSourceRows();
        const int row = rows.isEmpty() ? (m_model->rowCount() > 0 ? 0 : -1) : rows.first();
        if (row >= 0)
            dir = m_queue->outputDirectoryFor(m_model->item(row).path);
    }
    if (dir.isEmpty() || !QFileInfo(dir).isDir()) {
        statusBar()->showMessage(tr("No results have been saved yet."), 5000);
        return;
    }
    QDesktopServices::openUrl(QUrl::fromLocalFile(dir));
}

void MainWindow::showAbout()
{
    AboutDialog about(this);
    about.exec();
}

void MainWindow::showDetail(const QModelIndex &proxyIndex)
{
    const QModelIndex source = m_proxy->mapToSource(proxyIndex);
    if (!source.isValid())
        return;
    const GalleryItem &it = m_model->item(source.row());
    if (!m_detail) {
        m_detail = new DetailView(this);
        m_detail->setWindowFlag(Qt::Window, true);
        m_detail->setAttribute(Qt::WA_DeleteOnClose, true);
        const QRect avail = screen() ? screen()->availableGeometry() : QRect(0, 0, 1280, 800);
        m_detail->resize((QSizeF(avail.size()) * 0.75).toSize());
        // Browse without going back to the gallery; PageUp/PageDown stay with the image view.
        const auto addShortcut = [this](const QKeySequence &keys, const std::function<void()> &what) {
            auto *shortcut = new QShortcut(keys, m_detail);
            connect(shortcut, &QShortcut::activated, this, what);
        };
        addShortcut(QKeySequence(Qt::ALT | Qt::Key_Right), [this] { stepDetail(+1); });
        addShortcut(QKeySequence(Qt::ALT | Qt::Key_Left), [this] { stepDetail(-1); });
        addShortcut(QKeySequence(Qt::Key_Escape), [this] { m_detail->close(); });
    }
    m_detail->setWindowTitle(tr("%1 – EdgeLens").arg(it.fileName));
    m_detail->setProperty("edgelensPath", it.path);
    m_detail->showItem(it.path, it.resultPath, it.result, it.hasDetectionData);
    m_detail->show();
    m_detail->raise();
    m_detail->activateWindow();
}

void MainWindow::stepDetail(int delta)
{
    // Next/previous in the order the gallery shows, so filters and sorting carry over.
    if (!m_detail)
        return;
    const int sourceRow = m_model->rowOfPath(m_detail->property("edgelensPath").toString());
    if (sourceRow < 0)
        return;
    const QModelIndex current = m_proxy->mapFromSource(m_model->index(sourceRow));
    if (!current.isValid())
        return;
    const QModelIndex next = m_proxy->index(current.row() + delta, 0);
    if (!next.isValid())
        return;
    m_view->setCurrentIndex(next);
    m_view->scrollTo(next);
    showDetail(next);
}

void MainWindow::processSelectedAgain()
{
    QStringList paths;
    for (int row : selectedSourceRows()) {
        const GalleryItem &it = m_model->item(row);
        const bool onItsWay = it.status == GalleryItem::Status::Queued || it.status == GalleryItem::Status::Sending
            || it.status == GalleryItem::Status::Processing;
        if (!onItsWay)
            paths << it.path;
    }
    if (paths.isEmpty())
        return;
    m_lastError.clear();
    ensureTarget();
    m_queue->enqueue(paths);
    statusBar()->showMessage(tr("%n image(s) queued again.", nullptr, int(paths.size())), 5000);
}

void MainWindow::showContextMenu(const QPoint &pos)
{
    const QModelIndex index = m_view->indexAt(pos);
    if (!index.isValid())
        return;
    if (!m_view->selectionModel()->isSelected(index))
        m_view->setCurrentIndex(index);
    QMenu menu(this);
    menu.addAction(m_openAction);
    menu.addAction(m_processAgainAction);
    menu.addAction(m_retryAction);
    menu.addSeparator();
    menu.addAction(m_showResultAction);
    menu.addAction(m_copyPathAction);
    menu.addSeparator();
    menu.addAction(m_removeAction);
    menu.exec(m_view->viewport()->mapToGlobal(pos));
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
    const int total = m_queue->batchTotal();
    const int finished = m_queue->batchFinished();
    m_progress->setMaximum(qMax(total, 1));
    m_progress->setValue(qMin(finished, qMax(total, 1)));
    m_progress->setVisible(total > 0);
    setWindowTitle(total > 0 && m_queue->isBusy() ? tr("EdgeLens – %1 of %2").arg(finished).arg(total) : tr("EdgeLens"));
    if (total == 0) {
        m_rateLabel->clear();
    } else if (m_queue->isBusy()) {
        const double rate = m_queue->imagesPerSecond();
        QString text = rate > 0 ? tr("%1 images/s").arg(rate, 0, 'f', rate < 10 ? 1 : 0) : tr("– images/s");
        text += QStringLiteral(" · ") + tr("%1 left").arg(formatDuration(m_queue->estimatedRemainingMs()));
        if (m_queue->isPaused())
            text = tr("Paused") + QStringLiteral(" · ") + text;
        m_rateLabel->setText(text);
    } else {
        const int failed = m_model->count(GalleryItem::Status::Failed);
        m_rateLabel->setText(failed > 0 ? tr("Finished, %n failed", nullptr, failed) : tr("Finished"));
    }
    updateActions();
}

void MainWindow::updateConnectionStatus()
{
    QString target;
    if (m_settings.target == AppSettings::Target::Embedded) {
        target = tr("Embedded server");
    } else {
        const QString host = m_settings.host.contains(QLatin1Char(':')) ? QStringLiteral("[%1]").arg(m_settings.host) : m_settings.host;
        target = tr("Device %1:%2").arg(host).arg(m_settings.port);
    }
    m_targetLabel->setText(target);

    QString state;
    if (m_settings.target == AppSettings::Target::Embedded) {
        switch (m_embedded->state()) {
        case EmbeddedServer::State::Stopped:
            state = tr("idle (starts when images are added)");
            break;
        case EmbeddedServer::State::Starting:
            state = tr("starting embedded server…");
            break;
        case EmbeddedServer::State::Failed:
            state = tr("not running: %1").arg(m_embedded->errorSummary());
            break;
        case EmbeddedServer::State::Running:
            break;
        }
    }
    if (state.isEmpty()) {
        switch (m_client->connectionState()) {
        case DetectionClient::ConnectionState::Disconnected:
            // Idle connections are closed by the server; the client reconnects on demand.
            if (m_client->activeProtocol() == DetectionClient::Protocol::Legacy)
                state = tr("legacy server (one connection per image)");
            else if (m_client->activeProtocol() == DetectionClient::Protocol::V2 || !m_serverModel.isEmpty())
                state = tr("ready");
            else
                state = tr("not connected yet");
            break;
        case DetectionClient::ConnectionState::Connecting:
            state = tr("connecting…");
            break;
        case DetectionClient::ConnectionState::Negotiating:
            state = tr("negotiating…");
            break;
        case DetectionClient::ConnectionState::Connected:
            state = m_client->activeProtocol() == DetectionClient::Protocol::Legacy ? tr("connected (legacy protocol)") : tr("connected");
            break;
        case DetectionClient::ConnectionState::Reconnecting:
            state = tr("connection lost, reconnecting…");
            break;
        }
        if (!m_serverModel.isEmpty())
            state += QStringLiteral(" · ") + m_serverModel;
        const double latency = m_latencyMs >= 0 ? m_latencyMs : m_queue->lastRoundTripMs();
        if (latency > 0)
            state += QStringLiteral(" · ") + tr("%1 ms").arg(latency, 0, 'f', latency < 10 ? 1 : 0);
    }
    if (!m_outage.isEmpty())
        state += QStringLiteral(" · ") + tr("connection lost, retrying: %1").arg(m_outage);
    else if (!m_lastError.isEmpty())
        state += QStringLiteral(" · ") + tr("last error: %1").arg(m_lastError);
    m_stateLabel->setText(state);
    // The full story (e.g. where models were looked for) is one hover away.
    const bool failed = m_settings.target == AppSettings::Target::Embedded && m_embedded->state() == EmbeddedServer::State::Failed;
    m_stateLabel->setToolTip(failed ? m_embedded->errorString() : state);
}

QString MainWindow::statusText() const
{
    return m_stateLabel->text();
}

void MainWindow::updateActions()
{
    const bool busy = m_queue->isBusy();
    const int failed = m_model->count(GalleryItem::Status::Failed) + m_model->count(GalleryItem::Status::Cancelled);
    const bool any = m_model->rowCount() > 0;
    const bool anyDone = m_model->count(GalleryItem::Status::Done) > 0;
    if (!m_queue->isPaused()) {
        m_startPauseAction->setText(tr("&Pause"));
        m_startPauseAction->setIcon(m_pauseIcon);
        m_startPauseAction->setToolTip(tr("Pause sending; images in flight still finish (Ctrl+P)"));
    } else {
        m_startPauseAction->setText(tr("Res&ume"));
        m_startPauseAction->setIcon(m_resumeIcon);
        m_startPauseAction->setToolTip(tr("Resume sending (Ctrl+P)"));
    }
    m_startPauseAction->setEnabled(busy);
    m_processAgainAction->setEnabled(m_view->selectionModel()->hasSelection());
    m_cancelAction->setEnabled(busy);
    m_retryAction->setEnabled(failed > 0);
    m_removeAction->setEnabled(m_view->selectionModel()->hasSelection());
    m_clearAction->setEnabled(any);
    m_selectAllAction->setEnabled(any);
    m_exportCocoAction->setEnabled(anyDone);
    m_exportYoloAction->setEnabled(anyDone);
    m_exportVocAction->setEnabled(anyDone);
    m_copyImagesAction->setEnabled(anyDone);
    m_openOutputAction->setEnabled(anyDone);
    m_exportButton->setEnabled(anyDone);
}

void MainWindow::updateLabelFilter()
{
    const QString current = m_labelFilter->currentData().toString();
    const QSignalBlocker block(m_labelFilter);
    m_labelFilter->clear();
    m_labelFilter->addItem(tr("Any label"), QString());
    const QStringList labels = m_model->allLabels();
    for (const QString &label : labels)
        m_labelFilter->addItem(label, label);
    int index = m_labelFilter->findData(current);
    if (index < 0 && !current.isEmpty()) {
        // Keep a chosen label selectable even when no image carries it any more.
        m_labelFilter->addItem(current, current);
        index = m_labelFilter->count() - 1;
    }
    m_labelFilter->setCurrentIndex(qMax(0, index));
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
    updateConnectionStatus();
    if (m_collector->isBusy() || m_queue->isBusy())
        return;
    emit allDone();
    if (m_quitWhenDoneArmed) {
        m_quitWhenDoneArmed = false;
        QTimer::singleShot(0, this, &QWidget::close);
    }
}

void MainWindow::showError(const QString &message)
{
    m_lastError = message;
    statusBar()->showMessage(message, 10000);
    updateConnectionStatus();
}

} // namespace edgelens
