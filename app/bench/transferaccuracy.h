#pragma once

#include "models/modelmanifest.h"

#include <QString>
#include <QTextStream>

namespace edgelens {

struct TransferAccuracyOptions
{
    ModelManifest model;
    QString imagesDir;   // coco128-train's images
    QString annotations; // and its COCO JSON
    int count = 128;     // images (the first ones in evaluation order)
    int jobs = 1;        // worker threads, one Detector each
    int threads = 1;     // OpenCV threads per forward
    QString backend;
};

// Issue 7's accuracy check: every dataset image becomes a 12 MP photo (PhotoGenerator, in
// memory), detected three ways through the shared ImagePipeline: the whole file decoded at full
// size (what sending whole files gives), the whole file with the device's reduced decode, and the
// client's default transfer (ImageTransfer::prepare's reduced copy, boxes mapped back). Each is
// scored against the annotations (boxes scaled back to the annotated image) and the mAP
// difference printed against the 0.01 limit. Prints figures; asserts nothing.
class TransferAccuracy final
{
public:
    static int run(const TransferAccuracyOptions &options, QTextStream &out, QTextStream &err);
};

} // namespace edgelens
