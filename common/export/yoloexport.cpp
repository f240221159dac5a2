#include "export/yoloexport.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QLoggingCategory>
#include <QTextStream>

#include <cmath>

Q_LOGGING_CATEGORY(lcYoloExport, "edgelens.export.yolo")

namespace edgelens {

using exportutil::setError;

namespace {

constexpr qint64 kMaxLabelFileBytes = 16LL * 1024 * 1024;
const QString kClassesFile = QStringLiteral("classes.txt");

QString number(double value)
{
    return QString::number(value, 'f', 6);
}

bool readSmallTextFile(const QString &path, QString *text, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        setError(error, QStringLiteral("Cannot open %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
        return false;
    }
    if (file.size() > kMaxLabelFileBytes) {
        setError(error, QStringLiteral("%1 is too large for a label file.").arg(QDir::toNativeSeparators(path)));
        return false;
    }
    *text = QString::fromUtf8(file.readAll());
    return true;
}

} // namespace

bool exportYolo(const QList<ExportItem> &items, const QStringList &classNames, const QString &dir, QString *error,
                bool withConfidence, const ExportProgress &progress)
{
    const QStringList names = exportutil::collectClassNames(items, classNames);
    for (const QString &name : names) {
        if (name.contains(QLatin1Char('\n')) || name.contains(QLatin1Char('\r'))) {
            setError(error, QStringLiteral("Class name \"%1\" contains a line break, which classes.txt cannot hold.")
                                .arg(QString(name).replace(QLatin1Char('\n'), QLatin1Char(' '))));
            return false;
        }
    }
    for (const ExportItem &item : items) {
        if (item.width <= 0 || item.height <= 0) {
            setError(error, QStringLiteral("%1: image size unknown (%2x%3); YOLO labels are relative to it.")
                                .arg(QDir::toNativeSeparators(item.imagePath)).arg(item.width).arg(item.height));
            return false;
        }
    }
    if (!exportutil::ensureDirectory(dir, error))
        return false;

    QHash<QString, int> classIndex;
    for (int i = 0; i < names.size(); ++i)
        classIndex.insert(names.at(i), i);

    const QDir out(dir);
    const QStringList stems = exportutil::uniqueStems(items);
    for (int i = 0; i < items.size(); ++i) {
        if (!exportutil::keepGoing(progress, i, int(items.size()), error))
            return false;
        const ExportItem &item = items.at(i);
        // YOLO pairs images and labels by stem: a video frame goes beside its label file.
        if (exportutil::placeImage(item, stems.at(i), dir, error).isEmpty())
            return false;
        const QRectF bounds(0, 0, item.width, item.height);
        QString text;
        for (const Detection &detection : item.detections) {
            const QRectF box = detection.box.normalized().intersected(bounds);
            if (box.width() <= 0 || box.height() <= 0) {
                qCWarning(lcYoloExport) << "skipping a box outside" << item.imagePath << detection.box;
                continue;
            }
            text += QString::number(classIndex.value(exportutil::effectiveLabel(detection, classNames))) + QLatin1Char(' ')
                + number(box.center().x() / item.width) + QLatin1Char(' ') + number(box.center().y() / item.height)
                + QLatin1Char(' ') + number(box.width() / item.width) + QLatin1Char(' ')
                + number(box.height() / item.height);
            if (withConfidence)
                text += QLatin1Char(' ') + number(detection.confidence);
            text += QLatin1Char('\n');
        }
        if (!exportutil::writeFileAtomically(out.filePath(stems.at(i) + QStringLiteral(".txt")), text.toUtf8(), error))
            return false;
    }
    QString classesText;
    for (const QString &name : names)
        classesText += name + QLatin1Char('\n');
    return exportutil::writeFileAtomically(out.filePath(kClassesFile), classesText.toUtf8(), error);
}

QList<ExportItem> readYolo(const QString &dir, const QList<ExportItem> &images, QString *error, QStringList *classNames)
{
    setError(error, QString());
    const QDir in(dir);
    QString classesText;
    if (!readSmallTextFile(in.filePath(kClassesFile), &classesText, error))
        return {};
    QStringList names = classesText.split(QLatin1Char('\n'));
    while (!names.isEmpty() && names.constLast().isEmpty())
        names.removeLast();

    QList<ExportItem> items;
    items.reserve(images.size());
    const QStringList stems = exportutil::uniqueStems(images);
    for (int i = 0; i < images.size(); ++i) {
        ExportItem item = images.at(i);
        item.detections.clear();
        const QString labelPath = in.filePath(stems.at(i) + QStringLiteral(".txt"));
        if (!QFile::exists(labelPath)) {
            items.append(item);
            continue;
        }
        QString text;
        if (!readSmallTextFile(labelPath, &text, error))
            return {};
        const QStringList lines = text.split(QLatin1Char('\n'));
        for (int lineNo = 0; lineNo < lines.size(); ++lineNo) {
            const QString line = lines.at(lineNo).trimmed();
            if (line.isEmpty())
                continue;
            const QString where = QStringLiteral("%1:%2").arg(QDir::toNativeSeparators(labelPath)).arg(lineNo + 1);
            const QStringList fields = line.split(QLatin1Char(' '), Qt::SkipEmptyParts);
            if (fields.size() != 5 && fields.size() != 6) {
                setError(error, QStringLiteral("%1: expected \"class cx cy w h [confidence]\", got %2 fields.").arg(where).arg(fields.size()));
                return {};
            }
            bool ok = false;
            const int cls = fields.at(0).toInt(&ok);
            if (!ok || cls < 0 || cls >= names.size()) {
                setError(error, QStringLiteral("%1: class \"%2\" is not an index into classes.txt (%3 classes).")
                                    .arg(where, fields.at(0)).arg(names.size()));
                return {};
            }
            double v[5] = {0, 0, 0, 0, 1.0};
            for (int f = 1; f < fields.size(); ++f) {
                v[f - 1] = fields.at(f).toDouble(&ok);
                if (!ok || !std::isfinite(v[f - 1])) {
                    setError(error, QStringLiteral("%1: \"%2\" is not a number.").arg(where, fields.at(f)));
                    return {};
                }
            }
            Detection detection;
            detection.classId = cls;
            detection.label = names.at(cls);
            detection.confidence = float(v[4]);
            const double w = v[2] * item.width;
            const double h = v[3] * item.height;
            detection.box = QRectF(v[0] * item.width - w / 2, v[1] * item.height - h / 2, w, h);
            item.detections.append(detection);
        }
        items.append(item);
    }
    if (classNames)
        *classNames = names;
    return items;
}

} // namespace edgelens
