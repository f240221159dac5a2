// MainWindow's live view: File > Open Stream…, `edgelens --live SOURCE`, and the frames it
// keeps joining the gallery (the window's other parts are in mainwindow.cpp and
// mainwindowactions.cpp).

#include "mainwindow.h"

#include "gallerymodel.h"
#include "live/livewindow.h"
#include "live/openstreamdialog.h"
#include "live/recentstreams.h"
#include "live/snapshotwriter.h"
#include "mainwindowparts.h"
#include "targetcontroller.h"

#include <QFileInfo>
#include <QMessageBox>
#include <QStatusBar>

namespace edgelens {

namespace {

constexpr int kLiveStatusMs = 2000; // refreshed twice a second while live

} // namespace

void MainWindow::openStream()
{
    if (!m_recentStreams)
        m_recentStreams = new RecentStreams(this);
    OpenStreamDialog dialog(m_recentStreams, this);
    if (dialog.exec() != QDialog::Accepted || !dialog.chosen())
        return;
    openLive(*dialog.chosen());
}

void MainWindow::openLiveFromOptions()
{
    QString error;
    const std::optional<StreamSpec> spec = StreamSpec::parse(m_options.live, &error);
    if (!spec) {
        QMessageBox::warning(this, tr("Live View"), tr("--live: %1").arg(error));
        return;
    }
    openLive(*spec);
}

LiveWindow *MainWindow::liveWindow() const
{
    return m_live.data();
}

LiveWindow *MainWindow::openLive(const StreamSpec &spec)
{
    delete m_live.data(); // one live view at a time
    // The embedded server starts on demand: the live view needs it now.
    m_parts->target()->ensureReady();
    auto *live = new LiveWindow(m_parts->client(), spec, SnapshotWriter::defaultFolder(), this);
    m_live = live;
    connect(live, &LiveWindow::frameKept, this, &MainWindow::addKeptFrame);
    connect(live, &LiveWindow::statusChanged, this,
            [this](const QString &text) { statusBar()->showMessage(text, kLiveStatusMs); });
    live->show();
    live->start();
    return live;
}

void MainWindow::addKeptFrame(const QString &path, const ImageOrigin &origin)
{
    // Like a photo, but it keeps its origin (the stream, frame index and time) for its sidecar
    // and exports, and the frames of one stream stay together in the gallery.
    const QFileInfo file(path);
    GalleryModel::NewImage image;
    image.path = file.canonicalFilePath();
    if (image.path.isEmpty())
        return; // removed meanwhile
    image.size = file.size();
    image.modified = file.lastModified();
    image.origin = origin;
    image.group = origin.source;
    image.groupOrder = origin.frameIndex;
    const QList<int> rows = m_model->addImages({image});
    QStringList paths;
    for (int row : rows)
        paths.append(m_model->item(row).path);
    enqueueNew(paths);
}

} // namespace edgelens
