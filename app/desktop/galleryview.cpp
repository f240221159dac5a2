#include "galleryview.h"

#include <QPainter>
#include <QPaintEvent>

namespace edgelens {

GalleryView::GalleryView(QWidget *parent)
    : QListView(parent)
    , m_emptyTitle(tr("Drop images here"))
    , m_emptyHint(tr("or use File \u25b8 Add Images\u2026 / Add Folder\u2026"))
{
    setViewMode(QListView::IconMode);
    setMovement(QListView::Static);
    setResizeMode(QListView::Adjust);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    // Every cell has the same size, so the layout never has to ask 10,000 delegates.
    setUniformItemSizes(true);
    setLayoutMode(QListView::Batched);
    setBatchSize(500);
    setSpacing(4);
    setWordWrap(false);
    setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    setMouseTracking(true);
    // Drops belong to the main window (anywhere on it), not to the list's own drag-and-drop.
    setDragEnabled(false);
    setAcceptDrops(false);
    viewport()->setAcceptDrops(false);
    setDragDropMode(QAbstractItemView::NoDragDrop);
}

void GalleryView::setEmptyText(const QString &title, const QString &hint)
{
    m_emptyTitle = title;
    m_emptyHint = hint;
    viewport()->update();
}

void GalleryView::setDropHighlight(bool on)
{
    if (on == m_dropHighlight)
        return;
    m_dropHighlight = on;
    viewport()->update();
}

void GalleryView::paintEvent(QPaintEvent *event)
{
    QListView::paintEvent(event);
    if (m_dropHighlight) {
        QPainter painter(viewport());
        QColor highlight = palette().color(QPalette::Highlight);
        painter.setPen(QPen(highlight, 3));
        highlight.setAlpha(28);
        painter.setBrush(highlight);
        painter.drawRect(viewport()->rect().adjusted(1, 1, -2, -2));
    }
    if (model() && model()->rowCount(rootIndex()) > 0)
        return;
    QPainter painter(viewport());
    const QRect area = viewport()->rect();
    QColor ink = palette().color(QPalette::Disabled, QPalette::Text);

    const QRect frame = area.adjusted(area.width() / 6, area.height() / 5, -area.width() / 6, -area.height() / 5);
    QPen pen(ink, 2, Qt::DashLine);
    painter.setRenderHint(QPainter::Antialiasing, true);
    painter.setPen(pen);
    painter.drawRoundedRect(frame, 12, 12);

    QFont big = font();
    big.setPointSizeF(big.pointSizeF() * 1.8);
    big.setBold(true);
    painter.setFont(big);
    const int titleHeight = QFontMetrics(big).height();
    const QRect titleRect(frame.left(), frame.center().y() - titleHeight, frame.width(), titleHeight);
    painter.drawText(titleRect, Qt::AlignCenter, m_emptyTitle);
    painter.setFont(font());
    painter.drawText(QRect(frame.left(), titleRect.bottom() + 8, frame.width(), fontMetrics().height() * 2),
                     Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap, m_emptyHint);
}

} // namespace edgelens
