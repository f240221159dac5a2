#include "gallerymodel.h"

#include "client/devicespec.h"

#include <QFileInfo>
#include <QLoggingCategory>
#include <QSet>

#include <algorithm>

Q_LOGGING_CATEGORY(lcGalleryModel, "edgelens.app.gallerymodel")

namespace edgelens {

QString statusName(GalleryItem::Status status)
{
    switch (status) {
    case GalleryItem::Status::Queued:
        return GalleryModel::tr("queued");
    case GalleryItem::Status::Sending:
        return GalleryModel::tr("sending");
    case GalleryItem::Status::Processing:
        return GalleryModel::tr("processing");
    case GalleryItem::Status::Done:
        return GalleryModel::tr("done");
    case GalleryItem::Status::Failed:
        return GalleryModel::tr("failed");
    case GalleryItem::Status::Cancelled:
        return GalleryModel::tr("cancelled");
    }
    return QString();
}

void GalleryItem::refreshLabels()
{
    labels.clear();
    labelSummary.clear();
    if (!hasDetectionData)
        return;
    const QList<Detection> accepted = annotation.accepted();
    labelSummary = summarizeLabels(accepted);
    for (const Detection &d : accepted) {
        if (!labels.contains(d.label))
            labels.append(d.label);
    }
}

GalleryModel::GalleryModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

int GalleryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_items.size());
}

QVariant GalleryModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return QVariant();
    const GalleryItem &it = m_items.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return it.fileName;
    case Qt::ToolTipRole: {
        QString tip = it.path;
        if (it.status == GalleryItem::Status::Failed && !it.error.isEmpty())
            tip += QLatin1Char('\n') + tr("Failed: %1").arg(it.error);
        else if (it.resultsOnly)
            tip += QLatin1Char('\n') + tr("A marked-up image from an output folder: no detection data.");
        else if (it.status == GalleryItem::Status::Done && !it.hasDetectionData)
            tip += QLatin1Char('\n') + tr("The server sent only the marked-up image (legacy protocol).");
        else if (it.annotation.reviewed)
            tip += QLatin1Char('\n') + tr("Reviewed by %1").arg(it.annotation.reviewedBy);
        if (it.status == GalleryItem::Status::Done && !it.device.isEmpty()) {
            // The devices of a pool may run different models: say which one this was.
            tip += QLatin1Char('\n')
                + (it.hasDetectionData && !it.result.model.isEmpty()
                       ? tr("Detected by %1 with %2").arg(deviceDisplayName(it.device), it.result.model)
                       : tr("Detected by %1").arg(deviceDisplayName(it.device)));
        }
        return tip;
    }
    case PathRole:
        return it.path;
    case StatusRole:
        return QVariant::fromValue(it.status);
    case ErrorRole:
        return it.error;
    case DetectionCountRole:
        return (it.status == GalleryItem::Status::Done && it.hasDetectionData) ? int(it.annotation.accepted().size()) : -1;
    case LabelSummaryRole:
        return it.labelSummary;
    case LabelsRole:
        return it.labels;
    case ResultPathRole:
        return it.resultPath;
    case HasDetectionDataRole:
        return it.hasDetectionData;
    case AddedOrderRole:
        return it.addedOrder;
    case ModifiedRole:
        return it.modified;
    case FinishedRole:
        return it.finished;
    case ReviewedRole:
        return it.annotation.reviewed;
    case EditedRole:
        return it.annotation.edited;
    case ResultsOnlyRole:
        return it.resultsOnly;
    case DeviceRole:
        return deviceDisplayName(it.device);
    case GroupRole:
        return it.group;
    case GroupOrderRole:
        return it.groupOrder;
    default:
        return QVariant();
    }
}

QHash<int, QByteArray> GalleryModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(PathRole, "path");
    names.insert(StatusRole, "status");
    names.insert(ErrorRole, "error");
    names.insert(DetectionCountRole, "detectionCount");
    names.insert(LabelSummaryRole, "labelSummary");
    names.insert(LabelsRole, "labels");
    names.insert(ResultPathRole, "resultPath");
    names.insert(HasDetectionDataRole, "hasDetectionData");
    names.insert(AddedOrderRole, "addedOrder");
    names.insert(ModifiedRole, "modified");
    names.insert(FinishedRole, "finished");
    names.insert(ReviewedRole, "reviewed");
    names.insert(EditedRole, "edited");
    names.insert(ResultsOnlyRole, "resultsOnly");
    names.insert(DeviceRole, "device");
    names.insert(GroupRole, "group");
    names.insert(GroupOrderRole, "groupOrder");
    return names;
}

bool GalleryModel::removeRows(int row, int count, const QModelIndex &parent)
{
    if (parent.isValid() || row < 0 || count <= 0 || row + count > m_items.size())
        return false;
    beginRemoveRows(parent, row, row + count - 1);
    for (int r = row; r < row + count; ++r) {
        const GalleryItem &it = m_items.at(r);
        --m_statusCounts[int(it.status)];
        for (const QString &label : it.labels) {
            if (--m_labelRefs[label] <= 0)
                m_labelRefs.remove(label);
        }
    }
    m_items.remove(row, count);
    // Rows after the removed block moved up; rebuilding is O(n) but removal is rare.
    m_rowOfPath.clear();
    m_rowOfPath.reserve(m_items.size());
    for (int r = 0; r < m_items.size(); ++r)
        m_rowOfPath.insert(m_items.at(r).path, r);
    endRemoveRows();
    emit statusCountsChanged();
    emit labelsChanged();
    return true;
}

QList<int> GalleryModel::addImages(const QList<NewImage> &images)
{
    QList<GalleryItem> fresh;
    fresh.reserve(images.size());
    for (const NewImage &image : images) {
        GalleryItem it;
        it.path = image.path;
        it.origin = image.origin;
        it.fileName = QFileInfo(image.path).fileName();
        it.fileSize = image.size;
        it.modified = image.modified;
        it.group = image.group;
        it.groupOrder = image.groupOrder;
        fresh.append(std::move(it));
    }
    return addItems(std::move(fresh));
}

QList<int> GalleryModel::addItems(QList<GalleryItem> items)
{
    QList<GalleryItem> fresh;
    fresh.reserve(items.size());
    QSet<QString> seenInBatch;
    for (GalleryItem &it : items) {
        if (it.path.isEmpty() || m_rowOfPath.contains(it.path) || seenInBatch.contains(it.path))
            continue;
        seenInBatch.insert(it.path);
        if (it.fileName.isEmpty())
            it.fileName = QFileInfo(it.path).fileName();
        it.addedOrder = m_nextOrder++;
        fresh.append(std::move(it));
    }
    QList<int> rows;
    if (fresh.isEmpty())
        return rows;
    const int first = int(m_items.size());
    bool newLabel = false;
    beginInsertRows(QModelIndex(), first, first + int(fresh.size()) - 1);
    m_items.reserve(m_items.size() + fresh.size());
    rows.reserve(fresh.size());
    for (GalleryItem &it : fresh) {
        const int row = int(m_items.size());
        m_rowOfPath.insert(it.path, row);
        ++m_statusCounts[int(it.status)];
        for (const QString &label : std::as_const(it.labels)) {
            int &refs = m_labelRefs[label];
            newLabel = newLabel || refs == 0;
            ++refs;
        }
        m_items.append(std::move(it));
        rows.append(row);
    }
    endInsertRows();
    emit statusCountsChanged();
    if (newLabel)
        emit labelsChanged();
    return rows;
}

QList<int> GalleryModel::addPaths(const QStringList &paths)
{
    QList<NewImage> images;
    for (const QString &p : paths) {
        const QFileInfo info(p);
        const QString canonical = info.canonicalFilePath();
        if (canonical.isEmpty() || !info.isFile()) {
            qCWarning(lcGalleryModel) << "not an existing file, skipped:" << p;
            continue;
        }
        images.append({canonical, info.size(), info.lastModified(), QString(), -1, {}});
    }
    return addImages(images);
}

void GalleryModel::clear()
{
    beginResetModel();
    m_items.clear();
    m_rowOfPath.clear();
    m_labelRefs.clear();
    std::fill(std::begin(m_statusCounts), std::end(m_statusCounts), 0);
    endResetModel();
    emit statusCountsChanged();
    emit labelsChanged();
}

int GalleryModel::rowOfPath(const QString &canonicalPath) const
{
    return m_rowOfPath.value(canonicalPath, -1);
}

const GalleryItem &GalleryModel::item(int row) const
{
    Q_ASSERT(row >= 0 && row < m_items.size());
    return m_items.at(row);
}

int GalleryModel::count(GalleryItem::Status status) const
{
    return m_statusCounts[int(status)];
}

void GalleryModel::setStatus(int row, GalleryItem::Status status, const QString &error)
{
    if (row < 0 || row >= m_items.size()) {
        qCWarning(lcGalleryModel) << "setStatus on missing row" << row;
        return;
    }
    GalleryItem &it = m_items[row];
    if (it.status == status && it.error == error)
        return;
    if (it.status != status) {
        --m_statusCounts[int(it.status)];
        ++m_statusCounts[int(status)];
    }
    it.status = status;
    it.error = error;
    emitRowChanged(row);
    emit statusCountsChanged();
}

QString GalleryModel::deviceDisplayName(const QString &device) const
{
    if (device == DeviceSpec::embeddedLabel())
        return tr("this computer");
    return device;
}

void GalleryModel::setResult(int row, const DetectionResult &result, bool hasDetectionData, const QString &resultPath,
                             const QString &sidecarPath, const QString &device, bool filesFollowThreshold)
{
    if (row < 0 || row >= m_items.size()) {
        qCWarning(lcGalleryModel) << "setResult on missing row" << row;
        return;
    }
    GalleryItem &it = m_items[row];
    const bool personal = it.hasDetectionData && it.annotation.isPersonal();
    if (personal) {
        // Processed again (retry, another model or device): the person's work stays, and
        // the new answer waits beside it until the user adopts it.
        if (hasDetectionData) {
            it.annotation.hasNewerOutput = true;
            it.annotation.newerOutput = result;
        }
    } else {
        it.result = result;
        it.annotation = Annotation::fromModel(result, m_policy.thresholdFor(result.model));
        it.hasDetectionData = hasDetectionData;
    }
    it.resultPath = resultPath;
    it.device = device;
    if (!sidecarPath.isEmpty() || !it.annotation.isPersonal())
        it.sidecarPath = sidecarPath;
    bool newLabel = false;
    replaceLabels(it, &newLabel);
    it.finished = QDateTime::currentDateTime();
    it.error.clear();
    if (it.status != GalleryItem::Status::Done) {
        --m_statusCounts[int(it.status)];
        ++m_statusCounts[int(GalleryItem::Status::Done)];
        it.status = GalleryItem::Status::Done;
    }
    emitRowChanged(row);
    emit statusCountsChanged();
    if (newLabel)
        emit labelsChanged();
    // The server drew what passed the request's low floor; the saved files follow the
    // threshold (and a kept correction records the newer answer).
    const bool cutByThreshold = it.annotation.accepted().size() != it.annotation.boxes.size();
    if (it.hasDetectionData && (personal || (cutByThreshold && !filesFollowThreshold)))
        emit annotationChanged(row);
}

void GalleryModel::replaceLabels(GalleryItem &it, bool *newLabel)
{
    for (const QString &label : std::as_const(it.labels)) {
        if (--m_labelRefs[label] <= 0)
            m_labelRefs.remove(label);
    }
    it.refreshLabels();
    for (const QString &label : std::as_const(it.labels)) {
        int &refs = m_labelRefs[label];
        *newLabel = *newLabel || refs == 0;
        ++refs;
    }
}

void GalleryModel::setAnnotation(int row, const DetectionResult &model, const Annotation &annotation)
{
    if (row < 0 || row >= m_items.size() || !m_items.at(row).hasDetectionData) {
        qCWarning(lcGalleryModel) << "setAnnotation on missing row or one without data" << row;
        return;
    }
    GalleryItem &it = m_items[row];
    it.result = model;
    it.annotation = annotation;
    bool newLabel = false;
    const QStringList before = allLabels();
    replaceLabels(it, &newLabel);
    emitRowChanged(row);
    emit annotationChanged(row);
    if (newLabel || allLabels() != before)
        emit labelsChanged();
}

int GalleryModel::reviewedCount() const
{
    int n = 0;
    for (const GalleryItem &it : m_items)
        n += it.annotation.reviewed ? 1 : 0;
    return n;
}

void GalleryModel::incrementAttempts(int row)
{
    if (row >= 0 && row < m_items.size())
        ++m_items[row].attempts;
}

QStringList GalleryModel::allLabels() const
{
    QStringList labels = m_labelRefs.keys();
    labels.sort(Qt::CaseInsensitive);
    return labels;
}

void GalleryModel::emitRowChanged(int row)
{
    const QModelIndex i = index(row);
    emit dataChanged(i, i);
}

} // namespace edgelens
