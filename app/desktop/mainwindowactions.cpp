// MainWindow's actions, menus and toolbars, their enabled state and the context menu: what
// the user can trigger, kept apart from what happens when they do (mainwindow.cpp).

#include "mainwindow.h"

#include "detailcontroller.h"
#include "exportcontroller.h"
#include "galleryfilterbar.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "mainwindowparts.h"
#include "processingqueue.h"
#include "widgets/detailview.h"
#include "widgets/icons.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QItemSelectionModel>
#include <QKeySequence>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QStandardPaths>
#include <QStyle>
#include <QToolBar>
#include <QToolButton>
#include <QUrl>

namespace edgelens {

namespace {

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

} // namespace

void MainWindow::createActions()
{
    createFileActions();
    createEditActions();
    createViewActions();
    createToolsActions();
    createHelpActions();
    createGalleryActions();

    // Shortcuts must work wherever focus is, including the filter combo boxes.
    const QList<QAction *> all{m_addImagesAction, m_addFolderAction, m_exportCocoAction, m_exportYoloAction, m_exportVocAction,
                               m_exportMotAction, m_copyImagesAction, m_openOutputAction, m_quitAction, m_pasteAction,
                               m_selectAllAction, m_removeAction, m_clearAction, m_zoomInAction, m_zoomOutAction,
                               m_startPauseAction, m_cancelAction, m_retryAction, m_settingsAction, m_aboutAction};
    for (QAction *a : all)
        a->setShortcutContext(Qt::WindowShortcut);
}

void MainWindow::createFileActions()
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
    connect(m_exportCocoAction, &QAction::triggered, this, [this] { m_parts->exporter()->exportDetections(exportRows(), QStringLiteral("coco"), m_settings.lastFolder); });
    m_exportYoloAction = new QAction(tr("Export Detections as &YOLO txt…"), this);
    m_exportYoloAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Y));
    connect(m_exportYoloAction, &QAction::triggered, this, [this] { m_parts->exporter()->exportDetections(exportRows(), QStringLiteral("yolo"), m_settings.lastFolder); });
    m_exportVocAction = new QAction(tr("Export Detections as Pascal &VOC…"), this);
    m_exportVocAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_V));
    connect(m_exportVocAction, &QAction::triggered, this, [this] { m_parts->exporter()->exportDetections(exportRows(), QStringLiteral("voc"), m_settings.lastFolder); });
    m_exportMotAction = new QAction(tr("Export Video Tracks as &MOTChallenge…"), this);
    m_exportMotAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M));
    m_exportMotAction->setToolTip(tr("A gt.txt per video: each object under one id across its sampled frames"));
    connect(m_exportMotAction, &QAction::triggered, this, [this] { m_parts->exporter()->exportDetections(exportRows(), QStringLiteral("mot"), m_settings.lastFolder); });
    m_copyImagesAction = new QAction(tr("Copy &Marked-up Images To…"), this);
    m_copyImagesAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    connect(m_copyImagesAction, &QAction::triggered, this, [this] { m_parts->exporter()->copyMarkedUpImages(exportRows(), m_settings.lastFolder); });
    m_openOutputAction = new QAction(tr("Open &Output Folder"), this);
    m_openOutputAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    connect(m_openOutputAction, &QAction::triggered, this, &MainWindow::openOutputFolder);

    m_quitAction = new QAction(themedIcon("application-exit", QString(), QStyle::SP_DialogCloseButton), tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence::Quit);
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);

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
    m_openStreamAction = new QAction(themedIcon("camera-web", QString(), QStyle::SP_MediaPlay), tr("Open &Stream\u2026"), this);
    m_openStreamAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    m_openStreamAction->setToolTip(tr("Watch a camera, an RTSP or MJPEG stream or a video file live through the "
                                      "device (Ctrl+Shift+L)"));
    connect(m_openStreamAction, &QAction::triggered, this, &MainWindow::openStream);
    m_reviewedOnlyAction = new QAction(tr("Export &Reviewed Images Only"), this);
    m_reviewedOnlyAction->setCheckable(true);
    m_reviewedOnlyAction->setToolTip(tr("COCO, YOLO and VOC exports leave out images nobody reviewed yet"));
    connect(m_reviewedOnlyAction, &QAction::toggled, this, [this](bool on) { m_parts->exporter()->setReviewedOnly(on); });
}

void MainWindow::createEditActions()
{
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

}

void MainWindow::createViewActions()
{
    m_zoomInAction = new QAction(themedIcon("zoom-in", QStringLiteral("zoom-in"), QStyle::SP_ArrowUp), tr("&Larger Thumbnails"), this);
    m_zoomInAction->setShortcut(QKeySequence::ZoomIn);
    connect(m_zoomInAction, &QAction::triggered, this, [this] { zoomThumbnails(+1); });
    m_zoomOutAction = new QAction(themedIcon("zoom-out", QStringLiteral("zoom-out"), QStyle::SP_ArrowDown), tr("&Smaller Thumbnails"), this);
    m_zoomOutAction->setShortcut(QKeySequence::ZoomOut);
    connect(m_zoomOutAction, &QAction::triggered, this, [this] { zoomThumbnails(-1); });

}

void MainWindow::createToolsActions()
{
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
}

void MainWindow::createHelpActions()
{
    m_shortcutsAction = new QAction(tr("&Keyboard Shortcuts"), this);
    m_shortcutsAction->setToolTip(tr("The review and editing keys of the detail window"));
    connect(m_shortcutsAction, &QAction::triggered, this, &MainWindow::showShortcuts);
    m_aboutAction = new QAction(tr("&About EdgeLens"), this);
    m_aboutAction->setShortcut(QKeySequence::HelpContents);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);

}

// The gallery's context menu and Enter on a cell.
void MainWindow::createGalleryActions()
{
    m_openAction = new QAction(tr("&Open"), this);
    m_openAction->setShortcut(QKeySequence(Qt::Key_Return));
    m_openAction->setShortcutContext(Qt::WidgetShortcut); // Enter in the gallery only
    connect(m_openAction, &QAction::triggered, this, [this] {
        if (m_view->currentIndex().isValid())
            m_parts->details()->show(m_view->currentIndex());
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

}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_addImagesAction);
    file->addAction(m_addFolderAction);
    file->addAction(m_openResultsAction);
    file->addAction(m_openStreamAction);
    file->addSeparator();
    QMenu *exportMenu = file->addMenu(tr("&Export Detections"));
    exportMenu->addAction(m_exportCocoAction);
    exportMenu->addAction(m_exportYoloAction);
    exportMenu->addAction(m_exportVocAction);
    exportMenu->addAction(m_exportMotAction);
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
    exportMenu->addAction(m_exportMotAction);
    exportMenu->addSeparator();
    exportMenu->addAction(m_copyImagesAction);
    exportButton->setMenu(exportMenu);
    m_exportButton = exportButton;
    bar->addWidget(exportButton);
    bar->addAction(m_settingsAction);

    m_filterBar = new GalleryFilterBar(m_model, m_proxy, this);
    addToolBar(m_filterBar);
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

void MainWindow::updateActions()
{
    const bool busy = m_parts->queue()->isBusy();
    const int failed = m_model->count(GalleryItem::Status::Failed) + m_model->count(GalleryItem::Status::Cancelled);
    const bool any = m_model->rowCount() > 0;
    const bool anyDone = m_model->count(GalleryItem::Status::Done) > 0;
    if (!m_parts->queue()->isPaused()) {
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
    m_exportMotAction->setEnabled(anyDone);
    m_copyImagesAction->setEnabled(anyDone);
    m_openOutputAction->setEnabled(anyDone);
    m_exportButton->setEnabled(anyDone);
}

} // namespace edgelens
