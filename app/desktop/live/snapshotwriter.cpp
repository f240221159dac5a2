#include "snapshotwriter.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>

#include <opencv2/imgcodecs.hpp>

#include <vector>

namespace edgelens {

namespace {

constexpr int kJpegQuality = 95; // an original: what corrections and exports start from

} // namespace

QString SnapshotWriter::defaultFolder()
{
    QString pictures = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    if (pictures.isEmpty())
        pictures = QDir::homePath();
    return QDir(pictures).filePath(QStringLiteral("EdgeLens Snapshots"));
}

QString SnapshotWriter::write(const cv::Mat &frame, const QString &folder, const QString &kind,
                              const QDateTime &capturedAt, QString *error)
{
    if (frame.empty()) {
        *error = QStringLiteral("no frame to keep yet");
        return {};
    }
    if (!QDir().mkpath(folder)) {
        *error = QStringLiteral("cannot create %1").arg(QDir::toNativeSeparators(folder));
        return {};
    }
    static const QRegularExpression unsafe(QStringLiteral("[^A-Za-z0-9_+-]+"));
    QString stem = QString(kind).replace(unsafe, QStringLiteral("-")) + QLatin1Char('_')
        + capturedAt.toLocalTime().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz"));
    QString path = QDir(folder).filePath(stem + QStringLiteral(".jpg"));
    for (int n = 2; QFileInfo::exists(path); ++n)
        path = QDir(folder).filePath(QStringLiteral("%1_%2.jpg").arg(stem).arg(n));
    std::vector<uchar> bytes;
    if (!cv::imencode(".jpg", frame, bytes, {cv::IMWRITE_JPEG_QUALITY, kJpegQuality})) {
        *error = QStringLiteral("the frame could not be encoded");
        return {};
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)
        || file.write(reinterpret_cast<const char *>(bytes.data()), qint64(bytes.size())) != qint64(bytes.size())
        || !file.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString());
        return {};
    }
    return QFileInfo(path).absoluteFilePath();
}

} // namespace edgelens
