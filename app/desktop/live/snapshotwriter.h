#pragma once

#include <QDateTime>
#include <QString>

#include <opencv2/core/mat.hpp>

namespace edgelens {

// A live frame kept as a photo: written once as a JPEG original (atomically, QSaveFile) into
// the snapshots folder, named by what kept it and when ("snapshot_20261206-031512-123.jpg",
// "capture-person_...jpg"), never by the source (its URL may hold credentials). The gallery
// then takes it like any photo: detected, corrected, exported.
class SnapshotWriter final
{
public:
    SnapshotWriter() = delete;

    // Pictures/EdgeLens Snapshots (QStandardPaths; test mode redirects it).
    static QString defaultFolder();
    // The written file's path, or empty with *error.
    static QString write(const cv::Mat &frame, const QString &folder, const QString &kind, const QDateTime &capturedAt,
                         QString *error);
};

} // namespace edgelens
