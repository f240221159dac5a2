#include "evaldataset.h"

#include "eval/cocojsonreader.h"
#include "eval/yolotxtreader.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QHash>
#include <QLoggingCategory>

#include <algorithm>

Q_LOGGING_CATEGORY(lcDataset, "edgelens.eval.dataset", QtInfoMsg)

namespace edgelens {

QStringList EvalDataset::scanImages(const QString &dir)
{
    static const QStringList patterns = {
        QStringLiteral("*.jpg"), QStringLiteral("*.jpeg"), QStringLiteral("*.png"), QStringLiteral("*.bmp"),
        QStringLiteral("*.webp"), QStringLiteral("*.tif"), QStringLiteral("*.tiff"), QStringLiteral("*.jpe"),
        QStringLiteral("*.dib"), QStringLiteral("*.pbm"), QStringLiteral("*.pgm"), QStringLiteral("*.ppm"),
    };
    // Absolute: relativeFilePath() of a relative folder gave the path back whole, so
    // `eval --images ../x/images` looked for ../x/images/../x/images/a.jpg.
    const QString absolute = QFileInfo(dir).absoluteFilePath();
    const QDir root(absolute);
    QStringList files;
    // The types edgelens-cli scans; name filters are case-insensitive unless asked otherwise.
    QDirIterator it(absolute, patterns, QDir::Files | QDir::Readable, QDirIterator::Subdirectories);
    while (it.hasNext())
        files.append(root.relativeFilePath(it.next()));
    std::sort(files.begin(), files.end());
    return files;
}

std::optional<EvalDataset> EvalDataset::load(const QString &imagesDir, const QString &annotations, int classCount,
                                             QString *error)
{
    const auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (!QFileInfo(imagesDir).isDir())
        return fail(QStringLiteral("%1: not a folder of images").arg(imagesDir));
    const QFileInfo annotationsInfo(annotations);
    if (!annotationsInfo.exists())
        return fail(QStringLiteral("%1: no such file or folder").arg(annotations));

    const QStringList files = scanImages(imagesDir);
    if (files.isEmpty())
        return fail(QStringLiteral("%1: no images (jpg, jpeg, png, bmp, webp, tif, ...) found").arg(imagesDir));
    const QDir imageRoot(imagesDir);

    EvalDataset dataset;
    if (annotationsInfo.isFile()) {
        dataset.format = Format::CocoJson;
        QString readError;
        std::optional<GroundTruthSet> set = CocoJsonReader::read(annotations, &readError);
        if (!set)
            return fail(readError);
        dataset.classNames = set->classNames;

        // COCO file_name is usually a bare name; accept a relative path too.
        QHash<QString, QString> byRelative;
        QHash<QString, QStringList> byName;
        for (const QString &rel : files) {
            byRelative.insert(rel, rel);
            byName[QFileInfo(rel).fileName()].append(rel);
        }
        int missing = 0;
        QString firstMissing;
        for (GroundTruthImage &gt : set->images) {
            QString rel = byRelative.value(QDir::cleanPath(gt.fileName));
            if (rel.isEmpty()) {
                const QStringList candidates = byName.value(QFileInfo(gt.fileName).fileName());
                if (candidates.size() == 1)
                    rel = candidates.first();
            }
            if (rel.isEmpty()) {
                if (missing++ == 0)
                    firstMissing = gt.fileName;
                continue;
            }
            dataset.images.append({imageRoot.filePath(rel), rel, std::move(gt)});
        }
        if (dataset.images.isEmpty())
            return fail(QStringLiteral("%1: none of its %2 images is in %3 (first: %4)")
                            .arg(annotations)
                            .arg(set->images.size())
                            .arg(imagesDir, firstMissing));
        if (missing > 0) {
            dataset.warnings.append(QStringLiteral("%1 of %2 images in %3 are not in %4 (first: %5); scored without them")
                                        .arg(missing)
                                        .arg(set->images.size())
                                        .arg(annotationsInfo.fileName(), imagesDir, firstMissing));
        }
        const int unannotated = int(files.size() - dataset.images.size());
        if (unannotated > 0)
            dataset.warnings.append(QStringLiteral("%1 images in %2 have no entry in %3 and are not scored")
                                        .arg(unannotated)
                                        .arg(imagesDir, annotationsInfo.fileName()));
        return dataset;
    }

    dataset.format = Format::YoloTxt;
    dataset.classNames = YoloTxtReader::readClassNames(annotations);
    const int bound = classCount > 0 ? classCount : int(dataset.classNames.size());
    int withoutLabels = 0;
    for (qsizetype i = 0; i < files.size(); ++i) {
        const QString &rel = files.at(i);
        EvalImage image;
        image.path = imageRoot.filePath(rel);
        image.relativePath = rel;
        image.groundTruth.fileName = rel;
        image.groundTruth.id = i;
        const QSize size = YoloTxtReader::imageSize(image.path);
        if (!size.isValid())
            return fail(QStringLiteral("%1: cannot read the image size (not an image?)").arg(image.path));
        image.groundTruth.width = size.width();
        image.groundTruth.height = size.height();
        const QString labelFile = YoloTxtReader::labelFileFor(annotations, rel);
        if (labelFile.isEmpty()) {
            ++withoutLabels; // YOLO's convention: no file, no objects
        } else {
            QString readError;
            const auto boxes = YoloTxtReader::readFile(labelFile, size, bound, &readError);
            if (!boxes)
                return fail(readError);
            image.groundTruth.boxes = *boxes;
        }
        dataset.images.append(std::move(image));
    }
    if (withoutLabels == files.size())
        return fail(QStringLiteral("%1: no label file matches any image in %2 (expected <image stem>.txt)")
                        .arg(annotations, imagesDir));
    if (withoutLabels > 0)
        dataset.warnings.append(QStringLiteral("%1 of %2 images have no label file; counted as images without objects")
                                    .arg(withoutLabels)
                                    .arg(files.size()));
    qCDebug(lcDataset) << "YOLO labels:" << dataset.images.size() << "images";
    return dataset;
}

} // namespace edgelens
