// The video source layer against ffprobe: clips made at run time with ffmpeg (testvideos.h),
// decoded in order by VideoFileSource, sampled by FrameSampler, written by FrameExtractor.

#include "inputs/frameextractor.h"
#include "inputs/framesampler.h"
#include "inputs/imagescanner.h"
#include "inputs/samplingrule.h"
#include "inputs/videodecoder.h"
#include "inputs/videofilesource.h"

#include "testdata.h"
#include "testvideos.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>

using namespace edgelens;
using namespace edgelens::test;

namespace {

QStringList cocoImages(int count)
{
    QStringList images;
    const QString dir = sharedPath(QStringLiteral("data/coco128-train/images"));
    const QStringList names = QDir(dir).entryList({QStringLiteral("*.jpg")}, QDir::Files, QDir::Name);
    for (int i = 0; i < count && i < names.size(); ++i)
        images.append(QDir(dir).filePath(names.at(i)));
    return images;
}

struct Decoded
{
    QList<qint64> indices;
    QList<double> timestamps;
    FrameSource::Read last = FrameSource::Read::Error;
    QString error;
    bool variable = false;
};

Decoded decodeAll(const QString &file)
{
    Decoded out;
    VideoFileSource source(file);
    if (!source.open(&out.error))
        return out;
    SourceFrame frame;
    for (;;) {
        out.last = source.next(&frame, FrameSource::Pixels::WithoutImage, &out.error);
        if (out.last != FrameSource::Read::Frame)
            break;
        out.indices.append(frame.index);
        out.timestamps.append(frame.timestampMs);
    }
    out.variable = source.variableFrameRate();
    return out;
}

double meanDifference(const cv::Mat &a, const QByteArray &bgr)
{
    const cv::Mat b(a.rows, a.cols, CV_8UC3, const_cast<char *>(bgr.constData()));
    if (a.type() != CV_8UC3 || qsizetype(a.total() * 3) != bgr.size())
        return 255;
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    const cv::Scalar mean = cv::mean(diff);
    return (mean[0] + mean[1] + mean[2]) / 3;
}

ScannedImage scanned(const QString &path)
{
    ScannedImage image;
    image.absolutePath = path;
    image.relativePath = QFileInfo(path).fileName();
    return image;
}

// The frames a FrameExtractor keeps from `file` under `rule`, and what its decoder did.
struct Extraction
{
    QList<qint64> kept;
    FrameExtractor::Step last = FrameExtractor::Step::Error;
    QString error;
    qint64 framesSeen = 0;
    qint64 framesKept = 0; // the extractor's count: a resumed run's earlier frames too
    QStringList files;     // what it wrote
    VideoFileSource::DecodeCounts counts;
};

Extraction extract(const QString &file, const SamplingRule &rule, qint64 resumeAfterIndex = -1)
{
    Extraction out;
    QTemporaryDir dir;
    FrameExtractor::Options options;
    options.rule = rule;
    options.framesDir = dir.path();
    options.resumeAfterIndex = resumeAfterIndex;
    auto source = std::make_unique<VideoFileSource>(file);
    VideoFileSource *decoder = source.get();
    FrameExtractor extractor(scanned(file), options, std::move(source));
    if (!extractor.open(&out.error))
        return out;
    ScannedImage frame;
    while ((out.last = extractor.next(&frame, &out.error)) == FrameExtractor::Step::Frame)
        out.kept.append(frame.origin.frameIndex);
    out.framesSeen = extractor.framesDecoded();
    out.framesKept = extractor.framesKept();
    out.files = QDir(dir.path()).entryList(QDir::Files, QDir::Name);
    out.counts = decoder->decodeCounts();
    return out;
}

// Every frame decoded to the end, with ffprobe's index and time (to 0.01 ms).
void compareWithFfprobe(const Decoded &decoded, const QList<ProbedFrame> &probed)
{
    QCOMPARE(decoded.last, FrameSource::Read::End);
    QCOMPARE(decoded.indices.size(), probed.size());
    for (int i = 0; i < probed.size(); ++i) {
        QCOMPARE(decoded.indices.at(i), probed.at(i).index);
        QVERIFY2(std::abs(decoded.timestamps.at(i) - probed.at(i).timestampMs) < 0.01,
                 qPrintable(QStringLiteral("frame %1: %2 ms, ffprobe %3 ms")
                                .arg(i)
                                .arg(decoded.timestamps.at(i))
                                .arg(probed.at(i).timestampMs)));
    }
}

} // namespace

class TestVideoSource : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        EDGELENS_REQUIRE(haveFfmpeg(), "ffmpeg and ffprobe (packaging/install-deps.sh) make the test videos");
        EDGELENS_REQUIRE_SHARED("data/coco128-train/images");
        QVERIFY(m_dir.isValid());
        QString error;
        // Four photos, each held 15 frames at 30 fps: 60 frames, 2 s, 1280x720 like a camera's.
        m_slideshow = m_dir.filePath(QStringLiteral("slideshow.mp4"));
        QVERIFY2(makeSlideshow(m_slideshow, cocoImages(4), 15, QSize(1280, 720), 30, &error), qPrintable(error));
        m_vfr = m_dir.filePath(QStringLiteral("pause.mp4"));
        QVERIFY2(makeVariableFrameRate(m_vfr, 2.0, 30, 29, 1.5, QSize(320, 240), &error), qPrintable(error));
        m_scenes = m_dir.filePath(QStringLiteral("scenes.mp4"));
        QVERIFY2(makeSceneCuts(m_scenes, 3, 3.0, 10, QSize(320, 240), &error), qPrintable(error));
    }

    void constantRate_indicesAndTimestampsEqualFfprobe()
    {
        QString error;
        const QList<ProbedFrame> probed = probeFrames(m_slideshow, &error);
        QVERIFY2(!probed.isEmpty(), qPrintable(error));
        QCOMPARE(probed.size(), 60);
        const Decoded decoded = decodeAll(m_slideshow);
        compareWithFfprobe(decoded, probed);
        if (QTest::currentTestFailed())
            return;
        QVERIFY(!decoded.variable);
    }

    void variableRate_timestampsEqualFfprobeAndAreNoted()
    {
        QString error;
        const QList<ProbedFrame> probed = probeFrames(m_vfr, &error);
        QVERIFY2(!probed.isEmpty(), qPrintable(error));
        const Decoded decoded = decodeAll(m_vfr);
        compareWithFfprobe(decoded, probed);
        if (QTest::currentTestFailed())
            return;
        // The pause: frame 30 comes 1.5 s after its place at 30 fps; index / fps would say 1000 ms.
        QVERIFY(decoded.timestamps.at(30) > 2400);
        QVERIFY(decoded.variable);
    }

    void everyNFrames_keepsMultiplesOfN()
    {
        FrameSampler sampler(SamplingRule::everyNFrames(7));
        QList<qint64> kept;
        for (qint64 i = 0; i < 30; ++i) {
            SourceFrame frame;
            frame.index = i;
            frame.timestampMs = i * 100.0 / 3.0;
            if (sampler.decide(frame) == FrameSampler::Verdict::Keep)
                kept.append(i);
        }
        QCOMPARE(kept, (QList<qint64>{0, 7, 14, 21, 28}));
    }

    void everySeconds_followsDecoderTimeAcrossAPause()
    {
        // At 30 fps with a 1.5 s pause after frame 29: targets 0, 1000, 2000, 3000 ms.
        const Decoded decoded = decodeAll(m_vfr);
        QVERIFY(!decoded.indices.isEmpty());
        FrameSampler sampler(SamplingRule::everySecondsRule(1.0));
        QList<double> keptTimes;
        for (int i = 0; i < decoded.indices.size(); ++i) {
            SourceFrame frame;
            frame.index = decoded.indices.at(i);
            frame.timestampMs = decoded.timestamps.at(i);
            if (sampler.decide(frame) == FrameSampler::Verdict::Keep)
                keptTimes.append(frame.timestampMs);
        }
        QVERIFY(!keptTimes.isEmpty());
        QCOMPARE(keptTimes.first(), 0.0);
        // The frame after the pause (at 2.5 s) is the one for both the 1 s and 2 s targets:
        // kept once, not twice.
        for (int i = 1; i < keptTimes.size(); ++i)
            QVERIFY2(std::floor(keptTimes.at(i) / 1000.0) > std::floor(keptTimes.at(i - 1) / 1000.0),
                     qPrintable(QString::number(keptTimes.at(i))));
        QCOMPARE(keptTimes.size(), 3); // 0 ms, ~966 ms (frame 29), 2500 ms (frame 30); the clip ends at 3.47 s
    }

    void timeRange_limitsAndStops()
    {
        SamplingRule rule = SamplingRule::everyNFrames(2);
        rule.startMs = 500;
        rule.endMs = 1000;
        FrameSampler sampler(rule);
        QList<qint64> kept;
        bool stopped = false;
        for (qint64 i = 0; i < 60 && !stopped; ++i) {
            SourceFrame frame;
            frame.index = i;
            frame.timestampMs = i * 100.0 / 3.0;
            const FrameSampler::Verdict verdict = sampler.decide(frame);
            if (verdict == FrameSampler::Verdict::Keep)
                kept.append(i);
            stopped = verdict == FrameSampler::Verdict::Stop;
        }
        QVERIFY(stopped);
        QCOMPARE(kept, (QList<qint64>{15, 17, 19, 21, 23, 25, 27, 29}));
        SourceProperties properties;
        properties.fps = 30;
        properties.frameCount = 60;
        QCOMPARE(rule.estimatedCount(properties), qint64(kept.size()));
    }

    void sceneChanges_findTheCuts()
    {
        const Extraction extraction = extract(m_scenes, SamplingRule::sceneChanges());
        QCOMPARE(extraction.last, FrameExtractor::Step::End);
        // 10 fps, a cut every 3 s: the first frame and the first frame of each new shot.
        QCOMPARE(extraction.kept, (QList<qint64>{0, 30, 60}));
        QCOMPARE(extraction.framesSeen, qint64(90));
        // The measure came from the decoder's small grey copies and the frame files from its
        // planes: no frame became BGR.
        QCOMPARE(extraction.counts.framesConverted, qint64(0));
    }

    // The app quit in the middle of a video and samples it on after restarting: the run that
    // continues after the last frame the gallery got keeps exactly the frames one whole run
    // keeps after it (the sampler saw the frames before, so "every T seconds" and scene
    // changes count from where they were), writes none of the earlier ones again, and
    // decodes no more than the whole run.
    void resumedRun_keepsWhatOneRunKeepsAfterTheResumePoint_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<SamplingRule>("rule");
        QTest::newRow("every 7 frames") << QStringLiteral("slideshow") << SamplingRule::everyNFrames(7);
        QTest::newRow("every 0.4 s across a pause") << QStringLiteral("vfr") << SamplingRule::everySecondsRule(0.4);
        QTest::newRow("scene changes") << QStringLiteral("scenes") << SamplingRule::sceneChanges();
    }

    void resumedRun_keepsWhatOneRunKeepsAfterTheResumePoint()
    {
        QFETCH(QString, file);
        QFETCH(SamplingRule, rule);
        const QString path = file == QLatin1String("slideshow") ? m_slideshow : file == QLatin1String("vfr") ? m_vfr : m_scenes;
        const Extraction whole = extract(path, rule);
        QCOMPARE(whole.last, FrameExtractor::Step::End);
        QVERIFY(whole.kept.size() >= 3);
        const qint64 resumeAfter = whole.kept.at(whole.kept.size() / 2 - 1);
        QList<qint64> after;
        for (qint64 index : whole.kept) {
            if (index > resumeAfter)
                after.append(index);
        }

        const Extraction resumed = extract(path, rule, resumeAfter);
        QCOMPARE(resumed.last, FrameExtractor::Step::End);
        QCOMPARE(resumed.kept, after);
        QCOMPARE(resumed.framesKept, qint64(whole.kept.size()));
        QCOMPARE(resumed.framesSeen, whole.framesSeen);
        QCOMPARE(resumed.files.size(), after.size());
        QCOMPARE(resumed.files.first(), ImageOrigin::frameFileName(QFileInfo(path).completeBaseName(), after.first(),
                                                                   QStringLiteral("jpg")));
        QVERIFY2(resumed.counts.framesDecoded <= whole.counts.framesDecoded,
                 qPrintable(QStringLiteral("%1 frames decoded, %2 in the whole run")
                                .arg(resumed.counts.framesDecoded)
                                .arg(whole.counts.framesDecoded)));
    }

    // The decoder's small grey copy (from the luma plane) is the measure's own reduction of
    // the BGR frame, within rounding: thresholds mean the same either way.
    void sceneSignature_fromTheDecoderEqualsTheOneFromPixels()
    {
        VideoFileSource source(m_scenes);
        QString error;
        QVERIFY2(source.open(&error), qPrintable(error));
        QVERIFY(source.setSignatureSize(FrameSampler::signatureSize()));
        SourceFrame frame;
        int count = 0;
        while (source.next(&frame, FrameSource::Pixels::WithImage, &error) == FrameSource::Read::Frame) {
            QCOMPARE(frame.signature.size(), FrameSampler::signatureSize());
            const double difference = FrameSampler::difference(frame.signature, FrameSampler::signature(frame.image));
            QVERIFY2(difference < 1.5, qPrintable(QStringLiteral("frame %1: %2").arg(frame.index).arg(difference)));
            ++count;
        }
        QCOMPARE(count, 90);
    }

    void extractor_writesNamedFramesWithTheirOrigin()
    {
        QTemporaryDir out;
        FrameExtractor::Options options;
        options.rule = SamplingRule::everyNFrames(15);
        options.framesDir = FrameExtractor::framesDirFor(out.path(), scanned(m_slideshow));
        FrameExtractor extractor(scanned(m_slideshow), options);
        QString error;
        QVERIFY2(extractor.open(&error), qPrintable(error));
        QCOMPARE(extractor.estimatedCount(), qint64(4));
        QList<ScannedImage> frames;
        ScannedImage frame;
        cv::Mat pixels;
        while (extractor.next(&frame, &error, &pixels) == FrameExtractor::Step::Frame) {
            frames.append(frame);
            // A standard baseline JPEG (SOF0, no progressive SOF2) of the decoded pixels, as
            // close to them as OpenCV's own encoder at the same quality gets.
            const QByteArray jpeg = readFile(frame.absolutePath);
            QVERIFY(jpeg.startsWith("\xff\xd8") && jpeg.endsWith("\xff\xd9"));
            QVERIFY(jpeg.contains("\xff\xc0") && !jpeg.contains("\xff\xc2"));
            const cv::Mat written = cv::imdecode(cv::Mat(1, int(jpeg.size()), CV_8UC1, const_cast<char *>(jpeg.constData())),
                                                 cv::IMREAD_COLOR);
            std::vector<uchar> opencvBytes;
            QVERIFY(cv::imencode(".jpg", pixels, opencvBytes, {cv::IMWRITE_JPEG_QUALITY, 95}));
            const cv::Mat opencv = cv::imdecode(opencvBytes, cv::IMREAD_COLOR);
            QCOMPARE(written.size(), pixels.size());
            const auto meanError = [&pixels](const cv::Mat &decoded) {
                cv::Mat diff;
                cv::absdiff(decoded, pixels, diff);
                const cv::Scalar mean = cv::mean(diff);
                return (mean[0] + mean[1] + mean[2]) / 3;
            };
            const double ours = meanError(written);
            const double opencvs = meanError(opencv);
            QVERIFY2(ours < opencvs + 0.5, qPrintable(QStringLiteral("%1 vs OpenCV's %2").arg(ours).arg(opencvs)));
            QVERIFY(std::abs(double(jpeg.size()) - double(opencvBytes.size())) < 0.15 * double(opencvBytes.size()));
        }
        QCOMPARE(frames.size(), 4);
        const QList<ProbedFrame> probed = probeFrames(m_slideshow, &error);
        QCOMPARE(probed.size(), 60);
        for (int i = 0; i < frames.size(); ++i) {
            const ScannedImage &f = frames.at(i);
            const qint64 index = 15 * i;
            QCOMPARE(f.relativePath, QStringLiteral("slideshow_f%1.jpg").arg(index, 6, 10, QLatin1Char('0')));
            QCOMPARE(QFileInfo(f.absolutePath).dir().dirName(), FrameExtractor::framesFolderName());
            QVERIFY(QFileInfo(f.absolutePath).size() > 1000);
            QCOMPARE(f.origin.kind, ImageOrigin::Kind::VideoFrame);
            QCOMPARE(f.origin.frameIndex, index);
            QVERIFY(std::abs(f.origin.timestampMs - probed.at(int(index)).timestampMs) < 0.01);
            QCOMPARE(f.origin.frameSize, QSize(1280, 720));
            QCOMPARE(f.origin.sourceBytes, QFileInfo(m_slideshow).size());
            QCOMPARE(f.origin.samplingRule, QStringLiteral("every 15 frames"));
            // What a sidecar records reads back the same.
            QJsonObject json;
            f.origin.writeTo(json);
            QCOMPARE(ImageOrigin::fromJson(json), f.origin);
            QCOMPARE(json.value(QStringLiteral("frame_index")).toInt(), int(index));
        }
        QJsonObject photo;
        ImageOrigin::photo().writeTo(photo);
        QVERIFY(photo.isEmpty());
    }

    void sampledFrames_areFfmpegsFramesOfTheirIndex_data()
    {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QStringList>("encoding");
        QTest::addColumn<QString>("decoding"); // what the source decodes: skips, all, kept, some
        const QStringList h264{QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"),
                               QStringLiteral("veryfast"), QStringLiteral("-bf"), QStringLiteral("3"),
                               QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p")};
        // Packets carry presentation times, frames come reordered: B-frames nobody keeps and
        // nothing refers to are not decoded.
        QTest::newRow("H.264 with B-frames in MP4") << QStringLiteral("bframes.mp4") << h264 << QStringLiteral("skips");
        QTest::newRow("H.264 with B-frames in MKV") << QStringLiteral("bframes.mkv") << h264 << QStringLiteral("skips");
        // AVI gives B-frame packets no presentation time: every frame is decoded, in the
        // decoder's order.
        QTest::newRow("H.264 with B-frames in AVI") << QStringLiteral("bframes.avi") << h264 << QStringLiteral("all");
        QTest::newRow("HEVC with B-frames in MP4")
            << QStringLiteral("bframes-hevc.mp4")
            << QStringList{QStringLiteral("-c:v"), QStringLiteral("libx265"), QStringLiteral("-preset"),
                           QStringLiteral("ultrafast"), QStringLiteral("-x265-params"),
                           QStringLiteral("bframes=3:b-pyramid=1:log-level=error"), QStringLiteral("-pix_fmt"),
                           QStringLiteral("yuv420p")}
            << QStringLiteral("skips");
        // VP9's hidden frames travel inside the packet of a shown one: numbered by packets.
        QTest::newRow("VP9 in WebM") << QStringLiteral("vp9.webm")
                                     << QStringList{QStringLiteral("-c:v"), QStringLiteral("libvpx-vp9"),
                                                    QStringLiteral("-deadline"), QStringLiteral("good"),
                                                    QStringLiteral("-cpu-used"), QStringLiteral("8"),
                                                    QStringLiteral("-auto-alt-ref"), QStringLiteral("1"),
                                                    QStringLiteral("-lag-in-frames"), QStringLiteral("16")}
                                     << QStringLiteral("some");
        // VP8 may put a hidden frame in a packet of its own: decoded frame by frame.
        QTest::newRow("VP8 in WebM") << QStringLiteral("vp8.webm")
                                     << QStringList{QStringLiteral("-c:v"), QStringLiteral("libvpx"),
                                                    QStringLiteral("-auto-alt-ref"), QStringLiteral("1"),
                                                    QStringLiteral("-lag-in-frames"), QStringLiteral("16")}
                                     << QStringLiteral("all");
        // Every frame stands alone: only the kept frames are decoded.
        QTest::newRow("MJPEG in AVI") << QStringLiteral("mjpeg.avi")
                                      << QStringList{QStringLiteral("-c:v"), QStringLiteral("mjpeg"), QStringLiteral("-q:v"),
                                                     QStringLiteral("3")}
                                      << QStringLiteral("kept");
    }

    // Frame numbers come from the packets before decoding and B-frames are reordered: a wrong
    // number would pair a frame's index with another frame's picture.
    void sampledFrames_areFfmpegsFramesOfTheirIndex()
    {
        QFETCH(QString, fileName);
        QFETCH(QStringList, encoding);
        QFETCH(QString, decoding);
        const QSize size(160, 96);
        const QString file = m_dir.filePath(fileName);
        QString error;
        QVERIFY2(makePattern(file, 3.0, 30, size, encoding, &error), qPrintable(error));
        if (fileName.startsWith(QLatin1String("bframes")))
            QVERIFY2(probeReorderDelay(file, &error) > 0, "the clip must have reordered frames");
        const QList<ProbedFrame> probed = probeFrames(file, &error);
        QCOMPARE(probed.size(), 90);
        const QList<QByteArray> reference = ffmpegFramesBgr(file, size, &error);
        QCOMPARE(reference.size(), probed.size());

        // Every frame, decoded and numbered one by one, against ffprobe and ffmpeg.
        {
            VideoFileSource source(file);
            QVERIFY2(source.open(&error), qPrintable(error));
            SourceFrame frame;
            int count = 0;
            while (source.next(&frame, FrameSource::Pixels::WithImage, &error) == FrameSource::Read::Frame) {
                QCOMPARE(frame.index, qint64(count));
                // A frame ffprobe has no time for is timed one frame after the one before.
                if (probed.at(count).timestampMs >= 0)
                    QVERIFY(std::abs(frame.timestampMs - probed.at(count).timestampMs) < 0.01);
                QVERIFY2(meanDifference(frame.image, reference.at(count)) < 1.0, qPrintable(QString::number(count)));
                ++count;
            }
            QCOMPARE(count, probed.size());
        }

        // Every 7th frame from 0.2 s on, as the extractor asks for it (the source told what is kept).
        SamplingRule rule = SamplingRule::everyNFrames(7);
        rule.startMs = 200;
        QList<qint64> expected;
        FrameSampler expectation(rule);
        double lastMs = 0;
        for (const ProbedFrame &p : probed) {
            SourceFrame f;
            f.index = p.index;
            f.timestampMs = lastMs = p.timestampMs >= 0 ? p.timestampMs : lastMs + 1000.0 / 30;
            if (expectation.decide(f) == FrameSampler::Verdict::Keep)
                expected.append(p.index);
        }
        QVERIFY(!expected.isEmpty() && expected.first() > 0); // 6, or 4 in AVI: its times lag two frames
        QTemporaryDir out;
        FrameExtractor::Options options;
        options.rule = rule;
        options.framesDir = out.path();
        auto source = std::make_unique<VideoFileSource>(file);
        VideoFileSource *decoder = source.get();
        FrameExtractor extractor(scanned(file), options, std::move(source));
        QVERIFY2(extractor.open(&error), qPrintable(error));
        QList<qint64> kept;
        ScannedImage frame;
        cv::Mat pixels;
        FrameExtractor::Step step;
        while ((step = extractor.next(&frame, &error, &pixels)) == FrameExtractor::Step::Frame) {
            const qint64 index = frame.origin.frameIndex;
            kept.append(index);
            if (probed.at(int(index)).timestampMs >= 0)
                QVERIFY(std::abs(frame.origin.timestampMs - probed.at(int(index)).timestampMs) < 0.01);
            const double own = meanDifference(pixels, reference.at(int(index)));
            QVERIFY2(own < 1.0, qPrintable(QStringLiteral("frame %1 differs from ffmpeg's by %2").arg(index).arg(own)));
            // The neighbours differ: the check above would see a picture one frame off.
            QVERIFY(meanDifference(pixels, reference.at(int(index) - 1)) > own + 1.0);
            QVERIFY(meanDifference(pixels, reference.at(int(index) + 1)) > own + 1.0);
        }
        QCOMPARE(step, FrameExtractor::Step::End);
        QCOMPARE(kept, expected);
        const VideoFileSource::DecodeCounts counts = decoder->decodeCounts();
        QCOMPARE(counts.framesConverted, qint64(kept.size()));
        if (decoding == QLatin1String("skips"))
            QVERIFY2(counts.framesDecoded < probed.size() && counts.framesNotDecoded > 0,
                     qPrintable(QStringLiteral("%1 of %2 decoded").arg(counts.framesDecoded).arg(probed.size())));
        else if (decoding == QLatin1String("kept")) // and the first, which shows where the video starts
            QVERIFY2(counts.packetsDecoded <= qint64(kept.size()) + 1, qPrintable(QString::number(counts.packetsDecoded)));
        else if (decoding == QLatin1String("all"))
            QCOMPARE(counts.framesDecoded, qint64(probed.size()));
    }

    // Frames nobody keeps are handed out without decoding, but the packets read meanwhile
    // still go to the decoder: a late start does not hold the video's packets in memory.
    void lateStart_holdsABoundedNumberOfPackets()
    {
        SamplingRule rule = SamplingRule::everyNFrames(1);
        rule.startMs = 8500; // the last 5 of 90 frames at 10 fps
        const Extraction extraction = extract(m_scenes, rule);
        QCOMPARE(extraction.last, FrameExtractor::Step::End);
        QCOMPARE(extraction.kept, (QList<qint64>{85, 86, 87, 88, 89}));
        QVERIFY2(extraction.counts.mostPacketsQueued <= VideoDecoder::kMaxQueued + 1,
                 qPrintable(QString::number(extraction.counts.mostPacketsQueued)));
        QVERIFY(extraction.counts.framesNotDecoded > 0);
    }

    // An open-GOP stream cut without re-encoding starts with frames that refer to what was cut
    // away: the decoder drops them, and so does the numbering (ffprobe's count), also when
    // the frames around them are not decoded.
    void openGopCut_numbersOnlyTheFramesTheDecoderShows_data()
    {
        QTest::addColumn<QString>("suffix");
        QTest::addColumn<QStringList>("muxerOptions");
        QTest::newRow("MKV") << QStringLiteral("mkv") << QStringList();
        // The edit list marks the frames before the cut: they never count.
        QTest::newRow("MP4 with an edit list") << QStringLiteral("mp4") << QStringList();
        // Without one they are packets with times like any frame's, which the decoder drops.
        QTest::newRow("MP4 without an edit list")
            << QStringLiteral("mp4") << QStringList{QStringLiteral("-use_editlist"), QStringLiteral("0")};
    }

    void openGopCut_numbersOnlyTheFramesTheDecoderShows()
    {
        QFETCH(QString, suffix);
        QFETCH(QStringList, muxerOptions);
        const QString whole = m_dir.filePath(QStringLiteral("opengop.mkv"));
        const QString cut = m_dir.filePath(QStringLiteral("opengop-cut%1.%2").arg(muxerOptions.size()).arg(suffix));
        QString error;
        if (!QFileInfo::exists(whole))
            QVERIFY2(makePattern(whole, 6.0, 30, QSize(160, 96),
                                 {QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"),
                                  QStringLiteral("veryfast"), QStringLiteral("-x264-params"),
                                  QStringLiteral("open-gop=1:keyint=60:min-keyint=60:scenecut=0"),
                                  QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p")},
                                 &error),
                     qPrintable(error));
        QVERIFY2(cutCopy(whole, cut, 2.5, muxerOptions, &error), qPrintable(error));
        const QList<ProbedFrame> probed = probeFrames(cut, &error);
        QVERIFY2(probed.size() > 60, qPrintable(error));
        const Extraction extraction = extract(cut, SamplingRule::everyNFrames(7));
        QCOMPARE(extraction.last, FrameExtractor::Step::End);
        QCOMPARE(extraction.framesSeen, qint64(probed.size()));
        QList<qint64> expected;
        for (qint64 i = 0; i < probed.size(); i += 7)
            expected.append(i);
        QCOMPARE(extraction.kept, expected);
    }

    // A phone's portrait video is stored landscape with a display matrix saying "turn it": its
    // frames come upright, as ffmpeg and players show them.
    void rotatedVideo_framesComeUpright()
    {
        const QString file = m_dir.filePath(QStringLiteral("portrait.mp4"));
        QString error;
        QVERIFY2(makePattern(file, 1.0, 30, QSize(160, 96),
                             {QStringLiteral("-c:v"), QStringLiteral("libx264"), QStringLiteral("-preset"),
                              QStringLiteral("veryfast"), QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p"),
                              QStringLiteral("-movflags"), QStringLiteral("+faststart")},
                             &error),
                 qPrintable(error));
        QVERIFY2(setMp4Rotation90(file, &error), qPrintable(error));
        const QList<QByteArray> reference = ffmpegFramesBgr(file, QSize(96, 160), &error);
        QCOMPARE(reference.size(), 30);
        VideoFileSource source(file);
        QVERIFY2(source.open(&error), qPrintable(error));
        QCOMPARE(source.properties().size, QSize(96, 160));
        SourceFrame frame;
        int count = 0;
        while (source.next(&frame, FrameSource::Pixels::WithImage, &error) == FrameSource::Read::Frame) {
            QCOMPARE(frame.image.cols, 96);
            QVERIFY2(meanDifference(frame.image, reference.at(count)) < 1.0, qPrintable(QString::number(count)));
            ++count;
        }
        QCOMPARE(count, reference.size());
    }

    void truncatedFile_failsClearlyAfterKeepingEarlierFrames()
    {
        const QString truncated = m_dir.filePath(QStringLiteral("truncated.mp4"));
        QString error;
        QVERIFY2(truncateCopy(m_slideshow, truncated, 0.6, &error), qPrintable(error));
        QTemporaryDir out;
        FrameExtractor::Options options;
        options.rule = SamplingRule::everyNFrames(1);
        options.framesDir = out.path();
        FrameExtractor extractor(scanned(truncated), options);
        QVERIFY2(extractor.open(&error), qPrintable(error));
        ScannedImage frame;
        FrameExtractor::Step step;
        int kept = 0;
        while ((step = extractor.next(&frame, &error)) == FrameExtractor::Step::Frame)
            ++kept;
        QCOMPARE(step, FrameExtractor::Step::Error);
        QVERIFY2(error.contains(QStringLiteral("truncated or damaged")), qPrintable(error));
        QVERIFY2(kept > 0 && kept < 60, qPrintable(QString::number(kept)));
        QCOMPARE(int(filesUnder(out.path(), {QStringLiteral("*.jpg")}).size()), kept);
    }

    void notAVideo_isRefusedWithAReason()
    {
        const QString bogus = m_dir.filePath(QStringLiteral("bogus.mp4"));
        QVERIFY(writeFile(bogus, QByteArray(4096, 'x')));
        VideoFileSource source(bogus);
        QString error;
        QVERIFY(!source.open(&error));
        QVERIFY2(error.contains(QStringLiteral("cannot be opened as a video")), qPrintable(error));
        SourceFrame frame;
        QCOMPARE(source.next(&frame, FrameSource::Pixels::WithImage, &error), FrameSource::Read::Error);
        source.close();
        source.close();
    }

    void scanner_listsVideosApartFromImages()
    {
        QTemporaryDir in;
        QVERIFY(QDir().mkpath(in.filePath(QStringLiteral("sub"))));
        QVERIFY(QFile::copy(m_slideshow, in.filePath(QStringLiteral("sub/clip.mp4"))));
        QVERIFY(writeFile(in.filePath(QStringLiteral("a.jpg")), readFile(cocoImages(1).value(0))));
        const ScanResult scan = ImageScanner().scan({in.path()});
        QCOMPARE(scan.images.size(), 1);
        QCOMPARE(scan.videos.size(), 1);
        QCOMPARE(scan.videos.first().relativePath, QStringLiteral("sub/clip.mp4"));
        QVERIFY(scan.skipped.isEmpty());
    }

private:
    QTemporaryDir m_dir;
    QString m_slideshow;
    QString m_vfr;
    QString m_scenes;
};

QTEST_GUILESS_MAIN(TestVideoSource)
#include "tst_videosource.moc"
