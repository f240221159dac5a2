#include "cocojsonreader.h"

#include "eval/boundedfile.h"

#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

#include <algorithm>
#include <cmath>
#include <map>

Q_LOGGING_CATEGORY(lcCocoReader, "edgelens.eval.cocoreader", QtInfoMsg)

namespace edgelens {

namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

// COCO writes ids as JSON numbers; accept only whole, finite values.
bool readId(const QJsonValue &value, qint64 *id)
{
    if (!value.isDouble())
        return false;
    const double d = value.toDouble();
    if (!std::isfinite(d) || d != std::floor(d) || std::abs(d) > 9.0e15)
        return false;
    *id = qint64(d);
    return true;
}

} // namespace

std::optional<GroundTruthSet> CocoJsonReader::read(const QString &path, QString *error)
{
    const QString origin = QFileInfo(path).fileName();
    const std::optional<QByteArray> json =
        BoundedFile::read(path, kMaxFileBytes, QStringLiteral("a COCO annotations file"), error);
    if (!json)
        return std::nullopt;
    return parse(*json, origin, error);
}

std::optional<GroundTruthSet> CocoJsonReader::parse(const QByteArray &json, const QString &origin, QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        fail(error, QStringLiteral("%1: not valid JSON at byte %2: %3")
                        .arg(origin)
                        .arg(parseError.offset)
                        .arg(parseError.errorString()));
        return std::nullopt;
    }
    if (!doc.isObject()) {
        fail(error, QStringLiteral("%1: expected a JSON object with images, annotations and categories").arg(origin));
        return std::nullopt;
    }
    const QJsonObject root = doc.object();
    for (const char *key : {"images", "annotations", "categories"}) {
        if (!root.value(QLatin1String(key)).isArray()) {
            fail(error, QStringLiteral("%1: %2: expected an array (is this a COCO instances file?)")
                            .arg(origin, QLatin1String(key)));
            return std::nullopt;
        }
    }

    // Categories: ascending COCO id -> class 0..N-1.
    std::map<qint64, QString> categories;
    const QJsonArray cats = root.value(QStringLiteral("categories")).toArray();
    for (qsizetype i = 0; i < cats.size(); ++i) {
        const QJsonObject cat = cats.at(i).toObject();
        qint64 id = 0;
        if (!readId(cat.value(QStringLiteral("id")), &id)) {
            fail(error, QStringLiteral("%1: categories[%2].id: expected an integer").arg(origin).arg(i));
            return std::nullopt;
        }
        if (categories.count(id)) {
            fail(error, QStringLiteral("%1: categories[%2].id: %3 appears twice").arg(origin).arg(i).arg(id));
            return std::nullopt;
        }
        categories[id] = cat.value(QStringLiteral("name")).toString(QString::number(id));
    }
    GroundTruthSet set;
    QHash<qint64, int> classOfCategory;
    for (const auto &entry : categories) {
        classOfCategory.insert(entry.first, int(set.classNames.size()));
        set.classNames.append(entry.second);
    }

    // Images, by ascending id.
    const QJsonArray images = root.value(QStringLiteral("images")).toArray();
    std::map<qint64, GroundTruthImage> byId;
    for (qsizetype i = 0; i < images.size(); ++i) {
        const QJsonObject img = images.at(i).toObject();
        GroundTruthImage image;
        if (!readId(img.value(QStringLiteral("id")), &image.id)) {
            fail(error, QStringLiteral("%1: images[%2].id: expected an integer").arg(origin).arg(i));
            return std::nullopt;
        }
        image.fileName = img.value(QStringLiteral("file_name")).toString();
        if (image.fileName.isEmpty()) {
            fail(error, QStringLiteral("%1: images[%2].file_name: expected a file name").arg(origin).arg(i));
            return std::nullopt;
        }
        image.width = img.value(QStringLiteral("width")).toInt();
        image.height = img.value(QStringLiteral("height")).toInt();
        if (byId.count(image.id)) {
            fail(error, QStringLiteral("%1: images[%2].id: %3 appears twice").arg(origin).arg(i).arg(image.id));
            return std::nullopt;
        }
        byId.emplace(image.id, std::move(image));
    }

    const QJsonArray annotations = root.value(QStringLiteral("annotations")).toArray();
    for (qsizetype i = 0; i < annotations.size(); ++i) {
        const QJsonObject ann = annotations.at(i).toObject();
        const QString where = QStringLiteral("%1: annotations[%2]").arg(origin).arg(i);
        qint64 imageId = 0;
        qint64 categoryId = 0;
        if (!readId(ann.value(QStringLiteral("image_id")), &imageId)) {
            fail(error, where + QStringLiteral(".image_id: expected an integer"));
            return std::nullopt;
        }
        const auto imageIt = byId.find(imageId);
        if (imageIt == byId.end()) {
            fail(error, where + QStringLiteral(".image_id: no image has id %1").arg(imageId));
            return std::nullopt;
        }
        if (!readId(ann.value(QStringLiteral("category_id")), &categoryId)
            || !classOfCategory.contains(categoryId)) {
            fail(error, where + QStringLiteral(".category_id: not one of the file's categories"));
            return std::nullopt;
        }
        const QJsonArray bbox = ann.value(QStringLiteral("bbox")).toArray();
        bool numbers = bbox.size() == 4;
        for (const QJsonValue &v : bbox)
            numbers = numbers && v.isDouble() && std::isfinite(v.toDouble());
        if (!numbers) {
            fail(error, where + QStringLiteral(".bbox: expected 4 numbers [x, y, width, height]"));
            return std::nullopt;
        }
        GroundTruthBox box;
        box.classId = classOfCategory.value(categoryId);
        box.box = QRectF(bbox.at(0).toDouble(), bbox.at(1).toDouble(), bbox.at(2).toDouble(), bbox.at(3).toDouble());
        // pycocotools: ignore = iscrowd (an explicit "ignore" key is overwritten by it).
        const QJsonValue crowd = ann.value(QStringLiteral("iscrowd"));
        box.crowd = crowd.isBool() ? crowd.toBool() : crowd.toInt() != 0;
        const QJsonValue area = ann.value(QStringLiteral("area"));
        box.area = area.isDouble() ? area.toDouble() : -1;
        imageIt->second.boxes.append(box);
    }

    set.images.reserve(qsizetype(byId.size()));
    for (auto &entry : byId)
        set.images.append(std::move(entry.second));
    qCDebug(lcCocoReader) << origin << ":" << set.images.size() << "images," << annotations.size()
                          << "annotations," << set.classNames.size() << "categories";
    return set;
}

} // namespace edgelens
