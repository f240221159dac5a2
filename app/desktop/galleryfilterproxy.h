#pragma once

// Filter by status and detected label, sort by name, detections or time, over GalleryModel.
// Items of a group (the frames of a video) stay together in every sort, in their own order
// (the frame index), and a group can be collapsed to one cell, its first frame, that stands
// for all of them (its summary says how far the group got).

#include "galleryitem.h"

#include <QHash>
#include <QSet>
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

    enum Role {
        GroupLeadRole = Qt::UserRole + 100, // bool: the cell that starts its group in the view
        GroupCollapsedRole,                 // bool: the cell stands for its whole collapsed group
    };

    // How far one group got, for its lead cell.
    struct GroupSummary
    {
        QString name;     // the group's file name ("clip.mp4")
        int items = 0;    // in the gallery so far
        int done = 0;
        int failed = 0;   // failed or cancelled
        int boxes = 0;    // accepted boxes over its done items
        qint64 expected = -1; // items the group will have, when known (a video being sampled)
        QString note;     // shown with the group ("variable frame rate: ...")
    };

    void setGroupCollapsed(const QString &group, bool collapsed);
    bool isGroupCollapsed(const QString &group) const { return m_collapsed.contains(group); }
    // What the app knows of a group beyond its items: how many there will be, a note.
    void setGroupInfo(const QString &group, qint64 expected, const QString &note);
    GroupSummary groupSummary(const QString &group) const;
    // The note of a group whose frames' times are not index / fps.
    static QString variableFrameRateNote();
    // The source rows a cell stands for: all of its group's when it is a collapsed group's cell.
    QList<int> sourceRowsOf(const QModelIndex &proxyIndex) const;

    void setSourceModel(QAbstractItemModel *source) override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    struct Group
    {
        QList<int> rows;       // source rows, in no particular order
        int firstRow = -1;     // the member with the lowest groupOrder: the collapsed cell
        qint64 firstAdded = 0; // the lowest addedOrder: where the group sorts by "added"
        bool anyPasses = false; // some member passes the status and label filters
    };

    bool itemPasses(const GalleryItem &it) const;
    const QHash<QString, Group> &groups() const; // rebuilt after the source changed
    void refreshGroupCells();                    // summaries follow their members' state

    StatusFilter m_statusFilter = StatusFilter::All;
    QString m_labelFilter;
    SortKey m_sortKey = SortKey::Added;
    QSet<QString> m_collapsed;
    QHash<QString, QPair<qint64, QString>> m_groupInfo; // expected items, note
    mutable QHash<QString, Group> m_groups;
    mutable bool m_groupsDirty = true;
    bool m_refreshQueued = false;
};

} // namespace edgelens
