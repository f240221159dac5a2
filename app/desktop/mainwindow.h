#pragma once

// The EdgeLens window: a gallery of the images the user brought in, what the detector made
// of them, and the controls for sending them. Logic lives in the classes it wires together
// (GalleryModel, ProcessingQueue, ImageCollector, ThumbnailCache, EmbeddedServer); this
// class owns the widgets, actions and status reporting.

#include "appoptions.h"
#include "widgets/appsettings.h"

#include <QFuture>
#include <QIcon>
#include <QMainWindow>
#include <QPointer>

class QAction;
class QComboBox;
class QLabel;
class QMimeData;
class QProgressBar;
class QTimer;
class QToolButton;

namespace edgelens {

class DetailView;
class DetectionClient;
class EmbeddedServer;
class GalleryDelegate;
class GalleryFilterProxy;
class GalleryModel;
class GalleryView;
class ImageCollector;
class ProcessingQueue;
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

    // For tests and scripting.
    GalleryModel *galleryModel() const { return m_model; }
    GalleryFilterProxy *galleryProxy() const { return m_proxy; }
    GalleryView *galleryView() const { return m_view; }
    ProcessingQueue *processingQueue() const { return m_queue; }
    ThumbnailCache *thumbnailCache() const { return m_thumbnails; }
    EmbeddedServer *embeddedServer() const { return m_embedded; }
    DetectionClient *detectionClient() const { return m_client; }
    bool isCollecting() const;
    bool isSessionRestored() const { return m_sessionRestored; } // true at once without a session file
    void saveSession() { saveSessionNow(); }
    // File > Export without the dialogs: format "coco" (target = file), "yolo" or "voc"
    // (target = folder), for the selected images (all when fewer than two are selected).
    // *message says what happened, for the status bar or an error box.
    bool exportDetectionsTo(const QString &format, const QString &target, QString *message);
    QString statusText() const; // the status bar's state label, as the user reads it

signals:
    void allDone(); // nothing collecting, queued or in flight

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void dragLeaveEvent(QDragLeaveEvent *event) override;
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createToolBar();
    void createStatusBar();
    void restoreWindowState();
    void saveWindowState() const;

    void addImages();
    void addFolder();
    void rememberLastFolder(const QString &folder);
    void pasteFromClipboard();
    void removeSelected();
    void clearGallery();
    void startOrPause();
    void cancelProcessing();
    void retryFailed();
    void openSettings();
    void exportDetections(const QString &format);
    void copyMarkedUpImages();
    void openOutputFolder();
    void showAbout();
    void showDetail(const QModelIndex &proxyIndex);
    void stepDetail(int delta);
    void processSelectedAgain();
    void showContextMenu(const QPoint &pos);
    void zoomThumbnails(int step);

    void ensureTarget();
    void applyTarget();
    void handleCollectFinished(int found, int skipped, const QStringList &missing);
    void updateProgress();
    void updateConnectionStatus();
    void updateActions();
    void updateLabelFilter();
    void updateEmptyText();
    void checkAllDone();
    void restoreSession();
    void scheduleSessionSave();
    void saveSessionNow();
    void showError(const QString &message);
    QList<int> selectedSourceRows() const;
    QList<int> exportRows() const;

    AppSettings m_settings;
    AppOptions m_options;

    GalleryModel *m_model = nullptr;
    GalleryFilterProxy *m_proxy = nullptr;
    GalleryView *m_view = nullptr;
    GalleryDelegate *m_delegate = nullptr;
    ThumbnailCache *m_thumbnails = nullptr;
    ImageCollector *m_collector = nullptr;
    DetectionClient *m_client = nullptr;
    ProcessingQueue *m_queue = nullptr;
    EmbeddedServer *m_embedded = nullptr;
    QPointer<DetailView> m_detail;

    QComboBox *m_statusFilter = nullptr;
    QComboBox *m_labelFilter = nullptr;
    QComboBox *m_sortBox = nullptr;
    QToolButton *m_sortOrder = nullptr;
    QToolButton *m_exportButton = nullptr;
    QLabel *m_targetLabel = nullptr;
    QLabel *m_stateLabel = nullptr;
    QLabel *m_rateLabel = nullptr;
    QProgressBar *m_progress = nullptr;
    QTimer *m_statusTimer = nullptr;

    QAction *m_addImagesAction = nullptr;
    QAction *m_addFolderAction = nullptr;
    QAction *m_exportCocoAction = nullptr;
    QAction *m_exportYoloAction = nullptr;
    QAction *m_exportVocAction = nullptr;
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
    QAction *m_openAction = nullptr;
    QIcon m_pauseIcon;
    QIcon m_resumeIcon;
    QAction *m_processAgainAction = nullptr;
    QAction *m_showResultAction = nullptr;
    QAction *m_copyPathAction = nullptr;

    QString m_serverModel;   // from server-info
    QString m_serverVersion;
    double m_latencyMs = -1;
    QString m_lastError;
    QString m_outage; // non-empty while the queue holds for a lost connection
    int m_thumbStep = 0;     // zoom level, 0 = default size
    bool m_quitWhenDoneArmed = false;
    bool m_screenHooked = false;
    int m_statusTicks = 0;
    QTimer *m_sessionTimer = nullptr;
    QFuture<bool> m_sessionSave;
    bool m_sessionRestored = false;
};

} // namespace edgelens
