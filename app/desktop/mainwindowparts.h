#pragma once

// What the main window is made of besides its widgets, owned in dependency order: each member
// may use those declared above it, and C++ destroys members in reverse order, so every
// controller goes before what it listens to without a hand-kept list of deletes. The gallery's
// model, proxy, thumbnails and views stay children of the window: they depend on none of these
// and Qt deletes them after the window's members, so they outlive everything that uses them.
//
// Tests and the bench reach a collaborator through MainWindow::parts(); the window keeps owning
// them all.

#include <QtGlobal>

#include <memory>

class QObject;
class QStatusBar;
class QString;
class QWidget;

namespace edgelens {

class AnnotationSaver;
class DetailController;
class DetectionClient;
class EmbeddedServer;
class ExportController;
class GalleryFilterProxy;
class GalleryModel;
class GalleryView;
class ImageCollector;
class ProcessingQueue;
class SessionController;
class StatusPresenter;
class TargetController;
class ThumbnailCache;
class TrustPrompter;

class MainWindowParts final
{
    Q_DISABLE_COPY_MOVE(MainWindowParts)

public:
    // The gallery the window built; window is the parent of the dialogs the parts open.
    struct Gallery
    {
        GalleryModel *model = nullptr;
        GalleryFilterProxy *proxy = nullptr;
        GalleryView *view = nullptr;
        ThumbnailCache *thumbnails = nullptr;
        QStatusBar *statusBar = nullptr;
        QWidget *window = nullptr;
    };

    MainWindowParts(const Gallery &gallery, const QString &sessionFile);
    // Stops the scan and the embedded server while everything still exists (stopping reports a
    // state change to the status bar), then the members go, last declared first.
    ~MainWindowParts();

    // Nothing the parts still say while they go (a scan's end, the server's last state) may
    // reach receiver, the window whose own members are being destroyed.
    void disconnectFrom(const QObject *receiver) const;

    ImageCollector *collector() const { return m_collector.get(); }
    DetectionClient *client() const { return m_client.get(); }
    ProcessingQueue *queue() const { return m_queue.get(); }
    EmbeddedServer *embedded() const { return m_embedded.get(); }
    StatusPresenter *status() const { return m_status.get(); }
    TargetController *target() const { return m_target.get(); }
    TrustPrompter *trust() const { return m_trust.get(); }
    ExportController *exporter() const { return m_exporter.get(); }
    SessionController *session() const { return m_session.get(); }
    DetailController *details() const { return m_details.get(); }
    AnnotationSaver *annotations() const { return m_annotations.get(); }

private:
    const std::unique_ptr<ImageCollector> m_collector;
    const std::unique_ptr<DetectionClient> m_client;
    const std::unique_ptr<ProcessingQueue> m_queue;
    const std::unique_ptr<EmbeddedServer> m_embedded;
    const std::unique_ptr<StatusPresenter> m_status;
    const std::unique_ptr<TargetController> m_target;
    const std::unique_ptr<TrustPrompter> m_trust;
    const std::unique_ptr<ExportController> m_exporter;
    const std::unique_ptr<SessionController> m_session;
    const std::unique_ptr<DetailController> m_details;
    const std::unique_ptr<AnnotationSaver> m_annotations; // its destructor writes what is pending
};

} // namespace edgelens
