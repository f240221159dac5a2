#pragma once

#include "export/exportitem.h"

namespace edgelens {

// Pascal VOC XML: one <stem>.xml per image in dir (stems from exportutil::uniqueStems),
// with <filename>, <path> (absolute), <size>, and per detection an <object> with <name>,
// <bndbox> in whole 0-based pixels clipped to the image (xmax = x + width), plus a
// <confidence> element that VOC tools ignore. Images without detections get a file too.
// classNames only names detections whose label is empty (see exportutil::effectiveLabel).
bool exportVoc(const QList<ExportItem> &items, const QString &dir, QString *error,
               const QStringList &classNames = {}, const ExportProgress &progress = {});

// Reads every *.xml in dir (sorted by file name). imagePath is <path>, or <filename> next to
// the XML when <path> is empty. classId is the name's index in classNames, -1 when absent;
// confidence is <confidence> when present, else 1. Empty list with *error set on failure.
QList<ExportItem> readVoc(const QString &dir, QString *error, const QStringList &classNames = {});

} // namespace edgelens
