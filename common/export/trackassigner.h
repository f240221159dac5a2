#pragma once

#include "export/exportitem.h"
#include "protocol/detection.h"

#include <QList>
#include <QStringList>

namespace edgelens {

// Gives the boxes of a video's sampled frames ids that follow one object from frame to frame
// (Detection::trackId): a box takes the id of the box of the same class in the frame before
// that it overlaps most (IoU at least minIou, each id used once per frame, the largest overlaps
// paired first); a box that matches none starts a new id. A box that already has an id (a
// person corrected it, or it was assigned before) keeps it, so corrections never renumber.
// Frames must come in frame-index order.
class TrackAssigner final
{
public:
    explicit TrackAssigner(double minIou = 0.3, const QStringList &classNames = {});

    // Boxes elsewhere already carry ids up to this one: new ids start above it.
    void reserveIds(int highestUsed);
    // The next frame's boxes: every one has a trackId (>= 1) afterwards.
    void assign(QList<Detection> &boxes);

    static double iou(const QRectF &a, const QRectF &b);

    // Every video's frames among items (grouped by origin.source, in frame-index order) get
    // track ids; photos are left alone. Deterministic: the same items give the same ids. A box
    // that has an id keeps it, and the boxes tracked with it by overlap, before and after it,
    // take the same id; without any such box the ids are those assign() gives frame by frame.
    static void assignVideoTracks(QList<ExportItem> &items, const QStringList &classNames, double minIou = 0.3);

private:
    double m_minIou;
    QStringList m_classNames;
    int m_nextId = 1;
    QList<Detection> m_previous;
};

} // namespace edgelens
