#include "imagescanner.h"

#include "inputs/videofilesource.h"

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

bool ImageScanner::isInside(const QString &path, const QString &folder)
{
    return path == folder || path.startsWith(folder.endsWith(QLatin1Char('/')) ? folder : folder + QLatin1Char('/'));
}

QString ImageScanner::outputMarkerName()
{
    return QStringLiteral(".edgelens-output");
}

bool ImageScanner::isOutputFolder(const QString &folder)
{
    return QFileInfo(QDir(folder).filePath(outputMarkerName())).isFile();
}

int ImageScanner::countImages(const QString &folder)
{
    int count = 0;
    QDirIterator it(folder, QDir::Files | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        if (isSupportedImage(it.next()))
            ++count;
    }
    return count;
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
        const bool video = VideoFileSource::isSupportedVideo(file.fileName());
        if (!video && !isSupportedImage(file.fileName())) {
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
        (video ? result.videos : result.images).append({QDir::cleanPath(file.absoluteFilePath()), relative, {}});
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
        // Walked by hand rather than with QDirIterator::Subdirectories so that a skipped
        // folder is pruned whole instead of being listed and filtered file by file.
        QStringList files;
        QStringList folders{root.absolutePath()};
        while (!folders.isEmpty()) {
            const QDir dir(folders.takeLast());
            const QFileInfoList entries =
                dir.entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot | QDir::Readable, QDir::NoSort);
            for (const QFileInfo &entry : entries) {
                if (!entry.isDir()) {
                    files.append(entry.absoluteFilePath());
                    continue;
                }
                if (entry.isSymLink())
                    continue; // a link back up the tree would never end
                if (excluded(entry.canonicalFilePath()) || isOutputFolder(entry.absoluteFilePath())) {
                    ++result.skippedOutputFolders;
                    result.skippedOutputImages += countImages(entry.absoluteFilePath());
                    qCDebug(lcScanner) << "skipping EdgeLens output folder" << entry.absoluteFilePath();
                    continue;
                }
                folders.append(entry.absoluteFilePath());
            }
        }
        std::sort(files.begin(), files.end());
        for (const QString &file : std::as_const(files))
            consider(QFileInfo(file), root.relativeFilePath(file));
    }
    qCDebug(lcScanner) << result.images.size() << "images," << result.videos.size() << "videos," << result.skipped.size() << "skipped,"
                       << result.missing.size() << "missing," << result.duplicates << "duplicates,"
                       << result.skippedOutputFolders << "output folders skipped";
    return result;
}

} // namespace edgelens
