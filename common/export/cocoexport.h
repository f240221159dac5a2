#pragma once

#include "export/exportitem.h"

namespace edgelens {

// COCO "instances" JSON: images (ids 1..M, file_name relative to the JSON's folder, width,
// height), annotations (bbox [x, y, w, h] in pixels, area, iscrowd 0, plus a "score"
// that COCO tools ignore) and categories with ids 1..N in the order of
// exportutil::collectClassNames(items, classNames). A frame of a video also gets "video"
// {path, bytes, width, height}, "frame_index" and "timestamp_ms" on its image entry, and its
// boxes a "track_id" (TrackAssigner::assignVideoTracks; ids given before are kept).
bool exportCoco(const QList<ExportItem> &items, const QStringList &classNames, const QString &file, QString *error,
                const ExportProgress &progress = {});

// Reads such a file (or any COCO instances file) back. classId is the category's position
// in the id-sorted category list (so 0..N-1 for files exportCoco wrote); confidence is the
// "score" when present, else 1. Image paths are resolved against the JSON's folder; a video
// frame's origin and its boxes' track ids are read back.
// Returns an empty list with *error set on failure; classNames, when given, receives the
// category names in that same order.
QList<ExportItem> readCoco(const QString &file, QString *error, QStringList *classNames = nullptr);

} // namespace edgelens
