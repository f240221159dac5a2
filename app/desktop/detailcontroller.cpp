#include "detailcontroller.h"

#include "export/trackassigner.h"
#include "models/modelcatalog.h"
#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "widgets/detailview.h"

#include <QFileInfo>
#include <QKeySequence>
#include <QScreen>
#include <QShortcut>
#include <QWidget>

#include <algorithm>
#include <functional>
#include <optional>

namespace edgelens {

namespace {
// Which gallery item an open detail view shows (its canonical path).
const char kPathProperty[] = "edgelensPath";

bool reviewable(const GalleryItem &it)
{
    return it.status == GalleryItem::Status::Done && it.hasDetectionData;
}

// The model's classes (their ids kept), when the catalog knows the model.
QStringList classNamesOf(const GalleryItem &it)
{
    if (!it.result.model.isEmpty()) {
        if (const std::optional<ModelManifest> manifest = ModelCatalog().find(it.result.model))
            return manifest->classNames;
    }
    return {};
}
} // namespace

DetailController::DetailController(GalleryModel *model, GalleryFilterProxy *proxy, GalleryView *view, QWidget *window)
    : QObject(window)
    , m_model(model)
    , m_proxy(proxy)
    , m_view(view)
    , m_window(window)
{
}

DetailView *DetailController::view() const
{
    return m_detail;
}

QList<QPair<QString, QString>> DetailController::shortcutHelp()
{
    return {
        {tr("D, Alt+Right"), tr("Next image")},
        {tr("A, Alt+Left"), tr("Previous image")},
        {tr("Space"), tr("Accept the image as reviewed and go to the next one not reviewed")},
        {tr("R"), tr("Mark the image reviewed / not reviewed")},
        {tr("C"), tr("Copy the previous image's boxes onto this one (undoable)")},
        {tr(", / ."), tr("Previous / next frame of the same video")},
        {tr("Esc"), tr("Close the detail window")},
    };
}

void DetailController::show(const QModelIndex &proxyIndex)
{
    const QModelIndex source = m_proxy->mapToSource(proxyIndex);
    if (source.isValid())
        showRow(source.row());
}

void DetailController::createView()
{
    m_detail = new DetailView(m_window);
    m_detail->setWindowFlag(Qt::Window, true);
    m_detail->setAttribute(Qt::WA_DeleteOnClose, true);
    const QRect avail = m_window->screen() ? m_window->screen()->availableGeometry() : QRect(0, 0, 1280, 800);
    m_detail->resize((QSizeF(avail.size()) * 0.75).toSize());
    // Browse without going back to the gallery; PageUp/PageDown stay with the image view.
    const auto addShortcut = [this](const QKeySequence &keys, const std::function<void()> &what) {
        auto *shortcut = new QShortcut(keys, m_detail);
        connect(shortcut, &QShortcut::activated, this, what);
    };
    addShortcut(QKeySequence(Qt::ALT | Qt::Key_Right), [this] { step(+1); });
    addShortcut(QKeySequence(Qt::ALT | Qt::Key_Left), [this] { step(-1); });
    addShortcut(QKeySequence(Qt::Key_D), [this] { step(+1); });
    addShortcut(QKeySequence(Qt::Key_A), [this] { step(-1); });
    addShortcut(QKeySequence(Qt::Key_Space), [this] { acceptAndNext(); });
    addShortcut(QKeySequence(Qt::Key_R), [this] { toggleReviewed(); });
    addShortcut(QKeySequence(Qt::Key_C), [this] { copyPreviousBoxes(); });
    addShortcut(QKeySequence(Qt::Key_Escape), [this] { m_detail->close(); });
    connect(m_detail, &DetailView::annotationEdited, this,
            [this](const QString &path, const DetectionResult &model, const Annotation &annotation) {
                const int row = m_model->rowOfPath(path);
                if (row >= 0)
                    m_model->setAnnotation(row, model, annotation);
            });
    connect(m_detail, &DetailView::frameStepRequested, this, &DetailController::stepFrame);
    addShortcut(QKeySequence(Qt::Key_Period), [this] { stepFrame(+1); });
    addShortcut(QKeySequence(Qt::Key_Comma), [this] { stepFrame(-1); });
}

void DetailController::showRow(int row)
{
    if (row < 0 || row >= m_model->rowCount())
        return;
    const GalleryItem &it = m_model->item(row);
    if (!m_detail)
        createView();
    m_detail->setWindowTitle(tr("%1 – EdgeLens").arg(it.fileName));
    m_detail->setProperty(kPathProperty, it.path);
    // The picker offers the model's classes (their ids kept) and every label in the gallery.
    m_detail->setLabelChoices(classNamesOf(it), m_model->allLabels());
    m_detail->setNoDataText(it.resultsOnly
                                ? tr("No detection data: this marked-up image was opened from an output folder "
                                     "without JSON sidecars, so there are no boxes to review or export.")
                                : QString());
    m_detail->showItem(it.path, it.resultPath, it.result, it.hasDetectionData, annotationWithTrackIds(row));
    updateFramePosition(row);
    m_detail->show();
    m_detail->raise();
    m_detail->activateWindow();
}

void DetailController::refresh(const QString &path)
{
    // Keep an open detail view truthful when its image finishes in the background.
    if (!m_detail || m_detail->property(kPathProperty).toString() != path)
        return;
    const int row = m_model->rowOfPath(path);
    if (row < 0)
        return;
    const GalleryItem &it = m_model->item(row);
    m_detail->showItem(it.path, it.resultPath, it.result, it.hasDetectionData, annotationWithTrackIds(row));
    updateFramePosition(row);
}

Annotation DetailController::annotationWithTrackIds(int row) const
{
    const GalleryItem &shown = m_model->item(row);
    Annotation annotation = shown.annotation;
    if (shown.origin.isPhoto() || !reviewable(shown))
        return annotation;
    // What an export of the gallery gives (ExportController, TrackAssigner::assignVideoTracks
    // over every finished item: ids are unique across videos), so the view and the files agree.
    // Nothing is stored until a person changes the frame: then its boxes keep these ids.
    QList<ExportItem> items;
    int shownAt = -1;
    for (int r = 0; r < m_model->rowCount(); ++r) {
        const GalleryItem &it = m_model->item(r);
        if (!reviewable(it))
            continue;
        if (r == row)
            shownAt = int(items.size());
        items.append(ExportItem{it.path, it.result.imageWidth, it.result.imageHeight, it.annotation.accepted(), it.origin});
    }
    TrackAssigner::assignVideoTracks(items, classNamesOf(shown));
    const QList<Detection> &tracked = items.at(shownAt).detections;
    qsizetype next = 0;
    for (Detection &box : annotation.boxes) {
        if (Annotation::passes(box, annotation.threshold) && next < tracked.size())
            box.trackId = tracked.at(next++).trackId;
    }
    return annotation;
}

int DetailController::shownSourceRow() const
{
    return m_detail ? m_model->rowOfPath(m_detail->property(kPathProperty).toString()) : -1;
}

void DetailController::showSourceRow(int row)
{
    // The gallery follows when it shows the item (a collapsed video shows only its first frame).
    const QModelIndex next = m_proxy->mapFromSource(m_model->index(row));
    if (next.isValid()) {
        m_view->setCurrentIndex(next);
        m_view->scrollTo(next);
    }
    showRow(row);
}

QList<int> DetailController::framesOf(const QString &group) const
{
    QList<int> rows;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        if (m_model->item(row).group == group)
            rows.append(row);
    }
    std::sort(rows.begin(), rows.end(), [this](int a, int b) {
        return m_model->item(a).groupOrder < m_model->item(b).groupOrder;
    });
    return rows;
}

void DetailController::stepFrame(int delta)
{
    const int row = shownSourceRow();
    if (row < 0 || m_model->item(row).group.isEmpty())
        return;
    const QList<int> frames = framesOf(m_model->item(row).group);
    const qsizetype at = frames.indexOf(row) + delta;
    if (at >= 0 && at < frames.size())
        showSourceRow(frames.at(at));
}

void DetailController::updateFramePosition(int row)
{
    const GalleryItem &it = m_model->item(row);
    if (it.group.isEmpty()) {
        m_detail->setFramePosition(QString(), false, false);
        return;
    }
    const QList<int> frames = framesOf(it.group);
    const qsizetype at = frames.indexOf(row);
    QString caption = tr("%1, frame %2 (%3 of %4 sampled)")
                          .arg(QFileInfo(it.group).fileName())
                          .arg(it.groupOrder)
                          .arg(at + 1)
                          .arg(frames.size());
    // The decoder's time of the frame; on a variable-frame-rate file it is not index / fps.
    if (it.origin.timestampMs >= 0)
        caption += tr(" at %1 s").arg(it.origin.timestampMs / 1000.0, 0, 'f', 3);
    if (it.origin.variableFrameRate)
        caption += tr(" \u00b7 variable frame rate: times are the decoder's");
    m_detail->setFramePosition(caption, at > 0, at >= 0 && at + 1 < frames.size());
}

void DetailController::step(int delta)
{
    // Next/previous in the order the gallery shows, so filters and sorting carry over.
    const int sourceRow = shownSourceRow();
    if (sourceRow < 0)
        return;
    const QModelIndex current = m_proxy->mapFromSource(m_model->index(sourceRow));
    if (!current.isValid())
        return;
    const QModelIndex next = m_proxy->index(current.row() + delta, 0);
    if (!next.isValid())
        return;
    showSourceRow(m_proxy->mapToSource(next).row());
}

bool DetailController::acceptAndNext()
{
    const int sourceRow = shownSourceRow();
    if (sourceRow < 0)
        return false;
    m_detail->setReviewed(true);
    const QModelIndex current = m_proxy->mapFromSource(m_model->index(sourceRow));
    const int count = m_proxy->rowCount();
    // A "not reviewed" filter drops the accepted image from the list: start at its old place.
    const int start = current.isValid() ? current.row() + 1 : 0;
    for (int i = 0; i < count; ++i) {
        const int proxyRow = (start + i) % count;
        const int row = m_proxy->mapToSource(m_proxy->index(proxyRow, 0)).row();
        if (row == sourceRow || row < 0)
            continue;
        const GalleryItem &it = m_model->item(row);
        if (reviewable(it) && !it.annotation.reviewed) {
            showSourceRow(row);
            return true;
        }
    }
    emit message(tr("Every image in the gallery is reviewed (%n image(s)).", nullptr, m_model->reviewedCount()));
    return false;
}

void DetailController::toggleReviewed()
{
    const int row = shownSourceRow();
    if (row >= 0)
        m_detail->setReviewed(!m_model->item(row).annotation.reviewed);
}

void DetailController::copyPreviousBoxes()
{
    const int sourceRow = shownSourceRow();
    const QModelIndex current = sourceRow >= 0 ? m_proxy->mapFromSource(m_model->index(sourceRow)) : QModelIndex();
    if (!current.isValid())
        return;
    for (int proxyRow = current.row() - 1; proxyRow >= 0; --proxyRow) {
        const GalleryItem &previous = m_model->item(m_proxy->mapToSource(m_proxy->index(proxyRow, 0)).row());
        if (!previous.hasDetectionData)
            continue;
        m_detail->replaceBoxes(previous.annotation.accepted(), tr("Copy the boxes of %1").arg(previous.fileName));
        emit message(tr("Copied %n box(es) from %1 (Ctrl+Z undoes).", nullptr,
                        int(previous.annotation.accepted().size())).arg(previous.fileName));
        return;
    }
    emit message(tr("No previous image with boxes to copy."));
}

} // namespace edgelens
