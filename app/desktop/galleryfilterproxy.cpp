#include "galleryfilterproxy.h"

#include "gallerymodel.h"

#include <QDateTime>
#include <QFileInfo>
#include <QTimer>

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
    m_groupsDirty = true; // which groups have a member passing changed
    invalidateFilter();
}

void GalleryFilterProxy::setLabelFilter(const QString &label)
{
    if (label == m_labelFilter)
        return;
    m_labelFilter = label;
    m_groupsDirty = true;
    invalidateFilter();
}

void GalleryFilterProxy::setSortKey(SortKey key, Qt::SortOrder order)
{
    m_sortKey = key;
    invalidate();
    sort(0, order);
}

void GalleryFilterProxy::setSourceModel(QAbstractItemModel *source)
{
    if (sourceModel())
        disconnect(sourceModel(), nullptr, this, nullptr);
    // Connected before the base class connects its own handlers, which filter and sort the
    // changed rows at once: the groups must be stale by then, not after.
    if (source) {
        const auto stale = [this] { m_groupsDirty = true; };
        connect(source, &QAbstractItemModel::rowsAboutToBeInserted, this, stale);
        connect(source, &QAbstractItemModel::rowsInserted, this, stale);
        connect(source, &QAbstractItemModel::rowsAboutToBeRemoved, this, stale);
        connect(source, &QAbstractItemModel::rowsRemoved, this, stale);
        connect(source, &QAbstractItemModel::modelReset, this, stale);
        connect(source, &QAbstractItemModel::layoutChanged, this, stale);
        connect(source, &QAbstractItemModel::dataChanged, this, stale);
    }
    QSortFilterProxyModel::setSourceModel(source);
    if (source) {
        for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
            connect(source, signal, this, &GalleryFilterProxy::refreshGroupCells);
        connect(source, &QAbstractItemModel::dataChanged, this, &GalleryFilterProxy::refreshGroupCells);
    }
}

const QHash<QString, GalleryFilterProxy::Group> &GalleryFilterProxy::groups() const
{
    if (!m_groupsDirty)
        return m_groups;
    m_groupsDirty = false;
    m_groups.clear();
    const auto *model = qobject_cast<const GalleryModel *>(sourceModel());
    if (!model)
        return m_groups;
    const QList<GalleryItem> &items = model->items();
    for (int row = 0; row < items.size(); ++row) {
        const GalleryItem &it = items.at(row);
        if (it.group.isEmpty())
            continue;
        Group &g = m_groups[it.group];
        if (g.rows.isEmpty() || it.groupOrder < items.at(g.firstRow).groupOrder)
            g.firstRow = row;
        g.firstAdded = g.rows.isEmpty() ? it.addedOrder : qMin(g.firstAdded, it.addedOrder);
        g.rows.append(row);
        g.anyPasses = g.anyPasses || itemPasses(it);
    }
    return m_groups;
}

void GalleryFilterProxy::refreshGroupCells()
{
    if (m_refreshQueued || groups().isEmpty())
        return;
    // Once per burst of changes (a batch of results), after the base class handled them.
    m_refreshQueued = true;
    QTimer::singleShot(0, this, [this] {
        m_refreshQueued = false;
        // A collapsed group's cell shows while any member passes the filters.
        if (!m_collapsed.isEmpty())
            invalidateRowsFilter();
        if (rowCount() > 0)
            emit dataChanged(index(0, 0), index(rowCount() - 1, 0), {GroupLeadRole, GroupCollapsedRole});
    });
}

void GalleryFilterProxy::setGroupCollapsed(const QString &group, bool collapsed)
{
    if (group.isEmpty() || collapsed == m_collapsed.contains(group))
        return;
    if (collapsed)
        m_collapsed.insert(group);
    else
        m_collapsed.remove(group);
    invalidateFilter();
}

void GalleryFilterProxy::setGroupInfo(const QString &group, qint64 expected, const QString &note)
{
    m_groupInfo.insert(group, {expected, note});
    refreshGroupCells();
}

QString GalleryFilterProxy::variableFrameRateNote()
{
    return tr("variable frame rate: frame times are the decoder's");
}

GalleryFilterProxy::GroupSummary GalleryFilterProxy::groupSummary(const QString &group) const
{
    GroupSummary summary;
    summary.name = QFileInfo(group).fileName();
    const auto info = m_groupInfo.constFind(group);
    if (info != m_groupInfo.cend()) {
        summary.expected = info->first;
        summary.note = info->second;
    }
    const auto *model = qobject_cast<const GalleryModel *>(sourceModel());
    if (!model)
        return summary;
    bool variableFrameRate = false;
    for (int row : groups().value(group).rows) {
        const GalleryItem &it = model->item(row);
        ++summary.items;
        variableFrameRate = variableFrameRate || it.origin.variableFrameRate;
        if (it.status == GalleryItem::Status::Done) {
            ++summary.done;
            if (it.hasDetectionData)
                summary.boxes += int(it.annotation.accepted().size());
        } else if (it.status == GalleryItem::Status::Failed || it.status == GalleryItem::Status::Cancelled) {
            ++summary.failed;
        }
    }
    // Frames that say so themselves (reopened results, a restored session) need no one to
    // have watched their video being sampled.
    if (summary.note.isEmpty() && variableFrameRate)
        summary.note = variableFrameRateNote();
    return summary;
}

QList<int> GalleryFilterProxy::sourceRowsOf(const QModelIndex &proxyIndex) const
{
    const QModelIndex source = mapToSource(proxyIndex);
    if (!source.isValid())
        return {};
    const QString group = source.data(GalleryModel::GroupRole).toString();
    if (group.isEmpty() || !m_collapsed.contains(group))
        return {source.row()};
    QList<int> rows = groups().value(group).rows;
    std::sort(rows.begin(), rows.end());
    return rows;
}

QVariant GalleryFilterProxy::data(const QModelIndex &index, int role) const
{
    if (role != GroupLeadRole && role != GroupCollapsedRole)
        return QSortFilterProxyModel::data(index, role);
    const QString group = QSortFilterProxyModel::data(index, GalleryModel::GroupRole).toString();
    if (group.isEmpty())
        return false;
    if (role == GroupCollapsedRole)
        return m_collapsed.contains(group);
    return index.row() == 0
        || QSortFilterProxyModel::data(this->index(index.row() - 1, 0), GalleryModel::GroupRole).toString() != group;
}

bool GalleryFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const auto *model = qobject_cast<const GalleryModel *>(sourceModel());
    if (!model || sourceParent.isValid() || sourceRow >= model->rowCount())
        return true;
    const GalleryItem &it = model->item(sourceRow);
    if (it.group.isEmpty() || !m_collapsed.contains(it.group))
        return itemPasses(it);
    // One cell for the whole group: its first item, while anything in the group passes.
    const Group g = groups().value(it.group);
    return sourceRow == g.firstRow && g.anyPasses;
}

bool GalleryFilterProxy::itemPasses(const GalleryItem &it) const
{
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
    const GalleryItem &itemA = model->item(left.row());
    const GalleryItem &itemB = model->item(right.row());
    if (!itemA.group.isEmpty() && itemA.group == itemB.group) {
        // A group's items in their own order (frame index) whichever way the gallery is
        // sorted; a descending sort asks with the arguments swapped.
        const bool descending = sortOrder() == Qt::DescendingOrder;
        const GalleryItem &first = descending ? itemB : itemA;
        const GalleryItem &second = descending ? itemA : itemB;
        return first.groupOrder != second.groupOrder ? first.groupOrder < second.groupOrder
                                                     : first.addedOrder < second.addedOrder;
    }
    // A group sorts as one: by its name, its first item's values, and where it was added.
    const auto representative = [&](const GalleryItem &it, const QModelIndex &index) {
        if (it.group.isEmpty())
            return std::make_pair(&it, index);
        const int row = groups().value(it.group).firstRow;
        return row < 0 ? std::make_pair(&it, index) : std::make_pair(&model->item(row), model->index(row));
    };
    const auto [repA, indexA] = representative(itemA, left);
    const auto [repB, indexB] = representative(itemB, right);
    const GalleryItem &a = *repA;
    const GalleryItem &b = *repB;
    const qint64 addedA = a.group.isEmpty() ? a.addedOrder : groups().value(a.group).firstAdded;
    const qint64 addedB = b.group.isEmpty() ? b.addedOrder : groups().value(b.group).firstAdded;
    // Ties fall back to the order added so the sort is stable and predictable.
    const auto byOrder = [&] { return addedA != addedB ? addedA < addedB : a.addedOrder < b.addedOrder; };
    switch (m_sortKey) {
    case SortKey::Added:
        return byOrder();
    case SortKey::Name: {
        const QString nameA = a.group.isEmpty() ? a.fileName : QFileInfo(a.group).fileName();
        const QString nameB = b.group.isEmpty() ? b.fileName : QFileInfo(b.group).fileName();
        const int c = naturalCompare(nameA, nameB);
        return c != 0 ? c < 0 : byOrder();
    }
    case SortKey::Detections: {
        // Unprocessed and legacy items count as -1 so they gather at one end.
        const int na = model->data(indexA, GalleryModel::DetectionCountRole).toInt();
        const int nb = model->data(indexB, GalleryModel::DetectionCountRole).toInt();
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
