#pragma once

// The list of images the user brought in, with their processing state. Rows only grow by
// addImages() and shrink by removeRows(); everything else changes item state in place.
// Duplicates are recognised by canonical path, so dropping a folder twice adds nothing.

#include "galleryitem.h"

#include <QAbstractListModel>
#include <QHash>
#include <QList>

namespace edgelens {

class GalleryModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GalleryModel)

public:
    enum Role {
        PathRole = Qt::UserRole + 1,
        StatusRole,          // GalleryItem::Status
        ErrorRole,           // failure reason
        DetectionCountRole,  // int, -1 until done (or for legacy answers)
        LabelSummaryRole,    // "3 person, 1 dog"
        LabelsRole,          // QStringList of distinct labels
        ResultPathRole,
        HasDetectionDataRole,
        AddedOrderRole,
        ModifiedRole,        // QDateTime of the original file
        FinishedRole,        // QDateTime when the result arrived
        ReviewedRole,        // bool: a person accepted the image
        EditedRole,          // bool: a person corrected the boxes
        ResultsOnlyRole,     // bool: a marked-up image without its original or data
        DeviceRole,          // who produced the result: "host:port", or "this computer" for the embedded server
        GroupRole,           // GalleryItem::group: empty for an item of its own
        GroupOrderRole,      // GalleryItem::groupOrder (qint64)
    };

    // What a background scan found for one file; canonical path already resolved.
    struct NewImage
    {
        QString path;
        qint64 size = 0;
        QDateTime modified;
        QString group;         // GalleryItem::group
        qint64 groupOrder = -1;
        ImageOrigin origin{};  // a photo unless set
    };

    explicit GalleryModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;
    bool removeRows(int row, int count, const QModelIndex &parent = QModelIndex()) override;

    // Appends images not present yet; returns the rows added (in order).
    QList<int> addImages(const QList<NewImage> &images);
    QList<int> addPaths(const QStringList &paths); // resolves paths itself (tests, small lists)
    // Items with their state (a restored session); paths must be canonical. Same de-duplication.
    QList<int> addItems(QList<GalleryItem> items);
    void clear();

    int rowOfPath(const QString &canonicalPath) const; // -1 when absent
    const GalleryItem &item(int row) const;
    const QList<GalleryItem> &items() const { return m_items; }
    int count(GalleryItem::Status status) const;

    void setStatus(int row, GalleryItem::Status status, const QString &error = QString());
    // A new answer from the model. An image a person corrected or reviewed keeps that work:
    // the answer is stored beside it (Annotation::newerOutput) for the user to adopt or not.
    // device: who answered (ClientResult::device: "host:port", or "embedded"). filesFollowThreshold: the saved JPEG and
    // sidecar already show only the boxes at or above the threshold (drawn by the client), so
    // they need no redraw.
    void setResult(int row, const DetectionResult &result, bool hasDetectionData, const QString &resultPath,
                   const QString &sidecarPath, const QString &device = QString(), bool filesFollowThreshold = false);
    // "this computer" for the embedded server's results (DeviceSpec::embeddedLabel()), else as given.
    QString deviceDisplayName(const QString &device) const;
    // The user's corrections (and the model answer they apply to) changed.
    void setAnnotation(int row, const DetectionResult &model, const Annotation &annotation);
    void setThresholdPolicy(const ThresholdPolicy &policy) { m_policy = policy; }
    const ThresholdPolicy &thresholdPolicy() const { return m_policy; }
    int reviewedCount() const;
    void incrementAttempts(int row);
    QStringList allLabels() const; // every label seen so far, sorted

signals:
    void statusCountsChanged();
    void labelsChanged(); // a label appeared that allLabels() did not have before
    void annotationChanged(int row); // setAnnotation(): to be saved

private:
    void emitRowChanged(int row);
    void replaceLabels(GalleryItem &it, bool *newLabel); // after it.annotation changed

    QList<GalleryItem> m_items;
    QHash<QString, int> m_rowOfPath;
    QHash<QString, int> m_labelRefs; // label -> images carrying it
    qint64 m_nextOrder = 0;
    ThresholdPolicy m_policy;
    int m_statusCounts[6] = {0, 0, 0, 0, 0, 0};
};

} // namespace edgelens
