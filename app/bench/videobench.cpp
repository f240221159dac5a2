#include "videobench.h"

#include "eval/cocoevaluator.h"
#include "eval/cocojsonreader.h"
#include "eval/predictionreader.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QProcess>
#include <QRegularExpression>
#include <QThread>

#include <algorithm>
#include <cstdio>

namespace edgelens {

namespace {

struct CliRun
{
    bool ok = false;
    int exitCode = -1;
    int items = 0;
    double perSecond = 0;
    qint64 peakKb = 0; // VmHWM: the process's peak resident set
    QString err;
};

qint64 peakResidentKb(qint64 pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

// Runs the CLI to its end, reading its peak memory while it runs (the high-water mark only
// grows, so the last reading before it exits is the peak up to then).
CliRun runCli(const QString &cli, const QStringList &arguments)
{
    CliRun run;
    QProcess process;
    process.start(cli, arguments);
    if (!process.waitForStarted(10000)) {
        run.err = cli + QStringLiteral(": cannot start");
        return run;
    }
    const qint64 pid = process.processId();
    while (!process.waitForFinished(50))
        run.peakKb = std::max(run.peakKb, peakResidentKb(pid));
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.err = QString::fromLocal8Bit(process.readAllStandardError());
    const QString out = QString::fromLocal8Bit(process.readAllStandardOutput());
    // The CLI's closing line: "N images, F failed, X images/s".
    const QRegularExpressionMatch m =
        QRegularExpression(QStringLiteral("(\\d+) images, (\\d+) failed, ([0-9.]+) images/s")).match(out);
    run.ok = m.hasMatch() && run.exitCode == 0;
    if (m.hasMatch()) {
        run.items = m.captured(1).toInt();
        run.perSecond = m.captured(3).toDouble();
    }
    return run;
}

bool ffmpeg(const QStringList &arguments, QString *error)
{
    QProcess process;
    process.start(QStringLiteral("ffmpeg"),
                  QStringList{QStringLiteral("-hide_banner"), QStringLiteral("-loglevel"), QStringLiteral("error"),
                              QStringLiteral("-y")}
                      + arguments);
    if (!process.waitForStarted(10000) || !process.waitForFinished(-1) || process.exitCode() != 0) {
        *error = QStringLiteral("ffmpeg failed: ") + QString::fromLocal8Bit(process.readAllStandardError()).right(2000);
        return false;
    }
    return true;
}

// The frame geometry of the slideshow: the photo scaled to fit and centred on black.
QString frameFilter(const QSize &size)
{
    return QStringLiteral("scale=%1:%2:force_original_aspect_ratio=decrease,pad=%1:%2:(ow-iw)/2:(oh-ih)/2,setsar=1")
        .arg(size.width())
        .arg(size.height());
}

// Each photo placed in a frame exactly as the slideshow places it, but written losslessly
// (PNG, RGB): what the frames would score without H.264 and its 4:2:0 chroma. The photos
// themselves are no baseline for the frames: a model that stretches its input to a square
// (PicoDet, FastestDet) sees a 16:9 frame's pillarboxed photo squeezed to three quarters of
// its width, so the frames score lower for a reason that has nothing to do with video.
bool makeFramedPhotos(const QStringList &photos, const QSize &size, const QString &dir, QString *error)
{
    QDir(dir).mkpath(QStringLiteral("."));
    for (const QString &photo : photos) {
        const QString out = QDir(dir).filePath(QFileInfo(photo).completeBaseName() + QStringLiteral(".png"));
        if (!ffmpeg({QStringLiteral("-i"), photo, QStringLiteral("-vf"), frameFilter(size), QStringLiteral("-frames:v"),
                     QStringLiteral("1"), out},
                    error))
            return false;
    }
    return true;
}

// One photo a second, letterboxed into size: frame k shows photo k / fps.
bool makeSlideshow(const QStringList &photos, const VideoBenchOptions &o, const QString &file, QString *error)
{
    QStringList arguments;
    QString graph;
    for (int i = 0; i < photos.size(); ++i) {
        arguments += {QStringLiteral("-loop"), QStringLiteral("1"), QStringLiteral("-framerate"), QString::number(o.fps),
                      QStringLiteral("-i"), photos.at(i)};
        graph += QStringLiteral("[%1:v]%2,format=yuv420p,trim=end_frame=%3,setpts=PTS-STARTPTS[v%1];")
                     .arg(i)
                     .arg(frameFilter(o.size))
                     .arg(o.fps);
    }
    for (int i = 0; i < photos.size(); ++i)
        graph += QStringLiteral("[v%1]").arg(i);
    graph += QStringLiteral("concat=n=%1:v=1:a=0[out]").arg(photos.size());
    arguments += {QStringLiteral("-filter_complex"), graph, QStringLiteral("-map"), QStringLiteral("[out]"),
                  QStringLiteral("-r"), QString::number(o.fps), QStringLiteral("-c:v"), QStringLiteral("libx264"),
                  QStringLiteral("-preset"), QStringLiteral("veryfast"), QStringLiteral("-pix_fmt"),
                  QStringLiteral("yuv420p"), QStringLiteral("-movflags"), QStringLiteral("+faststart"), file};
    return ffmpeg(arguments, error);
}

QRectF toFrame(const QRectF &box, const QSize &photo, const QSize &frame)
{
    const double scale = std::min(double(frame.width()) / photo.width(), double(frame.height()) / photo.height());
    const double dx = (frame.width() - photo.width() * scale) / 2.0;
    const double dy = (frame.height() - photo.height() * scale) / 2.0;
    return QRectF(box.x() * scale + dx, box.y() * scale + dy, box.width() * scale, box.height() * scale);
}

// Detections of a sidecar in the ground truth's class numbering (by label).
QList<Detection> predictions(const QString &sidecar, const QHash<QString, int> &classOf)
{
    QString error;
    const auto result = PredictionReader::readFile(sidecar, &error);
    QList<Detection> out;
    if (!result)
        return out;
    for (Detection d : result->detections) {
        if (!classOf.contains(d.label))
            continue;
        d.classId = classOf.value(d.label);
        out.append(d);
    }
    return out;
}

void printRun(const char *what, const CliRun &run, const char *unit)
{
    std::printf("  %-34s %5d %-7s %7.2f %s/s   peak RSS %6.0f MB%s\n", what, run.items, unit, run.perSecond, unit,
                run.peakKb / 1024.0, run.ok ? "" : "   (FAILED: see stderr)");
    if (!run.ok)
        std::fprintf(stderr, "%s\n", qPrintable(run.err.right(3000)));
}

// The dataset's ground truth, looked up by file name and by label.
struct Truth
{
    GroundTruthSet set;
    QHash<QString, const GroundTruthImage *> byFileName;
    QHash<QString, int> classOf;
};

std::optional<Truth> loadTruth(const QString &annotations, QString *error)
{
    auto set = CocoJsonReader::read(annotations, error);
    if (!set)
        return std::nullopt;
    std::optional<Truth> truth(Truth{std::move(*set), {}, {}});
    for (const GroundTruthImage &image : truth->set.images)
        truth->byFileName.insert(QFileInfo(image.fileName).fileName(), &image);
    for (int i = 0; i < truth->set.classNames.size(); ++i)
        truth->classOf.insert(truth->set.classNames.at(i), i);
    return truth;
}

// Where each of the four runs reads and writes, under the work folder.
struct Runs
{
    explicit Runs(const QDir &work)
        : video(work.filePath(QStringLiteral("slideshow.mp4")))
        , videoOut(work.filePath(QStringLiteral("video-out")))
        , framesOut(work.filePath(QStringLiteral("frames-out")))
        , photosOut(work.filePath(QStringLiteral("photos-out")))
        , framedPhotos(work.filePath(QStringLiteral("framed-photos")))
        , framedOut(work.filePath(QStringLiteral("framed-out")))
    {
    }
    QString video, videoOut, framesOut, photosOut, framedPhotos, framedOut;
    CliRun fromVideo, fromFiles, fromPhotos, fromFramed;
};

// The inputs: the slideshow and the framed photos, made afresh.
bool makeInputs(const QStringList &photos, const VideoBenchOptions &o, Runs &runs, QString *error)
{
    std::printf("video: %d s of %d photos at %dx%d, %d fps (H.264), sampled every %d frames\n", o.seconds,
                int(photos.size()), o.size.width(), o.size.height(), o.fps, o.every);
    std::fflush(stdout);
    QElapsedTimer encode;
    encode.start();
    if (!makeSlideshow(photos, o, runs.video, error))
        return false;
    std::printf("  made with ffmpeg in %.1f s (%.1f MB)\n", encode.elapsed() / 1000.0,
                QFileInfo(runs.video).size() / 1048576.0);
    for (const QString &dir : {runs.videoOut, runs.framesOut, runs.photosOut, runs.framedPhotos, runs.framedOut})
        QDir(dir).removeRecursively();
    return makeFramedPhotos(photos, o.size, runs.framedPhotos, error);
}

void runAll(const QStringList &photos, const VideoBenchOptions &o, Runs &runs)
{
    QStringList common{QStringLiteral("--json"), QStringLiteral("--quiet")};
    if (!o.model.isEmpty())
        common << QStringLiteral("--model") << o.model;
    runs.fromVideo = runCli(o.cli, QStringList{runs.video, QStringLiteral("--every-frames"), QString::number(o.every),
                                               QStringLiteral("--output"), runs.videoOut}
                                       + common);
    runs.fromFiles = runCli(o.cli, QStringList{QDir(runs.videoOut).filePath(QStringLiteral("frames")),
                                               QStringLiteral("--output"), runs.framesOut}
                                       + common);
    runs.fromPhotos = runCli(o.cli, photos + QStringList{QStringLiteral("--output"), runs.photosOut} + common);
    runs.fromFramed = runCli(o.cli, QStringList{runs.framedPhotos, QStringLiteral("--output"), runs.framedOut} + common);
    std::printf("edgelens-cli, embedded server (%s):\n", o.model.isEmpty() ? "default model" : qPrintable(o.model));
    printRun("video, decoded and sampled", runs.fromVideo, "frames");
    printRun("the same frames as JPEG files", runs.fromFiles, "images");
    printRun("the photos", runs.fromPhotos, "images");
    printRun("the photos framed as in the video", runs.fromFramed, "images");
    if (runs.fromFiles.perSecond > 0)
        std::printf("  frames/s / images/s = %.2f\n", runs.fromVideo.perSecond / runs.fromFiles.perSecond);
}

// Each sampled frame scored against its photo's ground truth, mapped into the frame; the
// framed photos against the same mapped truth; the photos against their own.
void printAccuracy(const QStringList &photos, const VideoBenchOptions &o, const Truth &truth, const Runs &runs)
{
    const auto truthInFrame = [&](const GroundTruthImage *gt) {
        QList<GroundTruthBox> mapped = gt->boxes;
        const double scale = std::min(double(o.size.width()) / gt->width, double(o.size.height()) / gt->height);
        for (GroundTruthBox &box : mapped) {
            box.box = toFrame(box.box, QSize(gt->width, gt->height), o.size);
            if (box.area >= 0)
                box.area *= scale * scale;
        }
        return mapped;
    };
    CocoEvaluator frames(truth.set.classNames);
    CocoEvaluator originals(truth.set.classNames);
    CocoEvaluator framed(truth.set.classNames);
    const int framesPerPhoto = o.fps; // one photo a second
    for (qint64 index = 0; index < qint64(photos.size()) * framesPerPhoto; index += o.every) {
        const QString photo = photos.at(int(index / framesPerPhoto));
        const QString sidecar = QDir(runs.videoOut).filePath(
            QStringLiteral("slideshow_f%1.json").arg(index, 6, 10, QLatin1Char('0')));
        frames.addImage(truthInFrame(truth.byFileName.value(QFileInfo(photo).fileName())),
                        predictions(sidecar, truth.classOf));
    }
    for (const QString &photo : photos) {
        const GroundTruthImage *gt = truth.byFileName.value(QFileInfo(photo).fileName());
        const QString sidecarName = QFileInfo(photo).completeBaseName() + QStringLiteral(".json");
        originals.addImage(gt->boxes, predictions(QDir(runs.photosOut).filePath(sidecarName), truth.classOf));
        framed.addImage(truthInFrame(gt), predictions(QDir(runs.framedOut).filePath(sidecarName), truth.classOf));
    }
    const EvalSummary onFrames = frames.evaluate();
    const EvalSummary onFramed = framed.evaluate();
    const EvalSummary onPhotos = originals.evaluate();
    std::printf("accuracy (COCO mAP@[.5:.95] / AP50):\n");
    std::printf("  slideshow frames   %.3f / %.3f  (%d frames)\n", onFrames.map, onFrames.ap50, onFrames.imageCount);
    std::printf("  framed photos      %.3f / %.3f  (%d photos, lossless PNG: the frames without H.264)\n", onFramed.map,
                onFramed.ap50, onFramed.imageCount);
    std::printf("  the photos         %.3f / %.3f  (%d photos as they are)\n", onPhotos.map, onPhotos.ap50,
                onPhotos.imageCount);
}

} // namespace

int VideoBench::run(const VideoBenchOptions &o)
{
    QString error;
    const std::optional<Truth> truth = loadTruth(o.annotations, &error);
    if (!truth) {
        std::fprintf(stderr, "edgelens-bench: %s\n", qPrintable(error));
        return 1;
    }
    QStringList photos;
    const QDir imagesDir(o.imagesDir);
    for (const QString &name : imagesDir.entryList({QStringLiteral("*.jpg")}, QDir::Files, QDir::Name)) {
        if (photos.size() < o.seconds && truth->byFileName.contains(name))
            photos.append(imagesDir.filePath(name));
    }
    if (photos.size() < o.seconds) {
        std::fprintf(stderr, "edgelens-bench: %s holds %d annotated photos, %d needed\n", qPrintable(o.imagesDir),
                     int(photos.size()), o.seconds);
        return 1;
    }
    QDir work(o.workDir);
    work.mkpath(QStringLiteral("."));
    Runs runs(work);
    if (!makeInputs(photos, o, runs, &error)) {
        std::fprintf(stderr, "edgelens-bench: %s\n", qPrintable(error));
        return 1;
    }
    runAll(photos, o, runs);
    printAccuracy(photos, o, *truth, runs);
    return runs.fromVideo.ok && runs.fromFiles.ok && runs.fromPhotos.ok && runs.fromFramed.ok ? 0 : 1;
}

} // namespace edgelens
