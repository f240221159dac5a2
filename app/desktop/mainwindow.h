#pragma once

// The EdgeLens window: a gallery of the images the user brought in, what the detector made
// of them, and the controls for sending them. A coordinator: logic lives in the classes it
// wires together (GalleryModel, ProcessingQueue, ImageCollector, ThumbnailCache), the target
// in TargetController, the status bar in StatusPresenter, exports in ExportController, the
// session file in SessionController and the detail window in DetailController, all held by
// MainWindowParts in the order they depend on each other; this class owns the actions, menus
// and views and routes between them (actions, menus and toolbars are built in
// mainwindowactions.cpp).

#include "appoptions.h"
#include "inputs/samplingrule.h"
#include "videosampling.h"
#include "widgets/appsettings.h"

#include <QHash>
#include <QIcon>
#include <QJsonObject>
#include <QMainWindow>
#include <QPair>
#include <QPointer>

#include <memory>
#include <optional>

class QAction;
class QMimeData;
class QToolBar;
class QToolButton;

namespace edgelens {

class GalleryDelegate;
class GalleryFilterBar;
class GalleryFilterProxy;
class GalleryModel;
class GalleryView;
struct ImageOrigin;
class LiveWindow;
class MainWindowParts;
class RecentStreams;
struct StreamSpec;
class ThumbnailCache;

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    // settings: what to run with (normally AppSettings::load() with options applied).
    explicit MainWindow(const AppSettings &settings, const AppOptions &options = AppOptions(),
                        QWidget *parent = nullptr);
    ~MainWindow() override;

    // Files, folders or file:// URLs, as dropped, pasted or given on the command line.
    void addPaths(const QStringList &paths);
    bool addMimeData(const QMimeData *mime); // false when it held nothing usable

    const AppSettings &settings() const { return m_settings; }
    void applySettings(const AppSettings &settings); // no questions asked (tests, startup)
    // What OK in the settings dialog does: while images are on their way, a change of target
    // is asked about first ("No" keeps the target and applies the rest); then it is stored.
    void changeSettings(const AppSettings &chosen);

    // The gallery: what the user sees and clicks.
    GalleryModel *galleryModel() const { return m_model; }
    GalleryFilterProxy *galleryProxy() const { return m_proxy; }
    GalleryView *galleryView() const { return m_view; }
    // The collaborators behind the gallery, for tests and the bench to observe and drive
    // (the queue, the client, the embedded server, the controllers); the window owns them.
    const MainWindowParts &parts() const { return *m_parts; }

    bool isCollecting() const;
    bool isSessionRestored() const; // true at once without a session file
    void saveSession();
    // File > Export without the dialogs: format "coco" (target = file), "yolo", "voc" or "mot"
    // (target = folder), for the selected images (all when fewer than two are selected).
    // *message says what happened, for the status bar or an error box.
    bool exportDetectionsTo(const QString &format, const QString &target, QString *message);
    QString statusText() const; // the status bar's state label, as the user reads it
    QString shortcutHelpText() const; // what Help > Keyboard Shortcuts shows
    // File > Open Results: an output folder made earlier comes back for review and export;
    // nothing is sent. resultsOpened() follows (the scan runs in the background).
    void openResults(const QString &folder);
    // The live view on a source (mainwindowlive.cpp): one at a time, through this window's
    // target; frames it keeps (Snapshot, the capture rule) join the gallery as photos.
    LiveWindow *openLive(const StreamSpec &spec);
    LiveWindow *liveWindow() const;

signals:
    void allDone(); // nothing collecting, queued or in flight
    void resultsOpened(int pairs, int resultsOnly, const QStringList &movedOriginals);

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void dragLeaveEvent(QDragLeaveEvent *event) override;
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void createGallery();
    void connectGallery();
    void connectParts();
    void createActions();
    void createFileActions();
    void createEditActions();
    void createViewActions();
    void createToolsActions();
    void createHelpActions();
    void createGalleryActions();
    void createMenus();
    void createToolBar();
    void restoreWindowState();
    void saveWindowState() const;

    void addImages();
    void addFolder();
    void rememberLastFolder(const QString &folder);
    void pasteFromClipboard();
    void enqueueNew(const QStringList &paths);
    void removeSelected();
    void clearGallery();
    void startOrPause();
    void cancelProcessing();
    void retryFailed();
    void openSettings();
    void openOutputFolder();
    void openStream(); // File > Open Stream…
    void openLiveFromOptions();
    void addKeptFrame(const QString &path, const ImageOrigin &origin); // a live frame kept (mainwindowlive.cpp)
    void showAbout();
    void showShortcuts();
    void applyThresholdPolicy();
    void learnModelDefaults(const QJsonObject &serverInfo);
    void processSelectedAgain();
    void showContextMenu(const QPoint &pos);
    void zoomThumbnails(int step);
    void arrangeToolBars();

    void handleItemFinished(const QString &path, bool ok);
    // Videos: each is probed off the GUI thread, then its sampling is asked (one dialog at a
    // time, in the order found) and it runs; its frames join the gallery as a group.
    void queueVideos(const QStringList &canonicalPaths);
    void askNextVideo();
    void startVideo(const QString &path, const SamplingRule &rule, qint64 resumeAfterIndex = -1);
    void connectVideos();
    void handleSessionRestored(const QStringList &queuedAgain, const VideoSamplings &videos, const QString &message);
    void handleCollectFinished(int found, int skipped, const QStringList &missing);
    void updateProgress();
    void updateActions();
    void updateEmptyText();
    void checkAllDone();
    QList<int> selectedSourceRows() const;
    QList<int> exportRows() const;

    AppSettings m_settings;
    AppOptions m_options;

    GalleryModel *m_model = nullptr;
    GalleryFilterProxy *m_proxy = nullptr;
    GalleryView *m_view = nullptr;
    GalleryDelegate *m_delegate = nullptr;
    QToolBar *m_mainToolBar = nullptr;
    GalleryFilterBar *m_filterBar = nullptr;
    ThumbnailCache *m_thumbnails = nullptr;
    std::unique_ptr<MainWindowParts> m_parts; // made after the widgets it uses, gone before them
    QHash<QString, double> m_serverModelDefaults; // what the server said about its models
    QPair<QJsonObject, QString> m_lastServerInfo; // a device's last server-info, its name: the settings show its timings
    QStringList m_pendingVideos;                   // found, sampling not asked yet
    bool m_askingVideo = false;                    // probing one or its dialog is open
    std::optional<SamplingRule> m_ruleForRemaining; // "the same for the others" was ticked

    QToolButton *m_exportButton = nullptr;
    QAction *m_addImagesAction = nullptr;
    QAction *m_addFolderAction = nullptr;
    QAction *m_exportCocoAction = nullptr;
    QAction *m_exportYoloAction = nullptr;
    QAction *m_exportVocAction = nullptr;
    QAction *m_exportMotAction = nullptr;
    QAction *m_copyImagesAction = nullptr;
    QAction *m_openOutputAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_pasteAction = nullptr;
    QAction *m_selectAllAction = nullptr;
    QAction *m_removeAction = nullptr;
    QAction *m_clearAction = nullptr;
    QAction *m_zoomInAction = nullptr;
    QAction *m_zoomOutAction = nullptr;
    QAction *m_startPauseAction = nullptr;
    QAction *m_cancelAction = nullptr;
    QAction *m_retryAction = nullptr;
    QAction *m_settingsAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QAction *m_shortcutsAction = nullptr;
    QAction *m_openResultsAction = nullptr;
    QAction *m_openStreamAction = nullptr;
    QPointer<LiveWindow> m_live;
    RecentStreams *m_recentStreams = nullptr;
    QAction *m_reviewedOnlyAction = nullptr;
    QAction *m_openAction = nullptr;
    QIcon m_pauseIcon;
    QIcon m_resumeIcon;
    QAction *m_processAgainAction = nullptr;
    QAction *m_showResultAction = nullptr;
    QAction *m_copyPathAction = nullptr;

    int m_thumbStep = 0;     // zoom level, 0 = default size
    bool m_quitWhenDoneArmed = false;
    bool m_quitConfirmed = false;   // asked once: closing again after the saves does not ask again
    bool m_closeWhenSaved = false;  // a close waits for the corrections being saved
    bool m_screenHooked = false;
};

} // namespace edgelens
