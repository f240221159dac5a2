#include "export/exportitem.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QSet>

Q_LOGGING_CATEGORY(lcExportItem, "edgelens.export.item")

namespace edgelens::exportutil {

void setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
}

QString effectiveLabel(const Detection &detection, const QStringList &classNames)
{
    if (!detection.label.isEmpty())
        return detection.label;
    if (detection.classId >= 0 && detection.classId < classNames.size())
        return classNames.at(detection.classId);
    // Without a name or a valid id the only honest label is the id itself.
    return detection.classId >= 0 ? QStringLiteral("class_%1").arg(detection.classId) : QStringLiteral("unknown");
}

QStringList collectClassNames(const QList<ExportItem> &items, const QStringList &classNames)
{
    QStringList names = classNames;
    QSet<QString> known(classNames.cbegin(), classNames.cend());
    for (const ExportItem &item : items) {
        for (const Detection &detection : item.detections) {
            const QString label = effectiveLabel(detection, classNames);
            if (!known.contains(label)) {
                known.insert(label);
                names.append(label);
            }
        }
    }
    return names;
}

QStringList uniqueStems(const QList<ExportItem> &items)
{
    QStringList stems;
    stems.reserve(items.size());
    QSet<QString> used; // case-insensitive: the output may land on a case-insensitive file system
    for (const ExportItem &item : items) {
        QString base = QFileInfo(item.imagePath).completeBaseName();
        if (base.isEmpty())
            base = QStringLiteral("image");
        QString stem = base;
        for (int n = 2; used.contains(stem.toLower()); ++n)
            stem = base + QLatin1Char('_') + QString::number(n);
        used.insert(stem.toLower());
        stems.append(stem);
    }
    return stems;
}

QString placeImage(const ExportItem &item, const QString &stem, const QString &dir, QString *error)
{
    if (item.origin.isPhoto())
        return item.imagePath;
    const QString target = QDir(dir).filePath(stem + QLatin1Char('.') + QFileInfo(item.imagePath).suffix());
    if (QFileInfo(target).canonicalFilePath() == QFileInfo(item.imagePath).canonicalFilePath()
        && !QFileInfo(target).canonicalFilePath().isEmpty())
        return target; // exported into the frames folder itself
    QFile source(item.imagePath);
    if (!source.open(QIODevice::ReadOnly)) {
        setError(error, QStringLiteral("Cannot read the frame %1: %2")
                            .arg(QDir::toNativeSeparators(item.imagePath), source.errorString()));
        return {};
    }
    // Frames are a few hundred KB; read whole and written atomically like every export file.
    if (!writeFileAtomically(target, source.readAll(), error))
        return {};
    return target;
}

bool writeFileAtomically(const QString &path, const QByteArray &bytes, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        setError(error, QStringLiteral("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
        return false;
    }
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        setError(error, QStringLiteral("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
        qCWarning(lcExportItem) << "write failed" << path << file.errorString();
        return false;
    }
    return true;
}

bool ensureDirectory(const QString &dir, QString *error)
{
    if (dir.isEmpty()) {
        setError(error, QStringLiteral("No output folder given."));
        return false;
    }
    const QFileInfo info(dir);
    if (info.exists() && !info.isDir()) {
        setError(error, QStringLiteral("%1 exists and is not a folder.").arg(QDir::toNativeSeparators(dir)));
        return false;
    }
    if (!QDir().mkpath(dir)) {
        setError(error, QStringLiteral("Cannot create folder %1.").arg(QDir::toNativeSeparators(dir)));
        return false;
    }
    return true;
}

bool keepGoing(const ExportProgress &progress, int done, int total, QString *error)
{
    if (!progress || progress(done, total))
        return true;
    setError(error, QStringLiteral("cancelled"));
    return false;
}

} // namespace edgelens::exportutil
