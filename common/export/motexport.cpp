#include "export/motexport.h"

#include "export/trackassigner.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QLoggingCategory>
#include <QMap>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcMotExport, "edgelens.export.mot")

namespace edgelens {

using exportutil::setError;

namespace {

constexpr qint64 kMaxGtBytes = 256LL * 1024 * 1024;

QString number(double value)
{
    return QString::number(value, 'f', 2);
}

} // namespace

int exportMot(const QList<ExportItem> &input, const QStringList &classNames, const QString &dir, QString *error)
{
    QList<ExportItem> items = input;
    TrackAssigner::assignVideoTracks(items, classNames);
    const QStringList names = exportutil::collectClassNames(items, classNames);
    QHash<QString, int> classIndex;
    for (int i = 0; i < names.size(); ++i)
        classIndex.insert(names.at(i), i + 1);

    QMap<QString, QList<int>> videos; // source -> positions in items
    for (int i = 0; i < items.size(); ++i) {
        if (!items.at(i).origin.isPhoto())
            videos[items.at(i).origin.source].append(i);
    }
    QSet<QString> usedNames;
    for (auto it = videos.begin(); it != videos.end(); ++it) {
        QList<int> &frames = it.value();
        std::sort(frames.begin(), frames.end(), [&items](int a, int b) {
            return items.at(a).origin.frameIndex < items.at(b).origin.frameIndex;
        });
        QString name = QFileInfo(it.key()).completeBaseName();
        if (name.isEmpty())
            name = QStringLiteral("video");
        const QString base = name;
        for (int n = 2; usedNames.contains(name.toLower()); ++n)
            name = base + QLatin1Char('_') + QString::number(n);
        usedNames.insert(name.toLower());

        QString gt;
        qint64 lastFrame = 0;
        for (const int position : std::as_const(frames)) {
            const ExportItem &item = items.at(position);
            const qint64 frame = item.origin.frameIndex + 1;
            lastFrame = std::max(lastFrame, frame);
            for (const Detection &d : item.detections) {
                gt += QStringLiteral("%1,%2,%3,%4,%5,%6,1,%7,1\n")
                          .arg(frame)
                          .arg(d.trackId)
                          .arg(number(d.box.x()), number(d.box.y()), number(d.box.width()), number(d.box.height()))
                          .arg(classIndex.value(exportutil::effectiveLabel(d, classNames)));
            }
        }
        const ExportItem &first = items.at(frames.first());
        const QDir sequence(QDir(dir).filePath(name));
        if (!exportutil::ensureDirectory(sequence.filePath(QStringLiteral("gt")), error))
            return -1;
        if (!exportutil::writeFileAtomically(sequence.filePath(QStringLiteral("gt/gt.txt")), gt.toUtf8(), error))
            return -1;
        // The frame rate is not known from the items alone: the timestamps of two frames say it.
        double fps = 0;
        if (frames.size() >= 2) {
            const ExportItem &a = items.at(frames.at(0));
            const ExportItem &b = items.at(frames.at(1));
            const double ms = b.origin.timestampMs - a.origin.timestampMs;
            if (ms > 0)
                fps = (b.origin.frameIndex - a.origin.frameIndex) * 1000.0 / ms;
        }
        const QString info = QStringLiteral("[Sequence]\nname=%1\nimDir=%2\nframeRate=%3\nseqLength=%4\nimWidth=%5\n"
                                            "imHeight=%6\nimExt=%7\n")
                                 .arg(name, QFileInfo(first.imagePath).absolutePath())
                                 .arg(qRound(fps))
                                 .arg(lastFrame)
                                 .arg(first.width)
                                 .arg(first.height)
                                 .arg(QLatin1Char('.') + QFileInfo(first.imagePath).suffix());
        if (!exportutil::writeFileAtomically(sequence.filePath(QStringLiteral("seqinfo.ini")), info.toUtf8(), error))
            return -1;
        qCDebug(lcMotExport) << "wrote" << frames.size() << "frames of" << it.key() << "to" << sequence.path();
    }
    return int(videos.size());
}

QList<MotRow> readMot(const QString &gtFile, QString *error)
{
    setError(error, QString());
    QFile file(gtFile);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        setError(error, QStringLiteral("Cannot open %1: %2").arg(QDir::toNativeSeparators(gtFile), file.errorString()));
        return {};
    }
    if (file.size() > kMaxGtBytes) {
        setError(error, QStringLiteral("%1 is too large for a MOT file.").arg(QDir::toNativeSeparators(gtFile)));
        return {};
    }
    QList<MotRow> rows;
    int lineNumber = 0;
    while (!file.atEnd()) {
        ++lineNumber;
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.isEmpty())
            continue;
        const QStringList fields = line.split(QLatin1Char(','));
        bool ok[6] = {};
        MotRow row;
        if (fields.size() >= 8) {
            row.frame = fields.at(0).toLongLong(&ok[0]);
            row.id = fields.at(1).toInt(&ok[1]);
            row.box = QRectF(fields.at(2).toDouble(&ok[2]), fields.at(3).toDouble(&ok[3]), fields.at(4).toDouble(&ok[4]),
                             fields.at(5).toDouble(&ok[5]));
            row.classIndex = fields.at(7).toInt();
        }
        if (fields.size() < 8 || !std::all_of(std::begin(ok), std::end(ok), [](bool b) { return b; })) {
            setError(error, QStringLiteral("%1:%2: not a MOT line").arg(QDir::toNativeSeparators(gtFile)).arg(lineNumber));
            return {};
        }
        rows.append(row);
    }
    return rows;
}

} // namespace edgelens
