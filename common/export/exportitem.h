#pragma once

#include "inputs/imageorigin.h"
#include "protocol/detection.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace edgelens {

// One image and what was found in it, the unit every exporter writes and every reader
// returns. Boxes are in original-image pixels (x, y top-left, width, height). origin says
// where the image came from (a photo, or a frame of a video: COCO writes its video, frame
// index and timestamp on the image entry, YOLO and VOC put the frame file beside its labels).
struct ExportItem
{
    QString imagePath;
    int width = 0;
    int height = 0;
    QList<Detection> detections;
    ImageOrigin origin{};
};

// Called by a writer before each image it writes (done of total); returning false stops the
// export there with the error "cancelled" (files written so far stay, each one complete).
// Writers run on any thread: the app runs them on a worker and counts progress from there.
using ExportProgress = std::function<bool(int done, int total)>;

namespace exportutil {

// The class list a file format writes: classNames first (in order, so ids stay those of the
// model), then any label found in items but missing from classNames, in first-seen order.
// A detection with an empty label is named after classNames[classId] when that exists.
QStringList collectClassNames(const QList<ExportItem> &items, const QStringList &classNames);

// The label a detection is exported under (see collectClassNames).
QString effectiveLabel(const Detection &detection, const QStringList &classNames);

// One file stem per item, unique within the list: the image's base name, with "_2", "_3"...
// added when two images in different folders share a name. Writers and readers of the
// per-image formats (YOLO, VOC) call this with the same list so they agree on names.
QStringList uniqueStems(const QList<ExportItem> &items);

// The image file of an item that is not a photo (an extracted frame, living in an EdgeLens
// output folder) copied into dir as "<stem>.<suffix>", so a per-image dataset (YOLO, VOC) holds
// the frames its labels describe; a photo is referenced where it is. Returns the path the
// labels should name (the copy, or the photo), or empty with *error.
QString placeImage(const ExportItem &item, const QString &stem, const QString &dir, QString *error);

// Writes bytes atomically (QSaveFile); on failure returns false with a message naming the file.
bool writeFileAtomically(const QString &path, const QByteArray &bytes, QString *error);

// Creates dir (and parents) if needed; false with a message when that is impossible.
bool ensureDirectory(const QString &dir, QString *error);

void setError(QString *error, const QString &message);

// progress(done, total) when set; false (with *error "cancelled") when it asks to stop.
bool keepGoing(const ExportProgress &progress, int done, int total, QString *error);

} // namespace exportutil
} // namespace edgelens
