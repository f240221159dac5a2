// edgelens-cli on video files made at run time with ffmpeg: frames named by their source
// index, sidecars with the decoder's timestamps (checked against ffprobe), detections that
// match those of the photos the frames show, scene-change sampling, truncated files, folders
// holding videos, and the MOTChallenge tracks.

#include "export/motexport.h"
#include "isolateduserstate.h"
#include "processrunner.h"
#include "testdata.h"
#include "testvideos.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>

using namespace edgelens;
using namespace edgelens::test;

namespace {

constexpr int kFps = 30;
constexpr int kFramesPerImage = 30; // one photo a second
const QSize kVideoSize(1280, 720);

QJsonObject readJson(const QString &path)
{
    return QJsonDocument::fromJson(readFile(path)).object();
}

// Where a box of a photo of `photo` size lands in the letterboxed frame.
QRectF toFrame(const QRectF &box, const QSize &photo)
{
    const double scale = std::min(double(kVideoSize.width()) / photo.width(), double(kVideoSize.height()) / photo.height());
    const double dx = (kVideoSize.width() - photo.width() * scale) / 2.0;
    const double dy = (kVideoSize.height() - photo.height() * scale) / 2.0;
    return QRectF(box.x() * scale + dx, box.y() * scale + dy, box.width() * scale, box.height() * scale);
}

double iou(const QRectF &a, const QRectF &b)
{
    const QRectF i = a.intersected(b);
    const double inter = i.width() * i.height();
    const double uni = a.width() * a.height() + b.width() * b.height() - inter;
    return uni > 0 ? inter / uni : 0;
}

} // namespace

class TestCliVideo : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void everySecond_givesOneFramePerStepWithSidecarsEqualToFfprobe();
    void sceneChanges_findTheCuts();
    void truncatedVideo_failsClearlyAndKeepsEarlierFrames();
    void folderWithVideoAndPhoto_processesBoth();

private:
    ProcessRun runCli(const QStringList &arguments);

    IsolatedUserState m_dir;
    QString m_cli;
    QStringList m_photos;
    QString m_slideshow;
};

void TestCliVideo::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_cli = executablePath(QStringLiteral("edgelens-cli"));
    QVERIFY2(QFileInfo(m_cli).isExecutable(), qPrintable(m_cli));
    EDGELENS_REQUIRE(haveFfmpeg(), "ffmpeg and ffprobe (packaging/install-deps.sh) make the test videos");
    EDGELENS_REQUIRE_SHARED(QStringLiteral("data/coco128-train/images/000000000009.jpg"));
    // Photos with large, clear objects, so the model finds them in the frames too.
    const QDir images(sharedPath(QStringLiteral("data/coco128-train/images")));
    for (const char *name : {"000000000009.jpg", "000000000025.jpg", "000000000030.jpg", "000000000034.jpg"})
        m_photos.append(images.filePath(QLatin1String(name)));
    m_slideshow = m_dir.filePath(QStringLiteral("clip.mp4"));
    QString error;
    QVERIFY2(makeSlideshow(m_slideshow, m_photos, kFramesPerImage, kVideoSize, kFps, &error), qPrintable(error));
}

ProcessRun TestCliVideo::runCli(const QStringList &arguments)
{
    ProcessOptions options;
    options.workingDirectory = m_dir.path();
    options.timeoutMs = 240000;
    options.environment = m_dir.childEnvironment();
    return runProcess(m_cli, arguments, options);
}

void TestCliVideo::everySecond_givesOneFramePerStepWithSidecarsEqualToFfprobe()
{
    const QString out = m_dir.filePath(QStringLiteral("every-second"));
    const ProcessRun run = runCli({m_slideshow, QStringLiteral("--every-seconds"), QStringLiteral("1"),
                                   QStringLiteral("--output"), out, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(QStringLiteral("4 images, 0 failed")), qPrintable(run.out + run.err));
    QVERIFY2(run.err.contains(QStringLiteral("every 1 s -> 4 frame(s)")), qPrintable(run.err)); // said before it ran

    QString error;
    const QList<ProbedFrame> probed = probeFrames(m_slideshow, &error);
    QCOMPARE(probed.size(), int(m_photos.size()) * kFramesPerImage);
    // The same photos as files: what the frames' detections are compared with.
    const QString photosOut = m_dir.filePath(QStringLiteral("photos-out"));
    QStringList photoArguments = m_photos;
    photoArguments << QStringLiteral("--output") << photosOut << QStringLiteral("--json");
    const ProcessRun photosRun = runCli(photoArguments);
    QVERIFY2(photosRun.exitCode == 0, qPrintable(photosRun.err));

    int matchedBoxes = 0;
    int photoBoxes = 0;
    for (int step = 0; step < m_photos.size(); ++step) {
        const qint64 index = qint64(step) * kFramesPerImage;
        const QString stem = QStringLiteral("clip_f%1").arg(index, 6, 10, QLatin1Char('0'));
        const QString frameFile = QDir(out).filePath(QStringLiteral("frames/") + stem + QStringLiteral(".jpg"));
        QVERIFY2(QFileInfo(frameFile).size() > 10000, qPrintable(frameFile));
        QVERIFY(QFileInfo::exists(QDir(out).filePath(stem + QStringLiteral(".jpg")))); // the marked-up result
        const QJsonObject sidecar = readJson(QDir(out).filePath(stem + QStringLiteral(".json")));
        QCOMPARE(QFileInfo(sidecar.value(QStringLiteral("image")).toString()).canonicalFilePath(),
                 QFileInfo(frameFile).canonicalFilePath());
        QCOMPARE(qint64(sidecar.value(QStringLiteral("frame_index")).toDouble()), index);
        QVERIFY2(std::abs(sidecar.value(QStringLiteral("timestamp_ms")).toDouble() - probed.at(int(index)).timestampMs) < 0.01,
                 qPrintable(QString::number(sidecar.value(QStringLiteral("timestamp_ms")).toDouble())));
        const QJsonObject video = sidecar.value(QStringLiteral("video")).toObject();
        QCOMPARE(QFileInfo(video.value(QStringLiteral("path")).toString()).canonicalFilePath(),
                 QFileInfo(m_slideshow).canonicalFilePath());
        QCOMPARE(qint64(video.value(QStringLiteral("bytes")).toDouble()), QFileInfo(m_slideshow).size());
        QCOMPARE(video.value(QStringLiteral("width")).toInt(), kVideoSize.width());
        QCOMPARE(sidecar.value(QStringLiteral("sampling")).toString(), QStringLiteral("every 1 s"));
        QCOMPARE(sidecar.value(QStringLiteral("width")).toInt(), kVideoSize.width());

        // The frame shows the photo letterboxed: its confident boxes are the photo's, mapped.
        const QJsonObject photoSidecar = readJson(
            QDir(photosOut).filePath(QFileInfo(m_photos.at(step)).completeBaseName() + QStringLiteral(".json")));
        const QSize photoSize(photoSidecar.value(QStringLiteral("width")).toInt(),
                              photoSidecar.value(QStringLiteral("height")).toInt());
        const QJsonArray frameBoxes = sidecar.value(QStringLiteral("detections")).toArray();
        for (const QJsonValue &value : photoSidecar.value(QStringLiteral("detections")).toArray()) {
            const QJsonObject box = value.toObject();
            if (box.value(QStringLiteral("confidence")).toDouble() < 0.6)
                continue; // a borderline box may drop below the threshold after H.264
            ++photoBoxes;
            const QJsonArray b = box.value(QStringLiteral("box")).toArray();
            const QRectF expected = toFrame(QRectF(b.at(0).toDouble(), b.at(1).toDouble(), b.at(2).toDouble(),
                                                   b.at(3).toDouble()),
                                            photoSize);
            for (const QJsonValue &candidate : frameBoxes) {
                const QJsonObject f = candidate.toObject();
                const QJsonArray fb = f.value(QStringLiteral("box")).toArray();
                const QRectF got(fb.at(0).toDouble(), fb.at(1).toDouble(), fb.at(2).toDouble(), fb.at(3).toDouble());
                if (f.value(QStringLiteral("label")) == box.value(QStringLiteral("label")) && iou(got, expected) > 0.7) {
                    ++matchedBoxes;
                    break;
                }
            }
        }
    }
    QVERIFY2(photoBoxes > 0, "the photos give confident boxes to compare with");
    // H.264 at this size keeps nearly every confident box in place.
    QVERIFY2(matchedBoxes >= photoBoxes * 9 / 10,
             qPrintable(QStringLiteral("%1 of %2 confident boxes found again").arg(matchedBoxes).arg(photoBoxes)));
    // Each video's boxes are linked into tracks: a MOTChallenge sequence, frames numbered from 1.
    const QList<MotRow> rows = readMot(QDir(out).filePath(QStringLiteral("tracks/clip/gt/gt.txt")), &error);
    QVERIFY2(!rows.isEmpty(), qPrintable(error));
    for (const MotRow &row : rows)
        QVERIFY((row.frame - 1) % kFramesPerImage == 0 && row.id > 0);
}

void TestCliVideo::sceneChanges_findTheCuts()
{
    const QString clip = m_dir.filePath(QStringLiteral("scenes.mp4"));
    QString error;
    QVERIFY2(makeSceneCuts(clip, 3, 3.0, 10, QSize(320, 240), &error), qPrintable(error));
    const QString out = m_dir.filePath(QStringLiteral("scenes-out"));
    const ProcessRun run = runCli({clip, QStringLiteral("--scene-changes"), QStringLiteral("--output"), out,
                                   QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QCOMPARE(filesUnder(QDir(out).filePath(QStringLiteral("frames"))),
             (QStringList{QStringLiteral("scenes_f000000.jpg"), QStringLiteral("scenes_f000030.jpg"),
                          QStringLiteral("scenes_f000060.jpg")}));
    QCOMPARE(readJson(QDir(out).filePath(QStringLiteral("scenes_f000030.json"))).value(QStringLiteral("timestamp_ms")).toDouble(),
             3000.0);
}

void TestCliVideo::truncatedVideo_failsClearlyAndKeepsEarlierFrames()
{
    const QString truncated = m_dir.filePath(QStringLiteral("cut.mp4"));
    QString error;
    QVERIFY2(truncateCopy(m_slideshow, truncated, 0.6, &error), qPrintable(error));
    const QString out = m_dir.filePath(QStringLiteral("cut-out"));
    const ProcessRun run = runCli({truncated, QStringLiteral("--every-frames"), QStringLiteral("15"),
                                   QStringLiteral("--output"), out, QStringLiteral("--json")});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QStringLiteral("truncated or damaged")), qPrintable(run.err));
    const QStringList sidecars = filesUnder(out, {QStringLiteral("cut_f*.json")}, QDir::Files);
    QVERIFY2(!sidecars.isEmpty(), qPrintable(run.err));
    // Every frame extracted before the damage was processed.
    QCOMPARE(sidecars.size(), filesUnder(QDir(out).filePath(QStringLiteral("frames"))).size());
    QVERIFY(sidecars.size() < 8);
}

void TestCliVideo::folderWithVideoAndPhoto_processesBoth()
{
    const QString in = m_dir.filePath(QStringLiteral("mixed"));
    QVERIFY(QDir().mkpath(in + QStringLiteral("/sub")));
    QVERIFY(QFile::copy(m_slideshow, in + QStringLiteral("/sub/clip.mp4")));
    QVERIFY(QFile::copy(m_photos.first(), in + QStringLiteral("/photo.jpg")));
    const QString out = m_dir.filePath(QStringLiteral("mixed-out"));
    const ProcessRun run = runCli({in, QStringLiteral("--every-frames"), QStringLiteral("60"), QStringLiteral("--output"),
                                   out, QStringLiteral("--json")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(QStringLiteral("3 images, 0 failed")), qPrintable(run.out));
    QVERIFY(QFileInfo::exists(out + QStringLiteral("/photo.json")));
    QVERIFY(QFileInfo::exists(out + QStringLiteral("/frames/sub/clip_f000060.jpg")));
    QVERIFY(QFileInfo::exists(out + QStringLiteral("/sub/clip_f000060.json")));
    // The frames live in an output folder EdgeLens marked: a later scan of a parent folder
    // does not take them for new photos.
    QVERIFY(QFileInfo::exists(out + QStringLiteral("/.edgelens-output")));
}

QTEST_GUILESS_MAIN(TestCliVideo)
#include "tst_clivideo.moc"
