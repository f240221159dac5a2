#include "gallerydelegate.h"

#include "galleryitem.h"
#include "gallerymodel.h"
#include "thumbnailcache.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

namespace edgelens {

namespace {

constexpr int kMargin = 6;
constexpr int kGap = 4;

QColor statusColor(GalleryItem::Status status, const QPalette &palette)
{
    switch (status) {
    case GalleryItem::Status::Done:
        return QColor(0x2e, 0x9d, 0x4f);
    case GalleryItem::Status::Failed:
        return QColor(0xd0, 0x3b, 0x2f);
    case GalleryItem::Status::Sending:
    case GalleryItem::Status::Processing:
        return QColor(0x2f, 0x7d, 0xd0);
    case GalleryItem::Status::Cancelled:
    case GalleryItem::Status::Queued:
        break;
    }
    return palette.color(QPalette::Disabled, QPalette::Text);
}

} // namespace

QString GalleryDelegate::statusLine(const QModelIndex &index)
{
    const auto status = index.data(GalleryModel::StatusRole).value<GalleryItem::Status>();
    if (status == GalleryItem::Status::Done) {
        if (index.data(GalleryModel::ResultsOnlyRole).toBool())
            return GalleryModel::tr("result only, no detection data");
        // With several devices, who answered is part of what the user reads.
        const QString device = index.data(GalleryModel::DeviceRole).toString();
        const QString by = device.isEmpty() ? QString() : QStringLiteral(" \u00b7 ") + GalleryModel::tr("by %1").arg(device);
        if (!index.data(GalleryModel::HasDetectionDataRole).toBool())
            return GalleryModel::tr("done (image only)") + by;
        const int n = index.data(GalleryModel::DetectionCountRole).toInt();
        const QString boxes = n == 0 ? GalleryModel::tr("nothing detected") : GalleryModel::tr("%n box(es)", nullptr, n);
        if (index.data(GalleryModel::ReviewedRole).toBool())
            return GalleryModel::tr("\u2714 reviewed, %1").arg(boxes) + by;
        if (index.data(GalleryModel::EditedRole).toBool())
            return GalleryModel::tr("corrected, %1").arg(boxes) + by;
        return GalleryModel::tr("done, %1").arg(boxes) + by;
    }
    if (status == GalleryItem::Status::Failed)
        return GalleryModel::tr("failed: %1").arg(index.data(GalleryModel::ErrorRole).toString());
    return statusName(status);
}

QString GalleryDelegate::groupProgress(const GalleryFilterProxy::GroupSummary &summary)
{
    // Frames still being sampled count towards what the group will have.
    const qint64 total = qMax<qint64>(summary.items, summary.expected);
    QString text = GalleryModel::tr("%1 of %n frame(s) done", nullptr, int(total)).arg(summary.done);
    if (summary.failed > 0)
        text += QStringLiteral(", ") + GalleryModel::tr("%n failed", nullptr, summary.failed);
    if (summary.done > 0)
        text += QStringLiteral(", ") + GalleryModel::tr("%n box(es)", nullptr, summary.boxes);
    return text;
}

GalleryDelegate::GalleryDelegate(ThumbnailCache *cache, QObject *parent)
    : QStyledItemDelegate(parent)
    , m_cache(cache)
{
}

void GalleryDelegate::setThumbnailSize(const QSize &logical)
{
    m_thumbSize = logical;
}

QSize GalleryDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &) const
{
    const int line = option.fontMetrics.height();
    return QSize(2 * m_thumbSize.width() + kGap + 2 * kMargin, m_thumbSize.height() + 3 * line + 2 * kMargin + kGap);
}

void GalleryDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const bool selected = option.state.testFlag(QStyle::State_Selected);
    const QPalette::ColorGroup group = !option.state.testFlag(QStyle::State_Enabled) ? QPalette::Disabled
        : option.state.testFlag(QStyle::State_Active)                              ? QPalette::Normal
                                                                                   : QPalette::Inactive;
    // Styles that highlight only an item's text (Fusion, the default on Linux) would paint no
    // selection at all for a cell whose text we draw ourselves, leaving HighlightedText on
    // Base: unreadable. So the whole cell gets the highlight here.
    if (selected)
        painter->fillRect(option.rect, option.palette.brush(group, QPalette::Highlight));
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    // The style adds hover and focus so the cell looks native on every platform.
    opt.text.clear();
    opt.icon = QIcon();
    opt.features &= ~QStyleOptionViewItem::HasDecoration;
    const QWidget *widget = option.widget;
    QStyle *style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);

    painter->save();
    const QRect r = option.rect.adjusted(kMargin, kMargin, -kMargin, -kMargin);
    const QRect left(r.topLeft(), m_thumbSize);
    const QRect right(QPoint(left.right() + 1 + kGap, r.top()), m_thumbSize);

    const auto status = index.data(GalleryModel::StatusRole).value<GalleryItem::Status>();
    const QString path = index.data(GalleryModel::PathRole).toString();
    const QString resultPath = index.data(GalleryModel::ResultPathRole).toString();
    paintThumbnail(painter, left, m_cache ? m_cache->thumbnail(path) : QImage(), tr("loading…"), option);
    QString rightText;
    QImage resultImage;
    if (status == GalleryItem::Status::Done && !resultPath.isEmpty()) {
        if (m_cache)
            resultImage = m_cache->thumbnail(resultPath);
        rightText = tr("loading…");
    } else if (status == GalleryItem::Status::Done) {
        rightText = tr("not saved");
    } else if (status == GalleryItem::Status::Failed) {
        rightText = tr("failed");
    } else {
        rightText = statusName(status);
    }
    paintThumbnail(painter, right, resultImage, rightText, option);

    const QColor textColor = option.palette.color(group, selected ? QPalette::HighlightedText : QPalette::Text);
    const QFontMetrics fm = option.fontMetrics;
    const int line = fm.height();
    int y = left.bottom() + 1 + kGap;

    QFont bold = option.font;
    bold.setBold(true);
    painter->setFont(bold);
    painter->setPen(textColor);
    QString nameText = index.data(Qt::DisplayRole).toString();
    if (const auto *proxy = qobject_cast<const GalleryFilterProxy *>(index.model());
        proxy && index.data(GalleryFilterProxy::GroupCollapsedRole).toBool()) {
        // The cell stands for the whole video now, not for its first frame.
        const GalleryFilterProxy::GroupSummary summary = proxy->groupSummary(index.data(GalleryModel::GroupRole).toString());
        nameText = GalleryModel::tr("%1 (%n frame(s))", nullptr, summary.items).arg(summary.name);
    }
    const QString name = QFontMetrics(bold).elidedText(nameText, Qt::ElideMiddle, r.width());
    painter->drawText(QRect(r.left(), y, r.width(), line), Qt::AlignLeft | Qt::AlignVCenter, name);
    y += line;

    painter->setFont(option.font);
    const int dot = qMax(6, line / 2);
    painter->setRenderHint(QPainter::Antialiasing, true);
    painter->setPen(Qt::NoPen);
    const bool reviewed = index.data(GalleryModel::ReviewedRole).toBool();
    // Reviewed images stand out in green, as a labeller scanning for what is left expects.
    painter->setBrush(reviewed ? QColor(0x1e, 0x7e, 0x34) : statusColor(status, option.palette));
    painter->drawEllipse(QRect(r.left(), y + (line - dot) / 2, dot, dot));
    painter->setPen(selected ? textColor : statusColor(status, option.palette).darker(status == GalleryItem::Status::Queued ? 100 : 115));
    if (status == GalleryItem::Status::Queued || status == GalleryItem::Status::Cancelled)
        painter->setPen(option.palette.color(group, selected ? QPalette::HighlightedText : QPalette::PlaceholderText));
    const QRect statusRect(r.left() + dot + kGap, y, r.width() - dot - kGap, line);
    painter->drawText(statusRect, Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(statusLine(index), Qt::ElideRight, statusRect.width()));
    y += line;

    const QString labels = index.data(GalleryModel::LabelSummaryRole).toString();
    if (index.data(GalleryFilterProxy::GroupLeadRole).toBool()) {
        paintGroup(painter, option, index);
    } else if (!labels.isEmpty()) {
        painter->setPen(textColor);
        painter->drawText(QRect(r.left(), y, r.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                          fm.elidedText(labels, Qt::ElideRight, r.width()));
    }
    painter->restore();
}

QRect GalleryDelegate::groupLineRect(const QStyleOptionViewItem &option) const
{
    // The cell's third text line, under the name and the status.
    const QRect r = option.rect.adjusted(kMargin, kMargin, -kMargin, -kMargin);
    const int line = option.fontMetrics.height();
    return QRect(r.left(), r.top() + m_thumbSize.height() + kGap + 2 * line, r.width(), line);
}

void GalleryDelegate::paintGroup(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const auto *proxy = qobject_cast<const GalleryFilterProxy *>(index.model());
    if (!proxy)
        return;
    const QString group = index.data(GalleryModel::GroupRole).toString();
    const GalleryFilterProxy::GroupSummary summary = proxy->groupSummary(group);
    const bool collapsed = index.data(GalleryFilterProxy::GroupCollapsedRole).toBool();
    const QRect lineRect = groupLineRect(option);

    // Progress of the whole group as a bar behind its line.
    const qint64 total = qMax<qint64>(summary.items, summary.expected);
    QColor track = option.palette.color(QPalette::Base).darker(112);
    painter->setPen(Qt::NoPen);
    painter->setBrush(track);
    painter->drawRoundedRect(lineRect, 3, 3);
    if (total > 0 && summary.done > 0) {
        QRect doneRect = lineRect;
        doneRect.setWidth(int(qint64(lineRect.width()) * qMin<qint64>(summary.done, total) / total));
        painter->setBrush(QColor(0x2e, 0x9d, 0x4f, 90));
        painter->drawRoundedRect(doneRect, 3, 3);
    }
    QFont bold = option.font;
    bold.setBold(true);
    painter->setFont(bold);
    // On its own light track, so never the selection's text colour.
    painter->setPen(option.palette.color(QPalette::Normal, QPalette::Text));
    QString text = (collapsed ? QStringLiteral("\u25b8 ") : QStringLiteral("\u25be ")) + summary.name + QStringLiteral(": ")
        + groupProgress(summary);
    if (!summary.note.isEmpty())
        text += QStringLiteral(" \u00b7 ") + summary.note;
    painter->drawText(lineRect.adjusted(4, 0, -4, 0), Qt::AlignLeft | Qt::AlignVCenter,
                      QFontMetrics(bold).elidedText(text, Qt::ElideRight, lineRect.width() - 8));
    if (collapsed) {
        // A stack of cards: the cell stands for more than one image.
        painter->setPen(QPen(option.palette.color(QPalette::Mid), 1));
        painter->setBrush(Qt::NoBrush);
        const QRect r = option.rect.adjusted(2, 2, -3, -3);
        painter->drawRect(r);
        painter->drawRect(r.adjusted(2, 2, -2, -2));
    }
}

bool GalleryDelegate::editorEvent(QEvent *event, QAbstractItemModel *model, const QStyleOptionViewItem &option,
                                  const QModelIndex &index)
{
    if (event->type() == QEvent::MouseButtonRelease && index.data(GalleryFilterProxy::GroupLeadRole).toBool()) {
        const auto *mouse = static_cast<QMouseEvent *>(event);
        if (mouse->button() == Qt::LeftButton && groupLineRect(option).contains(mouse->position().toPoint())) {
            emit groupToggleRequested(index.data(GalleryModel::GroupRole).toString());
            return true;
        }
    }
    return QStyledItemDelegate::editorEvent(event, model, option, index);
}

void GalleryDelegate::paintThumbnail(QPainter *painter, const QRect &box, const QImage &image,
                                     const QString &placeholder, const QStyleOptionViewItem &option) const
{
    const bool broken = !image.isNull() && !image.text(QStringLiteral("edgelens-error")).isEmpty();
    if (image.isNull() || broken) {
        QColor fill = option.palette.color(QPalette::Base).darker(106);
        painter->fillRect(box, fill);
        painter->setPen(option.palette.color(QPalette::Disabled, QPalette::Text));
        painter->drawText(box, Qt::AlignCenter | Qt::TextWordWrap, broken ? tr("cannot read image") : placeholder);
        return;
    }
    // The image is in device pixels; its logical size decides where it goes.
    QSizeF logical = QSizeF(image.size()) / image.devicePixelRatio();
    if (logical.width() > box.width() || logical.height() > box.height())
        logical = logical.scaled(box.size(), Qt::KeepAspectRatio);
    const QRectF target(box.x() + (box.width() - logical.width()) / 2.0, box.y() + (box.height() - logical.height()) / 2.0,
                        logical.width(), logical.height());
    painter->drawImage(target, image);
}

bool GalleryDelegate::helpEvent(QHelpEvent *event, QAbstractItemView *view, const QStyleOptionViewItem &option,
                                const QModelIndex &index)
{
    if (event && event->type() == QEvent::ToolTip && index.isValid()) {
        QToolTip::showText(event->globalPos(), index.data(Qt::ToolTipRole).toString(), view);
        return true;
    }
    return QStyledItemDelegate::helpEvent(event, view, option, index);
}

} // namespace edgelens
