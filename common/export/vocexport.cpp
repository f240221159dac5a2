#include "export/vocexport.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QXmlStreamReader>
#include <QXmlStreamWriter>

#include <cmath>

Q_LOGGING_CATEGORY(lcVocExport, "edgelens.export.voc")

namespace edgelens {

using exportutil::setError;

namespace {

constexpr qint64 kMaxVocBytes = 16LL * 1024 * 1024;

QByteArray annotationXml(const ExportItem &item, const QStringList &classNames)
{
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QXmlStreamWriter xml(&buffer);
    xml.setAutoFormatting(true);
    xml.writeStartDocument();
    xml.writeStartElement(QStringLiteral("annotation"));
    const QFileInfo image(item.imagePath);
    xml.writeTextElement(QStringLiteral("folder"), image.absoluteDir().dirName());
    xml.writeTextElement(QStringLiteral("filename"), image.fileName());
    xml.writeTextElement(QStringLiteral("path"), image.absoluteFilePath());
    xml.writeStartElement(QStringLiteral("source"));
    xml.writeTextElement(QStringLiteral("database"), QStringLiteral("EdgeLens"));
    xml.writeEndElement();
    xml.writeStartElement(QStringLiteral("size"));
    xml.writeTextElement(QStringLiteral("width"), QString::number(item.width));
    xml.writeTextElement(QStringLiteral("height"), QString::number(item.height));
    xml.writeTextElement(QStringLiteral("depth"), QStringLiteral("3"));
    xml.writeEndElement();
    xml.writeTextElement(QStringLiteral("segmented"), QStringLiteral("0"));

    const bool clip = item.width > 0 && item.height > 0;
    for (const Detection &detection : item.detections) {
        const QRectF box = detection.box.normalized();
        double x1 = std::round(box.left());
        double y1 = std::round(box.top());
        double x2 = std::round(box.right());
        double y2 = std::round(box.bottom());
        if (clip) {
            x1 = qBound(0.0, x1, double(item.width));
            x2 = qBound(0.0, x2, double(item.width));
            y1 = qBound(0.0, y1, double(item.height));
            y2 = qBound(0.0, y2, double(item.height));
        }
        if (x2 <= x1 || y2 <= y1) {
            qCWarning(lcVocExport) << "skipping a box outside" << item.imagePath << detection.box;
            continue;
        }
        // A box cut by the image border is what VOC calls truncated.
        const bool truncated = clip && (box.left() < 0 || box.top() < 0 || box.right() > item.width || box.bottom() > item.height);
        xml.writeStartElement(QStringLiteral("object"));
        xml.writeTextElement(QStringLiteral("name"), exportutil::effectiveLabel(detection, classNames));
        xml.writeTextElement(QStringLiteral("pose"), QStringLiteral("Unspecified"));
        xml.writeTextElement(QStringLiteral("truncated"), truncated ? QStringLiteral("1") : QStringLiteral("0"));
        xml.writeTextElement(QStringLiteral("difficult"), QStringLiteral("0"));
        xml.writeTextElement(QStringLiteral("confidence"), QString::number(detection.confidence, 'f', 4));
        xml.writeStartElement(QStringLiteral("bndbox"));
        xml.writeTextElement(QStringLiteral("xmin"), QString::number(qint64(x1)));
        xml.writeTextElement(QStringLiteral("ymin"), QString::number(qint64(y1)));
        xml.writeTextElement(QStringLiteral("xmax"), QString::number(qint64(x2)));
        xml.writeTextElement(QStringLiteral("ymax"), QString::number(qint64(y2)));
        xml.writeEndElement(); // bndbox
        xml.writeEndElement(); // object
    }
    xml.writeEndElement(); // annotation
    xml.writeEndDocument();
    return bytes;
}

double readNumber(QXmlStreamReader &xml, bool *ok)
{
    const QString text = xml.readElementText().trimmed();
    const double value = text.toDouble(ok);
    if (*ok && !std::isfinite(value))
        *ok = false;
    if (!*ok)
        xml.raiseError(QStringLiteral("<%1> holds \"%2\", not a number").arg(xml.name().toString(), text));
    return value;
}

bool readObject(QXmlStreamReader &xml, const QStringList &classNames, Detection *detection)
{
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    bool haveBox = false;
    detection->confidence = 1.0f;
    while (xml.readNextStartElement()) {
        const auto name = xml.name();
        bool ok = true;
        if (name == QLatin1String("name")) {
            detection->label = xml.readElementText();
        } else if (name == QLatin1String("confidence")) {
            detection->confidence = float(readNumber(xml, &ok));
        } else if (name == QLatin1String("bndbox")) {
            int seen = 0;
            while (xml.readNextStartElement()) {
                const auto coord = xml.name();
                if (coord == QLatin1String("xmin"))
                    x1 = readNumber(xml, &ok), seen |= 1;
                else if (coord == QLatin1String("ymin"))
                    y1 = readNumber(xml, &ok), seen |= 2;
                else if (coord == QLatin1String("xmax"))
                    x2 = readNumber(xml, &ok), seen |= 4;
                else if (coord == QLatin1String("ymax"))
                    y2 = readNumber(xml, &ok), seen |= 8;
                else
                    xml.skipCurrentElement();
                if (!ok)
                    return false;
            }
            if (seen != 15) {
                xml.raiseError(QStringLiteral("<bndbox> needs xmin, ymin, xmax and ymax"));
                return false;
            }
            haveBox = true;
        } else {
            xml.skipCurrentElement();
        }
        if (!ok)
            return false;
    }
    if (!haveBox) {
        xml.raiseError(QStringLiteral("<object> without <bndbox>"));
        return false;
    }
    detection->classId = int(classNames.indexOf(detection->label));
    detection->box = QRectF(QPointF(x1, y1), QPointF(x2, y2));
    return !xml.hasError();
}

bool readAnnotation(const QString &path, const QStringList &classNames, ExportItem *item, QString *error)
{
    const QString shown = QDir::toNativeSeparators(path);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        setError(error, QStringLiteral("Cannot open %1: %2").arg(shown, file.errorString()));
        return false;
    }
    if (file.size() > kMaxVocBytes) {
        setError(error, QStringLiteral("%1 is too large for a VOC annotation.").arg(shown));
        return false;
    }
    QXmlStreamReader xml(&file);
    QString fileName;
    QString imagePath;
    if (!xml.readNextStartElement() || xml.name() != QLatin1String("annotation")) {
        setError(error, QStringLiteral("%1: not a Pascal VOC annotation (root element must be <annotation>).").arg(shown));
        return false;
    }
    while (xml.readNextStartElement()) {
        const auto name = xml.name();
        if (name == QLatin1String("filename")) {
            fileName = xml.readElementText();
        } else if (name == QLatin1String("path")) {
            imagePath = xml.readElementText();
        } else if (name == QLatin1String("size")) {
            while (xml.readNextStartElement()) {
                bool ok = true;
                if (xml.name() == QLatin1String("width"))
                    item->width = int(readNumber(xml, &ok));
                else if (xml.name() == QLatin1String("height"))
                    item->height = int(readNumber(xml, &ok));
                else
                    xml.skipCurrentElement();
                if (!ok)
                    break;
            }
        } else if (name == QLatin1String("object")) {
            Detection detection;
            if (!readObject(xml, classNames, &detection))
                break;
            item->detections.append(detection);
        } else {
            xml.skipCurrentElement();
        }
    }
    if (xml.hasError()) {
        setError(error, QStringLiteral("%1:%2: %3").arg(shown).arg(xml.lineNumber()).arg(xml.errorString()));
        return false;
    }
    if (imagePath.isEmpty() && !fileName.isEmpty())
        imagePath = QFileInfo(path).absoluteDir().filePath(fileName);
    item->imagePath = QDir::cleanPath(imagePath);
    return true;
}

} // namespace

bool exportVoc(const QList<ExportItem> &items, const QString &dir, QString *error, const QStringList &classNames,
               const ExportProgress &progress)
{
    if (!exportutil::ensureDirectory(dir, error))
        return false;
    const QDir out(dir);
    const QStringList stems = exportutil::uniqueStems(items);
    for (int i = 0; i < items.size(); ++i) {
        if (!exportutil::keepGoing(progress, i, int(items.size()), error))
            return false;
        if (items.at(i).imagePath.isEmpty()) {
            setError(error, QStringLiteral("Item %1 has no image path.").arg(i + 1));
            return false;
        }
        // A video frame goes beside its annotation; the annotation names where the image is.
        ExportItem item = items.at(i);
        item.imagePath = exportutil::placeImage(item, stems.at(i), dir, error);
        if (item.imagePath.isEmpty())
            return false;
        if (!exportutil::writeFileAtomically(out.filePath(stems.at(i) + QStringLiteral(".xml")), annotationXml(item, classNames), error))
            return false;
    }
    return true;
}

QList<ExportItem> readVoc(const QString &dir, QString *error, const QStringList &classNames)
{
    setError(error, QString());
    const QDir in(dir);
    if (!in.exists()) {
        setError(error, QStringLiteral("Folder %1 does not exist.").arg(QDir::toNativeSeparators(dir)));
        return {};
    }
    QList<ExportItem> items;
    const QStringList files = in.entryList({QStringLiteral("*.xml")}, QDir::Files, QDir::Name);
    for (const QString &name : files) {
        ExportItem item;
        if (!readAnnotation(in.filePath(name), classNames, &item, error))
            return {};
        items.append(item);
    }
    return items;
}

} // namespace edgelens
