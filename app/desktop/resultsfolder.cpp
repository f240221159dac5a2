#include "resultsfolder.h"

#include "inputs/imagescanner.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSet>

#include <algorithm>

Q_LOGGING_CATEGORY(lcResultsFolder, "edgelens.app.resultsfolder")

namespace edgelens {

namespace {

constexpr qint64 kMaxSidecarBytes = 64LL * 1024 * 1024;
const QStringList kImagePatterns{QStringLiteral("*.jpg"), QStringLiteral("*.jpeg"), QStringLiteral("*.png")};

bool isSidecar(const QJsonObject &object)
{
    return object.value(QStringLiteral("image")).isString()
        && (object.contains(QStringLiteral("detections")) || object.contains(QStringLiteral("has_detection_data")));
}

QJsonObject readObject(const QString &path, bool *ok)
{
    QFile file(path);
    *ok = false;
    if (!file.open(QIODevice::ReadOnly) || file.size() > kMaxSidecarBytes)
        return {};
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    *ok = doc.isObject();
    return doc.object();
}

} // namespace

bool ResultsFolder::looksLikeOutputFolder(const QString &dir)
{
    const QFileInfo info(dir);
    if (!info.isDir())
        return false;
    if (info.fileName() == QLatin1String("inferenced") || ImageScanner::isOutputFolder(dir))
        return true;
    // Asked on the GUI thread when something is dropped: a look at the folder and its direct
    // subfolders, a few JSON files each, is enough; a folder of photos has none of ours.
    QStringList folders{dir};
    const QFileInfoList subfolders = QDir(dir).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (int i = 0; i < subfolders.size() && i < 50; ++i)
        folders << subfolders.at(i).absoluteFilePath();
    for (const QString &folder : std::as_const(folders)) {
        const QFileInfoList jsons = QDir(folder).entryInfoList({QStringLiteral("*.json")}, QDir::Files);
        for (int i = 0; i < jsons.size() && i < 5; ++i) {
            bool ok = false;
            if (isSidecar(readObject(jsons.at(i).absoluteFilePath(), &ok)))
                return true;
        }
    }
    return false;
}

ResultsFolder::Scan ResultsFolder::scan(const QString &dir)
{
    Scan out;
    QSet<QString> claimedImages; // result images that belong to a sidecar
    QDirIterator sidecars(dir, {QStringLiteral("*.json")}, QDir::Files, QDirIterator::Subdirectories);
    while (sidecars.hasNext()) {
        const QString jsonPath = sidecars.next();
        bool ok = false;
        const QJsonObject object = readObject(jsonPath, &ok);
        if (!ok) {
            out.unreadable << QDir(dir).relativeFilePath(jsonPath);
            continue;
        }
        if (!isSidecar(object))
            continue; // some other JSON (an export, say)
        const QFileInfo sidecarInfo(jsonPath);
        QString resultImage = object.value(QStringLiteral("result_image")).toString();
        resultImage = resultImage.isEmpty() ? sidecarInfo.dir().filePath(sidecarInfo.completeBaseName() + QStringLiteral(".jpg"))
                                            : sidecarInfo.dir().filePath(resultImage);
        const QString resultCanonical = QFileInfo(resultImage).canonicalFilePath();
        if (!resultCanonical.isEmpty())
            claimedImages.insert(resultCanonical);

        const QString original = object.value(QStringLiteral("image")).toString();
        const QFileInfo originalInfo(original);
        // A video's frames were written into the output folder too (frames/<stem>_f<index>.jpg):
        // they are originals, not marked-up images without data.
        const QString originalCanonical = originalInfo.canonicalFilePath();
        if (!originalCanonical.isEmpty())
            claimedImages.insert(originalCanonical);
        if (!originalInfo.isFile()) {
            out.movedOriginals << QStringLiteral("%1: %2").arg(QDir(dir).relativeFilePath(jsonPath),
                                                               QDir::toNativeSeparators(original));
            continue;
        }
        GalleryItem it;
        it.path = originalCanonical;
        it.fileName = originalInfo.fileName();
        it.fileSize = originalInfo.size();
        it.modified = originalInfo.lastModified();
        it.status = GalleryItem::Status::Done;
        it.resultPath = resultCanonical;
        it.sidecarPath = sidecarInfo.canonicalFilePath();
        it.hasDetectionData = sidecar::readAnnotation(object, &it.result, &it.annotation);
        it.device = object.value(QStringLiteral("device")).toString();
        it.finished = sidecarInfo.lastModified();
        it.origin = ImageOrigin::fromJson(object);
        // Grouped as a run groups them (a video's frames, a stream's kept frames): by their
        // source, in frame order.
        if (!it.origin.isPhoto() && !it.origin.source.isEmpty()) {
            it.group = it.origin.source;
            it.groupOrder = it.origin.frameIndex;
        }
        it.refreshLabels();
        out.items.append(std::move(it));
        ++out.pairs;
    }
    QDirIterator images(dir, kImagePatterns, QDir::Files, QDirIterator::Subdirectories);
    while (images.hasNext()) {
        const QFileInfo info(images.next());
        const QString canonical = info.canonicalFilePath();
        if (claimedImages.contains(canonical))
            continue;
        GalleryItem it;
        it.path = canonical;
        it.fileName = info.fileName();
        it.fileSize = info.size();
        it.modified = info.lastModified();
        it.status = GalleryItem::Status::Done;
        it.resultPath = canonical; // shown as the result; never written to
        it.resultsOnly = true;
        it.finished = info.lastModified();
        out.items.append(std::move(it));
        ++out.resultsOnly;
    }
    // The folder's listing order is the file system's: photos by path, a video's frames
    // together in frame-index order, so the gallery adds them as a run would.
    const auto key = [](const GalleryItem &it) { return it.group.isEmpty() ? it.path : it.group; };
    std::stable_sort(out.items.begin(), out.items.end(), [&key](const GalleryItem &a, const GalleryItem &b) {
        const int byKey = QString::compare(key(a), key(b));
        return byKey != 0 ? byKey < 0 : a.groupOrder < b.groupOrder;
    });
    qCInfo(lcResultsFolder) << dir << ":" << out.pairs << "pairs," << out.resultsOnly << "results only,"
                            << out.movedOriginals.size() << "originals missing";
    return out;
}

} // namespace edgelens
