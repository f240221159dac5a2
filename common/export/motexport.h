#pragma once

#include "export/exportitem.h"

namespace edgelens {

// MOTChallenge ground truth, one sequence per video among items:
//   <dir>/<video stem>/gt/gt.txt      "frame,id,left,top,width,height,1,class,1" per box
//   <dir>/<video stem>/seqinfo.ini    name, frame rate, length, size of the sequence
// frame is the source frame index + 1 (MOT counts from 1), so sampled frames keep their place
// in the video; id is the box's track id (TrackAssigner::assignVideoTracks gives the boxes
// without one an id first); class is the 1-based position in
// exportutil::collectClassNames(items, classNames). Photos are not part of any sequence.
// Returns the number of sequences written, or -1 with *error.
int exportMot(const QList<ExportItem> &items, const QStringList &classNames, const QString &dir, QString *error);

struct MotRow
{
    qint64 frame = 0; // 1-based
    int id = 0;
    QRectF box;
    int classIndex = 0; // 1-based
};
// Reads a gt.txt back (tests, tools). Empty with *error on failure.
QList<MotRow> readMot(const QString &gtFile, QString *error);

} // namespace edgelens
