#include "yolotxtreader.h"

#include "eval/boundedfile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImageIOHandler>
#include <QImageReader>
#include <QLoggingCategory>

#include <cmath>

Q_LOGGING_CATEGORY(lcYoloReader, "edgelens.eval.yoloreader", QtInfoMsg)

namespace edgelens {

namespace {

// Normalised coordinates a little outside 0..1 come from rounding in labelling tools.
constexpr double kSlack = 0.01;

} // namespace

std::optional<QList<GroundTruthBox>> YoloTxtReader::readFile(const QString &path, QSize imageSize, int classCount,
                                                             QString *error)
{
    const std::optional<QByteArray> text = BoundedFile::read(path, kMaxFileBytes, QStringLiteral("a label file"), error);
    if (!text)
        return std::nullopt;
    return parse(*text, imageSize, classCount, path, error);
}

std::optional<QList<GroundTruthBox>> YoloTxtReader::parse(const QByteArray &text, QSize imageSize, int classCount,
                                                          const QString &origin, QString *error)
{
    const auto fail = [&](int line, const QString &message) {
        if (error)
            *error = QStringLiteral("%1:%2: %3").arg(origin).arg(line).arg(message);
        return std::nullopt;
    };
    if (!imageSize.isValid() || imageSize.isEmpty()) {
        if (error)
            *error = QStringLiteral("%1: the image size is unknown, so normalised boxes cannot be placed").arg(origin);
        return std::nullopt;
    }

    QList<GroundTruthBox> boxes;
    const QList<QByteArray> lines = text.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const int lineNumber = int(i) + 1;
        const QByteArray line = lines.at(i).trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        const QList<QByteArray> fields = line.simplified().split(' ');
        if (fields.size() != 5)
            return fail(lineNumber, QStringLiteral("expected 5 fields (class cx cy w h), got %1").arg(fields.size()));
        bool ok = false;
        const int classId = fields.at(0).toInt(&ok);
        if (!ok || classId < 0)
            return fail(lineNumber, QStringLiteral("class \"%1\" is not a non-negative integer")
                                        .arg(QString::fromUtf8(fields.at(0))));
        if (classCount > 0 && classId >= classCount)
            return fail(lineNumber, QStringLiteral("class %1 is out of range (the model knows %2 classes)")
                                        .arg(classId)
                                        .arg(classCount));
        double v[4];
        for (int k = 0; k < 4; ++k) {
            v[k] = fields.at(k + 1).toDouble(&ok);
            if (!ok || !std::isfinite(v[k]))
                return fail(lineNumber, QStringLiteral("\"%1\" is not a number").arg(QString::fromUtf8(fields.at(k + 1))));
        }
        const double cx = v[0], cy = v[1], w = v[2], h = v[3];
        if (w < 0 || h < 0 || cx < -kSlack || cy < -kSlack || cx > 1 + kSlack || cy > 1 + kSlack || w > 1 + kSlack
            || h > 1 + kSlack) {
            return fail(lineNumber, QStringLiteral("values must be fractions of the image (0..1); "
                                                   "pixel coordinates are not YOLO txt"));
        }
        GroundTruthBox box;
        box.classId = classId;
        box.box = QRectF((cx - w / 2) * imageSize.width(), (cy - h / 2) * imageSize.height(), w * imageSize.width(),
                         h * imageSize.height());
        boxes.append(box);
    }
    return boxes;
}

QString YoloTxtReader::labelFileFor(const QString &labelsDir, const QString &imageRelativePath)
{
    const QFileInfo rel(imageRelativePath);
    const QDir dir(labelsDir);
    const QString stem = rel.completeBaseName() + QStringLiteral(".txt");
    const QString mirrored = rel.path() == QLatin1String(".") ? stem : rel.path() + QLatin1Char('/') + stem;
    if (QFileInfo(dir.filePath(mirrored)).isFile())
        return dir.filePath(mirrored);
    if (QFileInfo(dir.filePath(stem)).isFile())
        return dir.filePath(stem);
    return {};
}

QStringList YoloTxtReader::readClassNames(const QString &labelsDir)
{
    const QDir dir(labelsDir);
    QString path;
    for (const QString &candidate : {QStringLiteral("classes.txt"), QStringLiteral("obj.names")}) {
        if (QFileInfo(dir.filePath(candidate)).isFile()) {
            path = dir.filePath(candidate);
            break;
        }
    }
    if (path.isEmpty()) {
        const QStringList names = dir.entryList({QStringLiteral("*.names")}, QDir::Files);
        if (names.size() == 1)
            path = dir.filePath(names.first());
    }
    QFile file(path);
    if (path.isEmpty() || file.size() > kMaxFileBytes || !file.open(QIODevice::ReadOnly))
        return {};
    QStringList classNames;
    for (const QByteArray &line : file.readAll().split('\n')) {
        const QString name = QString::fromUtf8(line).trimmed();
        if (!name.isEmpty())
            classNames.append(name);
    }
    qCDebug(lcYoloReader) << "class names from" << path << ":" << classNames.size();
    return classNames;
}

QSize YoloTxtReader::imageSize(const QString &imagePath)
{
    QImageReader reader(imagePath);
    QSize size = reader.size();
    if (!size.isValid())
        return {};
    if (reader.transformation() & QImageIOHandler::TransformationRotate90)
        size.transpose();
    return size;
}

} // namespace edgelens
