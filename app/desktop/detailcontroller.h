#pragma once

// The detail window next to the gallery: opens an image full size (one window, reused),
// browses in the order the gallery shows, runs the keyboard review flow (accept and go to
// the next image not reviewed yet, copy the previous image's boxes), passes the user's
// corrections to the gallery model (which has them saved), and follows the image when its
// result arrives while the window is open. A frame of a video also steps to the frame before
// or after it in the same video, whether the gallery shows them or not (a collapsed video),
// and its boxes carry the track ids that follow an object across the video's frames.

#include "results/annotation.h"

#include <QCoreApplication>
#include <QList>
#include <QObject>
#include <QPair>
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
    void stepFrame(int delta); // +1 next, -1 previous frame of the shown frame's video
    // Marks the shown image reviewed and opens the next one not reviewed yet (after it in the
    // gallery's order, then from the top). False when every image is reviewed.
    bool acceptAndNext();
    void toggleReviewed();
    void copyPreviousBoxes(); // the previous image's accepted boxes replace these (undoable)
    void refresh(const QString &path); // path's item changed; updates an open view showing it
    DetailView *view() const; // the open detail window, or null

    // The review flow's keys, for the Help menu.
    static QList<QPair<QString, QString>> shortcutHelp();

signals:
    void message(const QString &text);

private:
    int shownSourceRow() const;
    void showSourceRow(int row);
    void showRow(int row);
    void createView();
    QList<int> framesOf(const QString &group) const; // rows of the group in frame order
    void updateFramePosition(int row);
    // A frame's boxes at or above the threshold with the track ids an export would give them.
    Annotation annotationWithTrackIds(int row) const;

    GalleryModel *m_model;
    GalleryFilterProxy *m_proxy;
    GalleryView *m_view;
    QWidget *m_window;
    QPointer<DetailView> m_detail;
};

} // namespace edgelens
