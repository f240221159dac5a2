#include "detailcontroller.h"

#include "galleryfilterproxy.h"
#include "gallerymodel.h"
#include "galleryview.h"
#include "widgets/detailview.h"

#include <QKeySequence>
#include <QScreen>
#include <QShortcut>
#include <QWidget>

#include <functional>

namespace edgelens {

namespace {
// Which gallery item an open detail view shows (its canonical path).
const char kPathProperty[] = "edgelensPath";
}

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

void DetailController::show(const QModelIndex &proxyIndex)
{
    const QModelIndex source = m_proxy->mapToSource(proxyIndex);
    if (!source.isValid())
        return;
    const GalleryItem &it = m_model->item(source.row());
    if (!m_detail) {
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
        addShortcut(QKeySequence(Qt::Key_Escape), [this] { m_detail->close(); });
    }
    m_detail->setWindowTitle(tr("%1 – EdgeLens").arg(it.fileName));
    m_detail->setProperty(kPathProperty, it.path);
    m_detail->showItem(it.path, it.resultPath, it.result, it.hasDetectionData);
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
    m_detail->showItem(it.path, it.resultPath, it.result, it.hasDetectionData);
}

void DetailController::step(int delta)
{
    // Next/previous in the order the gallery shows, so filters and sorting carry over.
    if (!m_detail)
        return;
    const int sourceRow = m_model->rowOfPath(m_detail->property(kPathProperty).toString());
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
    show(next);
}

} // namespace edgelens
