#pragma once

// Paints one gallery cell: the original and the marked-up result side by side, the file
// name, the processing status (with the device that answered) and the top labels. Thumbnails come from ThumbnailCache;
// asking for them from paint() is what makes visible items load first. The first cell of a
// group (a video's frames) carries the group's line, "▾ clip.mp4: 12 of 60 frames done", and a
// progress bar; a click on that line collapses the group into that one cell or opens it again.

#include "galleryfilterproxy.h"

#include <QStyledItemDelegate>

namespace edgelens {

class ThumbnailCache;

class GalleryDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GalleryDelegate)

public:
    GalleryDelegate(ThumbnailCache *cache, QObject *parent = nullptr);

    // Logical size of one thumbnail box; the cache is asked for it in device pixels.
    void setThumbnailSize(const QSize &logical);
    QSize thumbnailSize() const { return m_thumbSize; }

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    // The cell's second line as painted: "done, 3 box(es) · by pi.local:6000", "failed: why".
    static QString statusLine(const QModelIndex &index);
    // A group's progress as its line says it: "12 of 60 frames done, 40 boxes".
    static QString groupProgress(const GalleryFilterProxy::GroupSummary &summary);

    // Where a group's first cell shows the group's line (a click there collapses or opens it).
    QRect groupLineRect(const QStyleOptionViewItem &option) const;

    bool editorEvent(QEvent *event, QAbstractItemModel *model, const QStyleOptionViewItem &option,
                     const QModelIndex &index) override;

    bool helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
                   const QModelIndex &index) override;

signals:
    void groupToggleRequested(const QString &group); // its line was clicked

private:
    void paintGroup(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const;
    void paintThumbnail(QPainter *painter, const QRect &box, const QImage &image, const QString &placeholder,
                        const QStyleOptionViewItem &option) const;

    ThumbnailCache *m_cache;
    QSize m_thumbSize{160, 120};
};

} // namespace edgelens
