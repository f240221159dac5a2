#pragma once

// Ground truth as the evaluator sees it, whatever file format it came from.

#include <QList>
#include <QRectF>
#include <QString>
#include <QStringList>

namespace edgelens {

struct GroundTruthBox
{
    int classId = -1;    // model class order (0..N-1), not COCO's sparse category id
    QRectF box;          // image pixels: x, y (top-left), width, height
    bool crowd = false;  // COCO iscrowd / ignore: never a miss, and detections on it are ignored
    double area = -1;    // COCO's annotation area (of the segmentation); < 0: use the box area

    double effectiveArea() const { return area >= 0 ? area : box.width() * box.height(); }
};

struct GroundTruthImage
{
    QString fileName;      // as the annotations name it: COCO file_name, or the path relative to the images folder
    qint64 id = -1;        // COCO image id; the position in the set for other formats
    int width = 0;
    int height = 0;
    QList<GroundTruthBox> boxes;
};

struct GroundTruthSet
{
    QStringList classNames;         // index = class id
    QList<GroundTruthImage> images; // evaluation order (COCO: ascending image id, as pycocotools sorts)
};

} // namespace edgelens
