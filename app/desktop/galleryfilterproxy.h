#pragma once

// Filter by status and detected label, sort by name, detections or time, over GalleryModel.

#include "galleryitem.h"

#include <QSortFilterProxyModel>

namespace edgelens {

class GalleryFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GalleryFilterProxy)

public:
    enum class StatusFilter { All, Pending, Done, Failed, WithDetections, WithoutDetections, NotReviewed, Reviewed };
    enum class SortKey { Added, Name, Detections, Modified, Finished };

    explicit GalleryFilterProxy(QObject *parent = nullptr);

    void setStatusFilter(StatusFilter filter);
    StatusFilter statusFilter() const { return m_statusFilter; }
    void setLabelFilter(const QString &label); // empty: any label
    QString labelFilter() const { return m_labelFilter; }
    void setSortKey(SortKey key, Qt::SortOrder order = Qt::AscendingOrder);
    SortKey sortKey() const { return m_sortKey; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    StatusFilter m_statusFilter = StatusFilter::All;
    QString m_labelFilter;
    SortKey m_sortKey = SortKey::Added;
};

} // namespace edgelens
