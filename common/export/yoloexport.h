#pragma once

#include "export/exportitem.h"

namespace edgelens {

// YOLO txt labels: in dir, classes.txt (one name per line, line number = class index, in
// the order of exportutil::collectClassNames) and one <stem>.txt per image (stems from
// exportutil::uniqueStems), each line "class cx cy w h" normalised to 0..1, boxes clipped
// to the image. withConfidence appends the score as a sixth column (YOLOv5 --save-conf),
// which some label tools do not accept, hence off by default. Images without detections
// get an empty file. Every item needs its width and height.
bool exportYolo(const QList<ExportItem> &items, const QStringList &classNames, const QString &dir, QString *error,
                bool withConfidence = false, const ExportProgress &progress = {});

// Reads labels written for `images` (their paths and sizes; their detections are ignored)
// from dir. A missing <stem>.txt means no detections, as in YOLO datasets. Confidence is
// the sixth column when present, else 1. Returns the images with detections filled, or
// an empty list with *error set on failure.
QList<ExportItem> readYolo(const QString &dir, const QList<ExportItem> &images, QString *error,
                           QStringList *classNames = nullptr);

} // namespace edgelens
