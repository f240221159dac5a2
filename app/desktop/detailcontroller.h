#pragma once

// The detail window next to the gallery: opens an image full size (one window, reused),
// browses to the next/previous image in the order the gallery shows (Alt+Right/Alt+Left),
// and follows the image when its result arrives while the window is open.

#include <QObject>
#include <QPointer>

class QModelIndex;
class QWidget;

namespace edgelens {

class DetailView;
class GalleryFilterProxy;
class GalleryModel;
class GalleryView;

class DetailController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetailController)

public:
    // window: the detail view's parent (it is a window of its own, owned by this one).
    DetailController(GalleryModel *model, GalleryFilterProxy *proxy, GalleryView *view, QWidget *window);

    void show(const QModelIndex &proxyIndex);
    void step(int delta); // +1 next, -1 previous, in the gallery's current order
    void refresh(const QString &path); // path's item changed; updates an open view showing it
    DetailView *view() const; // the open detail window, or null

private:
    GalleryModel *m_model;
    GalleryFilterProxy *m_proxy;
    GalleryView *m_view;
    QWidget *m_window;
    QPointer<DetailView> m_detail;
};

} // namespace edgelens
