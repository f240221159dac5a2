#include "widgets/detectionlist.h"

#include "results/annotation.h"
#include "markup/markupstyle.h"

#include <QHeaderView>

#include <algorithm>

namespace edgelens {

DetectionList::DetectionList(QWidget *parent)
    : QTreeWidget(parent)
{
    setObjectName(QStringLiteral("detectionList"));
    setRootIsDecorated(false);
    setUniformRowHeights(true);
    setHeaderLabels({tr("Label"), tr("Confidence"), tr("Box (x, y  w\u00d7h)"), tr("Track")});
    setColumnHidden(kTrackColumn, true);
    header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    setSelectionMode(QAbstractItemView::SingleSelection);
}

QString DetectionList::boxText(const QRectF &box)
{
    return QStringLiteral("%1, %2  %3\u00d7%4")
        .arg(qRound(box.x()))
        .arg(qRound(box.y()))
        .arg(qRound(box.width()))
        .arg(qRound(box.height()));
}

void DetectionList::setDetections(const QList<Detection> &detections)
{
    const QSignalBlocker blocker(this);
    clear();
    setColumnHidden(kTrackColumn, std::none_of(detections.cbegin(), detections.cend(),
                                               [](const Detection &d) { return d.trackId > 0; }));
    for (int i = 0; i < detections.size(); ++i) {
        const Detection &detection = detections.at(i);
        auto *item = new QTreeWidgetItem(this);
        item->setText(0, detection.label);
        item->setText(1, QString::number(detection.confidence, 'f', 3));
        item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
        item->setText(2, boxText(detection.box));
        if (detection.trackId > 0) // the same object across a video's frames
            item->setText(kTrackColumn, QStringLiteral("#%1").arg(detection.trackId));
        item->setData(0, Qt::UserRole, i);
        // The server's markup colours, so a row matches its box in both panes.
        item->setData(0, Qt::DecorationRole, MarkupStyle::color(Annotation::colorId(detection)));
    }
}

void DetectionList::setRowPassing(int index, bool passes)
{
    if (index >= 0 && index < topLevelItemCount())
        topLevelItem(index)->setHidden(!passes);
}

void DetectionList::selectRow(int index)
{
    if (index < 0 || index >= topLevelItemCount()) {
        clearSelection();
        return;
    }
    setCurrentItem(topLevelItem(index));
    topLevelItem(index)->setSelected(true);
}

int DetectionList::selectedRow() const
{
    const QList<QTreeWidgetItem *> selected = selectedItems();
    if (selected.isEmpty() || selected.first()->isHidden())
        return -1;
    return selected.first()->data(0, Qt::UserRole).toInt();
}

} // namespace edgelens
