#include "decodebench.h"

#include "texttable.h"
#include "inputs/framejpegencoder.h"
#include "inputs/frameextractor.h"
#include "inputs/videofilesource.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QTemporaryDir>
#include <QTextStream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <sys/resource.h>

#include <functional>
#include <vector>

Q_LOGGING_CATEGORY(lcDecodeBench, "edgelens.bench.decode", QtInfoMsg)

namespace edgelens {

namespace {

double cpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Figures
{
    qint64 decoded = 0; // frames the codec decoded
    qint64 kept = 0;
    QString error;
};

bool writeFile(const QString &path, const char *data, qint64 size)
{
    QSaveFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(data, size) == size && file.commit();
}

// As edgelens-cli and the app extract frames (a keep filter unless `decodeAll`).
Figures viaExtractor(const QString &video, int every, const QString &dir, bool decodeAll)
{
    Figures figures;
    ScannedImage input;
    input.absolutePath = video;
    input.relativePath = QFileInfo(video).fileName();
    if (decodeAll) {
        // The same decoder and encoder, every frame decoded: a source that is never told.
        VideoFileSource source(video);
        FrameJpegEncoder encoder;
        if (!source.open(&figures.error))
            return figures;
        SourceFrame frame;
        FrameSource::Read read;
        while ((read = source.next(&frame, FrameSource::Pixels::WithoutImage, &figures.error)) == FrameSource::Read::Frame) {
            if (frame.index % every)
                continue;
            QByteArray jpeg;
            if (!source.retrieve(&frame, &figures.error) || !encoder.encode(frame.image, 95, &jpeg, &figures.error))
                return figures;
            if (!writeFile(QDir(dir).filePath(ImageOrigin::frameFileName(QStringLiteral("all"), frame.index, QStringLiteral("jpg"))),
                           jpeg.constData(), jpeg.size()))
                figures.error = QStringLiteral("cannot write into %1").arg(dir);
            ++figures.kept;
        }
        figures.decoded = source.decodeCounts().framesDecoded;
        return figures;
    }
    FrameExtractor::Options options;
    options.rule = SamplingRule::everyNFrames(every);
    options.framesDir = dir;
    auto source = std::make_unique<VideoFileSource>(video);
    VideoFileSource *counts = source.get();
    FrameExtractor extractor(input, options, std::move(source));
    if (!extractor.open(&figures.error))
        return figures;
    ScannedImage frame;
    FrameExtractor::Step step;
    while ((step = extractor.next(&frame, &figures.error)) == FrameExtractor::Step::Frame)
        ++figures.kept;
    figures.decoded = counts->decodeCounts().framesDecoded;
    return figures;
}

// What VideoFileSource and FrameExtractor did before: OpenCV's videoio grabs every frame,
// converts the kept ones, imencode writes them.
Figures viaOpenCv(const QString &video, int every, const QString &dir)
{
    Figures figures;
    cv::VideoCapture capture;
    if (!capture.open(QFile::encodeName(video).toStdString(), cv::CAP_FFMPEG)) {
        figures.error = QStringLiteral("OpenCV cannot open %1").arg(video);
        return figures;
    }
    cv::Mat image;
    std::vector<uchar> jpeg;
    for (qint64 index = 0; capture.grab(); ++index) {
        ++figures.decoded;
        if (index % every)
            continue;
        if (!capture.retrieve(image) || !cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 95})) {
            figures.error = QStringLiteral("frame %1 could not be converted or encoded").arg(index);
            return figures;
        }
        if (!writeFile(QDir(dir).filePath(ImageOrigin::frameFileName(QStringLiteral("cv"), index, QStringLiteral("jpg"))),
                       reinterpret_cast<const char *>(jpeg.data()), qint64(jpeg.size())))
            figures.error = QStringLiteral("cannot write into %1").arg(dir);
        ++figures.kept;
    }
    return figures;
}

} // namespace

int DecodeBench::run(const QString &video, int every)
{
    QTextStream out(stdout);
    QTemporaryDir dir;
    if (!QFileInfo(video).isFile() || !dir.isValid()) {
        out << "edgelens-bench --decode: " << video << ": no such file (or no temporary folder)\n";
        return 1;
    }
    SourceProperties properties;
    QString error;
    if (!VideoFileSource::probe(video, &properties, &error)) {
        out << "edgelens-bench --decode: " << error << '\n';
        return 1;
    }
    out << QStringLiteral("%1: %2x%3, %4 fps, %5 frames (%6), every %7th frame kept, written as JPEG q95\n")
               .arg(QFileInfo(video).fileName())
               .arg(properties.size.width())
               .arg(properties.size.height())
               .arg(properties.fps, 0, 'f', 2)
               .arg(properties.frameCount)
               .arg(properties.codec)
               .arg(every);
    TextTable table({{QStringLiteral("way"), 48, true},
                     {QStringLiteral("decoded"), 8},
                     {QStringLiteral("kept"), 6},
                     {QStringLiteral("wall s"), 8},
                     {QStringLiteral("CPU s"), 8},
                     {QStringLiteral("CPU ms/kept"), 12},
                     {QStringLiteral("kept/s"), 8}},
                    false);
    out << table.header();
    out.flush();
    const struct
    {
        QString name;
        std::function<Figures(const QString &)> run;
    } ways[] = {
        {QStringLiteral("edgelens (skips unkept frames, JPEG of planes)"),
         [&](const QString &d) { return viaExtractor(video, every, d, false); }},
        {QStringLiteral("same decoder, every frame decoded"),
         [&](const QString &d) { return viaExtractor(video, every, d, true); }},
        {QStringLiteral("OpenCV videoio + imencode (before)"), [&](const QString &d) { return viaOpenCv(video, every, d); }},
    };
    int index = 0;
    for (const auto &way : ways) {
        const QString target = dir.filePath(QString::number(index++));
        QDir().mkpath(target);
        QElapsedTimer wall;
        const double cpuStart = cpuSeconds();
        wall.start();
        const Figures figures = way.run(target);
        const double seconds = wall.nsecsElapsed() / 1e9;
        const double cpu = cpuSeconds() - cpuStart;
        if (!figures.error.isEmpty())
            qCWarning(lcDecodeBench).noquote() << way.name << figures.error;
        out << table.row({way.name, QString::number(figures.decoded), QString::number(figures.kept),
                          QString::number(seconds, 'f', 2), QString::number(cpu, 'f', 2),
                          figures.kept ? QString::number(cpu * 1000.0 / double(figures.kept), 'f', 1) : QStringLiteral("-"),
                          seconds > 0 ? QString::number(double(figures.kept) / seconds, 'f', 1) : QStringLiteral("-")});
        out.flush();
        QDir(target).removeRecursively();
    }
    return 0;
}

} // namespace edgelens
