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
#include "processingqueue.h"
#include "resultsfolder.h"
#include "sessioncontroller.h"
#include "statuspresenter.h"
#include "targetcontroller.h"
#include "thumbnailcache.h"
#include "widgets/aboutdialog.h"
#include "widgets/detailview.h"
#include "widgets/icons.h"
#include "widgets/settingsdialog.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
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
#include <QJsonArray>
#include <QLoggingCategory>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScreen>
#include <QSettings>
#include <QShowEvent>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>
#include <QWindow>
#include <QtConcurrent/QtConcurrentRun>

#include <functional>
#include <initializer_list>

Q_LOGGING_CATEGORY(lcMainWindow, "edgelens.app.mainwindow")

namespace edgelens {

namespace {

const QSize kBaseThumb(160, 120);
constexpr int kMinZoom = -2;
constexpr int kMaxZoom = 4;

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
    m_queue->setThumbnailCache(m_thumbnails);
    m_embedded = new EmbeddedServer(this);
    m_status = new StatusPresenter(statusBar(), m_model, m_queue, m_client, m_embedded, this);
    m_target = new TargetController(m_model, m_queue, m_client, m_embedded, m_status, this);
    m_export = new ExportController(m_model, this);
    m_session = new SessionController(m_model, m_options.sessionFile, this);
    m_details = new DetailController(m_model, m_proxy, m_view, this);
    m_annotations = new AnnotationSaver(m_model, this);

    createActions();
    createMenus();
    createToolBar();

    connect(m_thumbnails, &ThumbnailCache::thumbnailReady, m_view->viewport(), qOverload<>(&QWidget::update));
    connect(m_view, &QAbstractItemView::activated, m_details, &DetailController::show);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, &MainWindow::showContextMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &MainWindow::updateActions);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateEmptyText);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &MainWindow::updateEmptyText);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateEmptyText);
    connect(m_filterBar, &GalleryFilterBar::filterChanged, this, &MainWindow::updateEmptyText);

    connect(m_collector, &ImageCollector::imagesFound, this, [this](const QList<GalleryModel::NewImage> &images) {
        const QList<int> rows = m_model->addImages(images);
        QStringList paths;
        paths.reserve(rows.size());
        for (int row : rows)
            paths.append(m_model->item(row).path);
        enqueueNew(paths);
    });
    connect(m_collector, &ImageCollector::finished, this, &MainWindow::handleCollectFinished);

    connect(m_model, &GalleryModel::statusCountsChanged, this, &MainWindow::updateActions);
    connect(m_queue, &ProcessingQueue::progressChanged, this, &MainWindow::updateProgress);
    connect(m_queue, &ProcessingQueue::idle, this, &MainWindow::checkAllDone);
    connect(m_queue, &ProcessingQueue::outputError, m_status, &StatusPresenter::showError);
    connect(m_queue, &ProcessingQueue::itemFinished, this, &MainWindow::handleItemFinished);
    connect(m_status, &StatusPresenter::windowTitleChanged, this, &QWidget::setWindowTitle);
    connect(m_status, &StatusPresenter::refreshed, this, &MainWindow::updateActions);
    connect(m_export, &ExportController::statusMessage, m_status, &StatusPresenter::showMessage);
    connect(m_session, &SessionController::restored, this, &MainWindow::handleSessionRestored);
    connect(m_details, &DetailController::message, this, [this](const QString &text) { m_status->showMessage(text, 6000); });
    connect(m_annotations, &AnnotationSaver::failed, m_status, &StatusPresenter::showError);
    connect(m_annotations, &AnnotationSaver::saved, this, [this](const QString &path, const QString &resultPath) {
        // The marked-up image was redrawn from the corrections.
        if (!resultPath.isEmpty())
            m_thumbnails->invalidate(resultPath);
        m_view->viewport()->update();
        if (DetailView *detail = m_details->view(); detail && detail->originalPath() == path)
            detail->reloadResultImage();
    });
    connect(m_client, &DetectionClient::serverInfoReceived, this,
            [this](quint64, const QJsonObject &info, double) { learnModelDefaults(info); });

    applySettings(m_settings);
    restoreWindowState();
    updateProgress();
    updateEmptyText();

    m_session->restore();

    // Asked for explicitly (the README's main command does): have the model loaded and the
    // server listening before the first drop, so the status bar says it is ready.
    if (m_options.embedded)
        m_target->ensureReady();

    if (!m_options.images.isEmpty()) {
        m_quitWhenDoneArmed = m_options.quitWhenDone;
        addPaths(m_options.images);
    }
}

MainWindow::~MainWindow()
{
    // Children go in creation order, the model before the queue: nothing the client or the
    // collector still has to say may reach a half-destroyed window.
    disconnect(m_client, nullptr, nullptr, nullptr);
    disconnect(m_collector, nullptr, nullptr, nullptr);
    disconnect(m_model, nullptr, this, nullptr);
    const std::initializer_list<QObject *> senders{m_queue, m_embedded, m_thumbnails, m_proxy,
                                                   m_view, m_view->selectionModel(), m_filterBar};
    for (QObject *sender : senders)
        disconnect(sender, nullptr, this, nullptr);
    m_collector->cancel();
    // While everything still exists: stopping the server reports a state change.
    m_embedded->stop();
    // The controllers listen to the objects created before them, which QWidget deletes
    // first; they go now, so no late signal reaches one of them.
    delete m_details;
    delete m_annotations; // writes what is still pending
    delete m_session;
    delete m_export;
    delete m_target;
    delete m_status;
}

bool MainWindow::isSessionRestored() const
{
    return m_session->isRestored();
}

void MainWindow::saveSession()
{
    m_session->saveNow();
}

void MainWindow::handleSessionRestored(const QStringList &queuedAgain, const QString &message)
{
    enqueueNew(queuedAgain);
    if (!message.isEmpty())
        m_status->showMessage(message, 8000);
    updateEmptyText();
    checkAllDone();
}

void MainWindow::enqueueNew(const QStringList &paths)
{
    if (paths.isEmpty())
        return;
    m_target->ensureReady();
    m_queue->enqueue(paths);
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
        m_status->setLastFailure(it.fileName, it.error);
    }
    m_details->refresh(path);
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
    connect(m_exportCocoAction, &QAction::triggered, this, [this] { m_export->exportDetections(exportRows(), QStringLiteral("coco"), m_settings.lastFolder); });
    m_exportYoloAction = new QAction(tr("Export Detections as &YOLO txt…"), this);
    m_exportYoloAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Y));
    connect(m_exportYoloAction, &QAction::triggered, this, [this] { m_export->exportDetections(exportRows(), QStringLiteral("yolo"), m_settings.lastFolder); });
    m_exportVocAction = new QAction(tr("Export Detections as Pascal &VOC…"), this);
    m_exportVocAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V));
    connect(m_exportVocAction, &QAction::triggered, this, [this] { m_export->exportDetections(exportRows(), QStringLiteral("voc"), m_settings.lastFolder); });
    m_copyImagesAction = new QAction(tr("Copy &Marked-up Images To…"), this);
    m_copyImagesAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    connect(m_copyImagesAction, &QAction::triggered, this, [this] { m_export->copyMarkedUpImages(exportRows(), m_settings.lastFolder); });
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
    m_openResultsAction = new QAction(themedIcon("document-open-folder", QString(), QStyle::SP_DirOpenIcon),
                                      tr("Open &Results\u2026"), this);
    m_openResultsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_O));
    m_openResultsAction->setToolTip(tr("Browse an output folder made earlier (sidecars and marked-up images); "
                                       "nothing is sent"));
    connect(m_openResultsAction, &QAction::triggered, this, [this] {
        QString start = m_settings.lastFolder;
        if (start.isEmpty() || !QFileInfo(start).isDir())
            start = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Results"), start);
        if (!dir.isEmpty())
            openResults(dir);
    });
    m_shortcutsAction = new QAction(tr("&Keyboard Shortcuts"), this);
    m_shortcutsAction->setToolTip(tr("The review and editing keys of the detail window"));
    connect(m_shortcutsAction, &QAction::triggered, this, &MainWindow::showShortcuts);
    m_reviewedOnlyAction = new QAction(tr("Export &Reviewed Images Only"), this);
    m_reviewedOnlyAction->setCheckable(true);
    m_reviewedOnlyAction->setToolTip(tr("COCO, YOLO and VOC exports leave out images nobody reviewed yet"));
    connect(m_reviewedOnlyAction, &QAction::toggled, this, [this](bool on) { m_export->setReviewedOnly(on); });
    m_aboutAction = new QAction(tr("&About EdgeLens"), this);
    m_aboutAction->setShortcut(QKeySequence::HelpContents);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);

    m_openAction = new QAction(tr("&Open"), this);
    m_openAction->setShortcut(QKeySequence(Qt::Key_Return));
    m_openAction->setShortcutContext(Qt::WidgetShortcut); // Enter in the gallery only
    connect(m_openAction, &QAction::triggered, this, [this] {
        if (m_view->currentIndex().isValid())
            m_details->show(m_view->currentIndex());
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
    file->addAction(m_openResultsAction);
    file->addSeparator();
    QMenu *exportMenu = file->addMenu(tr("&Export Detections"));
    exportMenu->addAction(m_exportCocoAction);
    exportMenu->addAction(m_exportYoloAction);
    exportMenu->addAction(m_exportVocAction);
    exportMenu->addSeparator();
    exportMenu->addAction(m_reviewedOnlyAction);
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
    help->addAction(m_shortcutsAction);
    help->addAction(m_aboutAction);
}

void MainWindow::createToolBar()
{
    QToolBar *bar = addToolBar(tr("Main"));
    m_mainToolBar = bar;
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

    m_filterBar = new GalleryFilterBar(m_model, m_proxy, this);
    addToolBar(m_filterBar);
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
    m_target->apply(m_settings);
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
    m_queue->resultSaver().setThresholdPolicy(policy);
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

QString MainWindow::shortcutHelpText() const
{
    QString html = QStringLiteral("<h3>%1</h3><table cellspacing=\"6\">").arg(tr("Detail window: review"));
    const auto rows = [](const QList<QPair<QString, QString>> &list) {
        QString out;
        for (const auto &[keys, what] : list)
            out += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(keys.toHtmlEscaped(), what.toHtmlEscaped());
        return out;
    };
    html += rows(DetailController::shortcutHelp());
    html += QStringLiteral("</table><h3>%1</h3><table cellspacing=\"6\">").arg(tr("Detail window: boxes"));
    html += rows(DetailView::shortcutHelp());
    html += QStringLiteral("</table><p>%1</p>")
                .arg(tr("Every change is saved at once into the image's JSON sidecar and its marked-up image."));
    return html;
}

void MainWindow::showShortcuts()
{
    QMessageBox box(this);
    box.setWindowTitle(tr("Keyboard Shortcuts"));
    box.setTextFormat(Qt::RichText);
    box.setText(shortcutHelpText());
    box.exec();
}

void MainWindow::openResults(const QString &folder)
{
    m_status->showMessage(tr("Reading results in %1\u2026").arg(QDir::toNativeSeparators(folder)));
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
        m_status->showMessage(tr("Opened %1: %2.").arg(QDir::toNativeSeparators(folder), parts.join(QStringLiteral(", "))),
                              10000);
        if (!scan.movedOriginals.isEmpty()) {
            qCWarning(lcMainWindow) << "originals not found:" << scan.movedOriginals;
            m_status->showError(tr("Originals not found (moved or deleted): %1")
                                    .arg(scan.movedOriginals.mid(0, 5).join(QStringLiteral("; "))));
        }
        updateActions();
        updateEmptyText();
        emit resultsOpened(scan.pairs, scan.resultsOnly, scan.movedOriginals);
    });
    watcher->setFuture(QtConcurrent::run(&ResultsFolder::scan, folder));
}

void MainWindow::addPaths(const QStringList &input)
{
    // An output folder dropped or named is opened for review, not sent again.
    QStringList paths;
    for (const QString &path : input) {
        if (ResultsFolder::looksLikeOutputFolder(path))
            openResults(path);
        else
            paths << path;
    }
    if (paths.isEmpty())
        return;
    m_status->showMessage(tr("Looking for images…"));
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
    m_status->showMessage(parts.join(QStringLiteral(", ")), 8000);
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
        m_status->showMessage(tr("Nothing to add: drop image files or folders."), 5000);
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
    m_annotations->waitForDone();
    // Saved before cancelling, so images still on their way come back queued next time.
    m_session->finish(); // what cancel() does next must not reach the file
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

void MainWindow::resizeEvent(QResizeEvent *event)
{
    QMainWindow::resizeEvent(event);
    arrangeToolBars();
}

void MainWindow::arrangeToolBars()
{
    // Side by side when both fit; otherwise the filters get a row of their own rather than
    // hiding the sort box behind the toolbar's overflow arrow.
    const bool fits = m_mainToolBar->sizeHint().width() + m_filterBar->sizeHint().width() <= width();
    if (fits && toolBarBreak(m_filterBar))
        removeToolBarBreak(m_filterBar);
    else if (!fits && !toolBarBreak(m_filterBar))
        insertToolBarBreak(m_filterBar);
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
        m_status->showMessage(tr("The clipboard holds no paths of existing files or folders."), 5000);
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
    m_status->showMessage(tr("%n image(s) cancelled; Retry Failed sends them again.", nullptr, n), 6000);
    updateActions();
}

void MainWindow::retryFailed()
{
    m_status->clearLastError();
    m_target->ensureReady();
    const int n = m_queue->retryFailed();
    m_status->showMessage(tr("%n image(s) queued again.", nullptr, n), 5000);
    updateActions();
}

void MainWindow::openSettings()
{
    SettingsDialog dialog(m_settings, this);
    if (dialog.exec() == QDialog::Accepted)
        changeSettings(dialog.settings());
}

void MainWindow::changeSettings(const AppSettings &chosen)
{
    if (TargetController::targetDiffers(m_settings, chosen) && m_queue->isBusy()) {
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
    return m_export->exportDetectionsTo(exportRows(), format, target, message);
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
        m_status->showMessage(tr("No results have been saved yet."), 5000);
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
    m_status->clearLastError();
    m_target->ensureReady();
    m_queue->enqueue(paths);
    m_status->showMessage(tr("%n image(s) queued again.", nullptr, int(paths.size())), 5000);
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
    m_status->updateProgress();
    updateActions();
}

QString MainWindow::statusText() const
{
    return m_status->stateText();
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
    m_status->updateConnectionStatus();
    if (m_collector->isBusy() || m_queue->isBusy())
        return;
    emit allDone();
    if (m_quitWhenDoneArmed) {
        m_quitWhenDoneArmed = false;
        QTimer::singleShot(0, this, &QWidget::close);
    }
}

} // namespace edgelens
