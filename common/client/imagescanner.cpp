#include "imagescanner.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSet>

#include <algorithm>

Q_LOGGING_CATEGORY(lcScanner, "edgelens.client.scanner", QtInfoMsg)

namespace edgelens {

namespace {

// What both OpenCV's imdecode (the server) and Qt's image readers (previews) handle on Debian.
const QStringList kSuffixes = {
    QStringLiteral("jpg"), QStringLiteral("jpeg"), QStringLiteral("jpe"), QStringLiteral("png"),
    QStringLiteral("bmp"), QStringLiteral("dib"),  QStringLiteral("webp"), QStringLiteral("tif"),
    QStringLiteral("tiff"), QStringLiteral("pbm"), QStringLiteral("pgm"), QStringLiteral("ppm"),
};

bool isInside(const QString &path, const QString &folder)
{
    return path == folder || path.startsWith(folder.endsWith(QLatin1Char('/')) ? folder : folder + QLatin1Char('/'));
}

} // namespace

void ImageScanner::setExcludedFolders(const QStringList &folders)
{
    m_excluded.clear();
    for (const QString &folder : folders) {
        const QFileInfo info(folder);
        const QString canonical = info.canonicalFilePath();
        m_excluded.append(canonical.isEmpty() ? QDir::cleanPath(info.absoluteFilePath()) : canonical);
    }
}

QStringList ImageScanner::supportedSuffixes()
{
    return kSuffixes;
}

bool ImageScanner::isSupportedImage(const QString &fileName)
{
    return kSuffixes.contains(QFileInfo(fileName).suffix().toLower());
}

ScanResult ImageScanner::scan(const QStringList &paths) const
{
    ScanResult result;
    QSet<QString> seen; // canonical paths

    // An excluded folder only hides part of a folder being scanned; one that is the scanned
    // folder itself or above it (`--output . photos/`) must not hide the whole input.
    QStringList activeExclusions;
    auto excluded = [&activeExclusions](const QString &canonical) {
        return std::any_of(activeExclusions.cbegin(), activeExclusions.cend(),
                           [&](const QString &folder) { return isInside(canonical, folder); });
    };
    auto consider = [&](const QFileInfo &file, const QString &relative) {
        if (!isSupportedImage(file.fileName())) {
            result.skipped.append(QDir::cleanPath(file.absoluteFilePath()));
            return;
        }
        const QString canonical = file.canonicalFilePath();
        if (canonical.isEmpty() || !file.isReadable()) {
            result.missing.append(QDir::cleanPath(file.absoluteFilePath()));
            return;
        }
        if (seen.contains(canonical)) {
            ++result.duplicates;
            return;
        }
        seen.insert(canonical);
        result.images.append({QDir::cleanPath(file.absoluteFilePath()), relative});
    };

    for (const QString &path : paths) {
        const QFileInfo info(path);
        if (!info.exists()) {
            result.missing.append(path);
            continue;
        }
        if (info.isFile()) {
            consider(info, info.fileName());
            continue;
        }
        if (!info.isDir() || !info.isReadable()) {
            result.missing.append(path);
            continue;
        }
        const QDir root(info.absoluteFilePath());
        const QString canonicalRoot = info.canonicalFilePath();
        activeExclusions.clear();
        for (const QString &folder : m_excluded) {
            if (folder != canonicalRoot && isInside(folder, canonicalRoot))
                activeExclusions.append(folder);
        }
        QStringList files;
        QDirIterator it(root.absolutePath(), QDir::Files | QDir::NoDotAndDotDot | QDir::Readable,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString file = it.next();
            const QString canonicalDir = QFileInfo(QFileInfo(file).absolutePath()).canonicalFilePath();
            if (excluded(canonicalDir))
                continue;
            files.append(file);
        }
        std::sort(files.begin(), files.end());
        for (const QString &file : std::as_const(files))
            consider(QFileInfo(file), root.relativeFilePath(file));
    }
    qCDebug(lcScanner) << result.images.size() << "images," << result.skipped.size() << "skipped,"
                       << result.missing.size() << "missing," << result.duplicates << "duplicates";
    return result;
}

} // namespace edgelens
