#include "export/cocoexport.h"

#include "export/trackassigner.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMap>

#include <algorithm>

Q_LOGGING_CATEGORY(lcCocoExport, "edgelens.export.coco")

namespace edgelens {

using exportutil::setError;

namespace {

// A COCO file far larger than any annotation set we produce is almost certainly the wrong
// file; refusing it keeps memory bounded.
constexpr qint64 kMaxCocoBytes = 512LL * 1024 * 1024;

} // namespace

bool exportCoco(const QList<ExportItem> &items, const QStringList &classNames, const QString &file, QString *error,
                const ExportProgress &progress)
{
    if (file.isEmpty()) {
        setError(error, QStringLiteral("No output file given."));
        return false;
    }
    const QFileInfo target(file);
    if (!exportutil::ensureDirectory(target.absolutePath(), error))
        return false;
    const QDir baseDir(target.absolutePath());

    const QStringList names = exportutil::collectClassNames(items, classNames);
    QHash<QString, int> categoryIds;
    QJsonArray categories;
    for (int i = 0; i < names.size(); ++i) {
        categoryIds.insert(names.at(i), i + 1);
        categories.append(QJsonObject{{QStringLiteral("id"), i + 1},
                                      {QStringLiteral("name"), names.at(i)},
                                      {QStringLiteral("supercategory"), QStringLiteral("object")}});
    }

    // The boxes of a video's frames follow their objects (track_id); ids a person kept stay.
    QList<ExportItem> tracked = items;
    TrackAssigner::assignVideoTracks(tracked, classNames);
    QJsonArray images;
    QJsonArray annotations;
    int annotationId = 1;
    for (int i = 0; i < items.size(); ++i) {
        if (!exportutil::keepGoing(progress, i, int(items.size()), error))
            return false; // nothing written yet: the file is written whole at the end
        const ExportItem &item = tracked.at(i);
        if (item.imagePath.isEmpty()) {
            setError(error, QStringLiteral("Item %1 has no image path.").arg(i + 1));
            return false;
        }
        const QString absolute = QFileInfo(item.imagePath).absoluteFilePath();
        QJsonObject image{{QStringLiteral("id"), i + 1},
                          {QStringLiteral("file_name"), baseDir.relativeFilePath(absolute)},
                          {QStringLiteral("width"), item.width},
                          {QStringLiteral("height"), item.height}};
        // A frame says which video, which frame and when ("video", "frame_index", "timestamp_ms").
        item.origin.writeTo(image);
        images.append(image);
        for (const Detection &detection : item.detections) {
            const QRectF &box = detection.box;
            const QString label = exportutil::effectiveLabel(detection, classNames);
            annotations.append(QJsonObject{
                {QStringLiteral("id"), annotationId++},
                {QStringLiteral("image_id"), i + 1},
                {QStringLiteral("category_id"), categoryIds.value(label)},
                {QStringLiteral("bbox"), QJsonArray{box.x(), box.y(), box.width(), box.height()}},
                {QStringLiteral("area"), box.width() * box.height()},
                {QStringLiteral("iscrowd"), 0},
                {QStringLiteral("score"), double(detection.confidence)},
            });
            if (detection.trackId > 0) {
                QJsonObject last = annotations.last().toObject();
                last.insert(QStringLiteral("track_id"), detection.trackId);
                annotations[annotations.size() - 1] = last;
            }
        }
    }

    const QJsonObject root{
        {QStringLiteral("info"),
         QJsonObject{{QStringLiteral("description"), QStringLiteral("EdgeLens detections")},
                     {QStringLiteral("version"), QStringLiteral("1.0")}}},
        {QStringLiteral("licenses"), QJsonArray()},
        {QStringLiteral("images"), images},
        {QStringLiteral("annotations"), annotations},
        {QStringLiteral("categories"), categories},
    };
    qCDebug(lcCocoExport) << "writing" << items.size() << "images," << annotationId - 1 << "annotations to" << file;
    return exportutil::writeFileAtomically(file, QJsonDocument(root).toJson(QJsonDocument::Indented), error);
}

QList<ExportItem> readCoco(const QString &file, QString *error, QStringList *classNames)
{
    setError(error, QString());
    const QString shown = QDir::toNativeSeparators(file);
    QFile in(file);
    if (!in.open(QIODevice::ReadOnly)) {
        setError(error, QStringLiteral("Cannot open %1: %2").arg(shown, in.errorString()));
        return {};
    }
    if (in.size() > kMaxCocoBytes) {
        setError(error, QStringLiteral("%1 is too large for a COCO annotation file (%2 MB).").arg(shown).arg(in.size() >> 20));
        return {};
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(in.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        setError(error, QStringLiteral("%1: invalid JSON at offset %2: %3").arg(shown).arg(parseError.offset).arg(parseError.errorString()));
        return {};
    }
    if (!doc.isObject()) {
        setError(error, QStringLiteral("%1: expected a JSON object at the top level.").arg(shown));
        return {};
    }
    const QJsonObject root = doc.object();
    for (const char *key : {"images", "annotations", "categories"}) {
        if (!root.value(QLatin1String(key)).isArray()) {
            setError(error, QStringLiteral("%1: \"%2\" is missing or not an array.").arg(shown, QLatin1String(key)));
            return {};
        }
    }

    // Category ids may be sparse (COCO's own go up to 90); classId is the rank by id.
    QMap<qint64, QString> categoriesById;
    for (const QJsonValue &value : root.value(QStringLiteral("categories")).toArray()) {
        const QJsonObject category = value.toObject();
        if (!category.value(QStringLiteral("id")).isDouble() || !category.value(QStringLiteral("name")).isString()) {
            setError(error, QStringLiteral("%1: categories: every entry needs a numeric \"id\" and a \"name\".").arg(shown));
            return {};
        }
        categoriesById.insert(category.value(QStringLiteral("id")).toInteger(), category.value(QStringLiteral("name")).toString());
    }
    QHash<qint64, int> classIdOf;
    QStringList names;
    for (auto it = categoriesById.cbegin(); it != categoriesById.cend(); ++it) {
        classIdOf.insert(it.key(), int(names.size()));
        names.append(it.value());
    }

    const QDir baseDir = QFileInfo(file).absoluteDir();
    QList<ExportItem> items;
    QHash<qint64, int> indexOfImage;
    for (const QJsonValue &value : root.value(QStringLiteral("images")).toArray()) {
        const QJsonObject image = value.toObject();
        if (!image.value(QStringLiteral("id")).isDouble() || !image.value(QStringLiteral("file_name")).isString()) {
            setError(error, QStringLiteral("%1: images: every entry needs a numeric \"id\" and a \"file_name\".").arg(shown));
            return {};
        }
        const qint64 id = image.value(QStringLiteral("id")).toInteger();
        if (indexOfImage.contains(id)) {
            setError(error, QStringLiteral("%1: images: id %2 appears twice.").arg(shown).arg(id));
            return {};
        }
        ExportItem item;
        item.imagePath = QDir::cleanPath(baseDir.absoluteFilePath(image.value(QStringLiteral("file_name")).toString()));
        item.width = image.value(QStringLiteral("width")).toInt();
        item.height = image.value(QStringLiteral("height")).toInt();
        item.origin = ImageOrigin::fromJson(image);
        indexOfImage.insert(id, int(items.size()));
        items.append(item);
    }

    for (const QJsonValue &value : root.value(QStringLiteral("annotations")).toArray()) {
        const QJsonObject annotation = value.toObject();
        const qint64 imageId = annotation.value(QStringLiteral("image_id")).toInteger(-1);
        const qint64 categoryId = annotation.value(QStringLiteral("category_id")).toInteger(-1);
        const QJsonArray bbox = annotation.value(QStringLiteral("bbox")).toArray();
        if (!indexOfImage.contains(imageId)) {
            setError(error, QStringLiteral("%1: annotation %2 refers to unknown image_id %3.")
                                .arg(shown).arg(annotation.value(QStringLiteral("id")).toInteger()).arg(imageId));
            return {};
        }
        if (!classIdOf.contains(categoryId)) {
            setError(error, QStringLiteral("%1: annotation %2 refers to unknown category_id %3.")
                                .arg(shown).arg(annotation.value(QStringLiteral("id")).toInteger()).arg(categoryId));
            return {};
        }
        if (bbox.size() != 4 || !std::all_of(bbox.cbegin(), bbox.cend(), [](const QJsonValue &v) { return v.isDouble(); })) {
            setError(error, QStringLiteral("%1: annotation %2: bbox must be 4 numbers [x, y, w, h].")
                                .arg(shown).arg(annotation.value(QStringLiteral("id")).toInteger()));
            return {};
        }
        Detection detection;
        detection.classId = classIdOf.value(categoryId);
        detection.label = names.at(detection.classId);
        detection.confidence = float(annotation.value(QStringLiteral("score")).toDouble(1.0));
        detection.box = QRectF(bbox.at(0).toDouble(), bbox.at(1).toDouble(), bbox.at(2).toDouble(), bbox.at(3).toDouble());
        detection.trackId = std::max(0, annotation.value(QStringLiteral("track_id")).toInt(0));
        items[indexOfImage.value(imageId)].detections.append(detection);
    }

    if (classNames)
        *classNames = names;
    return items;
}

} // namespace edgelens
