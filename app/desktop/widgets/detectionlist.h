#pragma once

#include "protocol/detection.h"

#include <QList>
#include <QTreeWidget>

namespace edgelens {

// The detail view's table of boxes: one row per box of the annotation, in its order (row i is
// box i), with its label, confidence, geometry in the image's pixels and, for a frame of a
// video, the id of the object it follows across frames. Rows of boxes below
// the confidence threshold are hidden, not removed, so indices stay those of the annotation.
class DetectionList final : public QTreeWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetectionList)

public:
    explicit DetectionList(QWidget *parent = nullptr);

    // Rebuilds the rows without announcing a selection change.
    void setDetections(const QList<Detection> &detections);
    void setRowPassing(int index, bool passes); // hidden when it does not pass the threshold
    void selectRow(int index);                  // clears the selection when out of range
    int selectedRow() const;                    // -1 when none, or the selected row is hidden

    // "12, 40  100×80": how a box reads in the list.
    static QString boxText(const QRectF &box);

    static constexpr int kTrackColumn = 3; // "#3": shown when a box has a track id (frames of a video)
};

} // namespace edgelens
