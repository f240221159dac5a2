#include "galleryfilterproxy.h"

#include "gallerymodel.h"

#include <QDateTime>

namespace edgelens {

namespace {

// Natural order ("img2" before "img10"), case-insensitive: what people expect from a photo
// browser. Done by hand because QCollator's numeric mode depends on ICU and the locale
// (the "C" locale of a CI machine has none).
int naturalCompare(const QString &a, const QString &b)
{
    qsizetype i = 0;
    qsizetype j = 0;
    while (i < a.size() && j < b.size()) {
        const QChar ca = a.at(i);
        const QChar cb = b.at(j);
        if (ca.isDigit() && cb.isDigit()) {
            qsizetype ei = i;
            qsizetype ej = j;
            while (ei < a.size() && a.at(ei).isDigit())
                ++ei;
            while (ej < b.size() && b.at(ej).isDigit())
                ++ej;
            // Compare as numbers without overflow: skip leading zeros, then length, then digits.
            qsizetype si = i;
            qsizetype sj = j;
            while (si < ei - 1 && a.at(si) == QLatin1Char('0'))
                ++si;
            while (sj < ej - 1 && b.at(sj) == QLatin1Char('0'))
                ++sj;
            if (ei - si != ej - sj)
                return ei - si < ej - sj ? -1 : 1;
            const int c = QStringView(a).mid(si, ei - si).compare(QStringView(b).mid(sj, ej - sj));
            if (c != 0)
                return c;
            i = ei;
            j = ej;
            continue;
        }
        const QChar la = ca.toCaseFolded();
        const QChar lb = cb.toCaseFolded();
        if (la != lb)
            return la < lb ? -1 : 1;
        ++i;
        ++j;
    }
    if (i < a.size() || j < b.size())
        return i < a.size() ? 1 : -1;
    return QString::compare(a, b, Qt::CaseSensitive);
}

} // namespace

GalleryFilterProxy::GalleryFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    // Results arrive continuously; re-sorting and re-filtering on every change keeps the
    // "failed" or "with detections" views truthful while a batch runs.
    setDynamicSortFilter(true);
    sort(0, Qt::AscendingOrder);
}

void GalleryFilterProxy::setStatusFilter(StatusFilter filter)
{
    if (filter == m_statusFilter)
        return;
    m_statusFilter = filter;
    invalidateFilter();
}

void GalleryFilterProxy::setLabelFilter(const QString &label)
{
    if (label == m_labelFilter)
        return;
    m_labelFilter = label;
    invalidateFilter();
}

void GalleryFilterProxy::setSortKey(SortKey key, Qt::SortOrder order)
{
    m_sortKey = key;
    invalidate();
    sort(0, order);
}

bool GalleryFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const auto *model = qobject_cast<const GalleryModel *>(sourceModel());
    if (!model || sourceParent.isValid() || sourceRow >= model->rowCount())
        return true;
    const GalleryItem &it = model->item(sourceRow);
    using S = GalleryItem::Status;
    const bool done = it.status == S::Done;
    switch (m_statusFilter) {
    case StatusFilter::All:
        break;
    case StatusFilter::Pending:
        if (it.status != S::Queued && it.status != S::Sending && it.status != S::Processing)
            return false;
        break;
    case StatusFilter::Done:
        if (!done)
            return false;
        break;
    case StatusFilter::Failed:
        if (it.status != S::Failed && it.status != S::Cancelled)
            return false;
        break;
    case StatusFilter::WithDetections:
        if (!done || it.annotation.accepted().isEmpty())
            return false;
        break;
    case StatusFilter::WithoutDetections:
        if (!done || !it.hasDetectionData || !it.annotation.accepted().isEmpty())
            return false;
        break;
    case StatusFilter::NotReviewed:
        // What is left to review: finished images with detection data nobody accepted yet.
        if (!done || !it.hasDetectionData || it.annotation.reviewed)
            return false;
        break;
    case StatusFilter::Reviewed:
        if (!it.annotation.reviewed)
            return false;
        break;
    }
    if (!m_labelFilter.isEmpty() && !it.labels.contains(m_labelFilter))
        return false;
    return true;
}

bool GalleryFilterProxy::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const auto *model = qobject_cast<const GalleryModel *>(sourceModel());
    if (!model)
        return QSortFilterProxyModel::lessThan(left, right);
    const GalleryItem &a = model->item(left.row());
    const GalleryItem &b = model->item(right.row());
    // Ties fall back to the order added so the sort is stable and predictable.
    const auto byOrder = [&] { return a.addedOrder < b.addedOrder; };
    switch (m_sortKey) {
    case SortKey::Added:
        return byOrder();
    case SortKey::Name: {
        const int c = naturalCompare(a.fileName, b.fileName);
        return c != 0 ? c < 0 : byOrder();
    }
    case SortKey::Detections: {
        // Unprocessed and legacy items count as -1 so they gather at one end.
        const int na = model->data(left, GalleryModel::DetectionCountRole).toInt();
        const int nb = model->data(right, GalleryModel::DetectionCountRole).toInt();
        return na != nb ? na < nb : byOrder();
    }
    case SortKey::Modified:
        return a.modified != b.modified ? a.modified < b.modified : byOrder();
    case SortKey::Finished: {
        // Not finished yet sorts after everything finished (in ascending order).
        if (a.finished.isValid() != b.finished.isValid())
            return a.finished.isValid();
        return a.finished != b.finished ? a.finished < b.finished : byOrder();
    }
    }
    return byOrder();
}

} // namespace edgelens
