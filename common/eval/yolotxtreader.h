#pragma once

#include "eval/groundtruth.h"

#include <QList>
#include <QSize>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

// Reads YOLO txt labels: one file per image, one line per box, "class cx cy w h" with the
// centre and size as fractions (0..1) of the image, which is why the image size is needed.
class YoloTxtReader final
{
public:
    // classCount > 0 rejects class ids outside 0..classCount-1.
    // Errors name the file and line: "a.txt:3: expected 5 fields (class cx cy w h), got 4".
    static std::optional<QList<GroundTruthBox>> readFile(const QString &path, QSize imageSize, int classCount,
                                                         QString *error);
    static std::optional<QList<GroundTruthBox>> parse(const QByteArray &text, QSize imageSize, int classCount,
                                                      const QString &origin, QString *error);

    // Where the labels of `imageRelativePath` (relative to the images folder) live: the same
    // relative path with .txt in labelsDir, else <stem>.txt at the top of labelsDir. Empty
    // when neither exists (YOLO's convention for an image without objects).
    static QString labelFileFor(const QString &labelsDir, const QString &imageRelativePath);

    // classes.txt, obj.names or the only *.names file in labelsDir, one name a line; empty if none.
    static QStringList readClassNames(const QString &labelsDir);

    // The size as displayed (EXIF rotation applied, as cv::imdecode does), read from the
    // header only; invalid when the file is not a readable image.
    static QSize imageSize(const QString &imagePath);

    static constexpr qint64 kMaxFileBytes = 64LL * 1024 * 1024;
};

} // namespace edgelens
