#pragma once

// Paints one gallery cell: the original and the marked-up result side by side, the file
// name, the processing status (with the device that answered) and the top labels. Thumbnails come from ThumbnailCache;
// asking for them from paint() is what makes visible items load first.

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

    bool helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
                   const QModelIndex &index) override;

private:
    void paintThumbnail(QPainter *painter, const QRect &box, const QImage &image, const QString &placeholder,
                        const QStyleOptionViewItem &option) const;

    ThumbnailCache *m_cache;
    QSize m_thumbSize{160, 120};
};

} // namespace edgelens
