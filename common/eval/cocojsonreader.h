#pragma once

#include "eval/groundtruth.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace edgelens {

// Reads a COCO instances JSON (images, annotations, categories). COCO's sparse category ids
// (1..90 for COCO itself) become model classes 0..N-1 by ascending id, which is the order of
// coco.names. Images come out by ascending id, as pycocotools evaluates them.
class CocoJsonReader final
{
public:
    // Errors name the file and the offending entry: "x.json: annotations[3].bbox: expected 4 numbers".
    static std::optional<GroundTruthSet> read(const QString &path, QString *error);
    static std::optional<GroundTruthSet> parse(const QByteArray &json, const QString &origin, QString *error);

    static constexpr qint64 kMaxFileBytes = 1024LL * 1024 * 1024;
};

} // namespace edgelens
