// StreamSource as the FrameSource every frame consumer knows (common/inputs/framesource.h):
// open() waits for the first frame, next() hands out frames newer than the last one with
// growing indices and answers Stalled / End / Error as the contract says, close() from another
// thread ends a next() that waits, and FrameExtractor takes a stream as it takes a video file
// (frames whose origin is a live frame of the masked URL). Real streams on loopback
// (tests/support/streams/livestream.py); every wait is for an event, with a bound that only
// turns a hang into a failure.

#include "inputs/frameextractor.h"
#include "live/streamsource.h"

#include "livestreamprocess.h"
#include "livestreamspec.h"
#include "testdata.h"
#include "testnetwork.h"

#include <QFileInfo>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

using namespace edgelens;
using test::LiveStreamProcess;

namespace {

const QStringList kSmall{QStringLiteral("--size"), QStringLiteral("320x180"), QStringLiteral("--fps"),
                         QStringLiteral("15")};

// A bound that only a hang reaches (the sanitizer stage is slow, CI shares its cores).
constexpr auto kHang = std::chrono::seconds(60);

QString readName(FrameSource::Read read)
{
    switch (read) {
    case FrameSource::Read::Frame: return QStringLiteral("Frame");
    case FrameSource::Read::End: return QStringLiteral("End");
    case FrameSource::Read::Stalled: return QStringLiteral("Stalled");
    case FrameSource::Read::Error: return QStringLiteral("Error");
    }
    return {};
}

} // namespace

class TestStreamFrameSource : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_clip; // 1 s, 15 frames of 320x180 that carry their time

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        EDGELENS_REQUIRE(LiveStreamProcess::missingTools().isEmpty(), LiveStreamProcess::missingTools());
        QVERIFY(m_dir.isValid());
        m_clip = m_dir.filePath(QStringLiteral("clip.mp4"));
        QString diagnostics;
        QVERIFY2(LiveStreamProcess::writeFile(m_clip, 1, kSmall, &diagnostics), qPrintable(diagnostics));
    }

    // A file played once through the FrameSource calls: properties after open(), frames with
    // growing indices and times, then End (and End again), close() twice.
    void file_followsTheFrameSourceContract()
    {
        StreamSpec spec = test::liveSpec(m_clip);
        spec.loop = false;
        StreamSource source(spec);
        FrameSource &frames = source;
        QString error;
        QVERIFY2(frames.open(&error), qPrintable(error));
        const SourceProperties properties = frames.properties();
        QCOMPARE(properties.size, QSize(320, 180));
        QCOMPARE(properties.fps, 15.0);
        QVERIFY(!properties.isFile); // played in real time: a live source
        QVERIFY(!properties.isReconnectable);
        QCOMPARE(properties.frameCount, qint64(-1));
        QVERIFY(!properties.codec.isEmpty());
        QCOMPARE(frames.name(), QFileInfo(m_clip).absoluteFilePath());

        QList<SourceFrame> got;
        FrameSource::Read read = FrameSource::Read::Frame;
        for (int calls = 0; calls < 200; ++calls) {
            SourceFrame frame;
            read = frames.next(&frame, FrameSource::Pixels::WithoutImage, &error);
            if (read == FrameSource::Read::Stalled)
                continue; // a loaded machine may leave a read timeout without a frame
            if (read != FrameSource::Read::Frame)
                break;
            got.append(frame);
        }
        QCOMPARE(readName(read), QStringLiteral("End"));
        QVERIFY(!got.isEmpty());
        for (int i = 0; i < got.size(); ++i) {
            const SourceFrame &frame = got.at(i);
            QCOMPARE(frame.image.cols, 320);
            QCOMPARE(frame.image.rows, 180);
            QCOMPARE(frame.image.type(), CV_8UC3);
            QVERIFY(frame.index >= 0 && frame.index < 15);
            QVERIFY(frame.timestampMs >= 0);
            if (i > 0) {
                QVERIFY2(frame.index > got.at(i - 1).index, "a frame newer than the last one handed out");
                QVERIFY(frame.timestampMs > got.at(i - 1).timestampMs);
                QVERIFY(frame.captureSteadyNs > got.at(i - 1).captureSteadyNs);
            }
        }
        QCOMPARE(source.framesDecoded(), quint64(15));
        // Every frame handed out or counted as dropped: a gap in the indices is a drop.
        QCOMPARE(quint64(got.size()) + source.framesDropped(), quint64(15));
        SourceFrame after;
        QCOMPARE(readName(frames.next(&after, FrameSource::Pixels::WithImage, &error)), QStringLiteral("End"));
        frames.close();
        frames.close();
        QCOMPARE(source.state(), StreamSource::State::Closed);
    }

    void notAVideo_failsToOpen_withAMessage()
    {
        const QString path = m_dir.filePath(QStringLiteral("notes.mp4"));
        QVERIFY(test::writeFile(path, QByteArray(4096, 'x')));
        StreamSource source(test::liveSpec(path));
        QString error;
        QVERIFY(!source.open(&error));
        QVERIFY2(error.startsWith(path + QStringLiteral(": ")), qPrintable(error));
        SourceFrame frame;
        QCOMPARE(readName(source.next(&frame, FrameSource::Pixels::WithImage, &error)), QStringLiteral("End"));
    }

    void streamThatNeverAnswers_failsToOpen_credentialsMasked()
    {
        StreamSource::Options options;
        options.openTimeoutMs = 300;
        options.readTimeoutMs = 300;
        const quint16 port = test::unusedLoopbackPort();
        StreamSource source(test::liveSpec(QStringLiteral("rtsp://admin:hunter2@127.0.0.1:%1/live").arg(port)), options);
        QString error;
        QVERIFY(!source.open(&error));
        QVERIFY2(error.contains(QStringLiteral("rtsp://***@127.0.0.1:%1/live").arg(port)), qPrintable(error));
        QVERIFY2(!error.contains(QStringLiteral("hunter2")), qPrintable(error));
    }

    // An RTSP server that vanishes: next() answers Stalled (saying it reconnects) instead of
    // blocking, and frames come again, numbered on, once the server is back.
    void rtsp_stalledWhileGone_thenFramesAgain()
    {
        LiveStreamProcess stream;
        QVERIFY2(stream.start(QStringLiteral("rtsp"), 0, kSmall), qPrintable(stream.diagnostics()));
        const quint16 port = stream.port();
        StreamSource source(test::liveSpec(stream.url()));
        QString error;
        QVERIFY2(source.open(&error), qPrintable(error));
        SourceFrame frame;
        FrameSource::Read read = FrameSource::Read::Stalled;
        for (int calls = 0; calls < 20 && read != FrameSource::Read::Frame; ++calls)
            read = source.next(&frame, FrameSource::Pixels::WithImage, &error);
        QCOMPARE(readName(read), QStringLiteral("Frame"));
        const qint64 before = frame.index;

        stream.kill();
        read = FrameSource::Read::Frame;
        for (int calls = 0; calls < 200 && read == FrameSource::Read::Frame; ++calls)
            read = source.next(&frame, FrameSource::Pixels::WithImage, &error);
        QCOMPARE(readName(read), QStringLiteral("Stalled"));
        QVERIFY2(error.contains(QStringLiteral("no frame within")), qPrintable(error));

        QVERIFY2(stream.start(QStringLiteral("rtsp"), port, kSmall), qPrintable(stream.diagnostics()));
        read = FrameSource::Read::Stalled;
        for (int calls = 0; calls < 30 && read == FrameSource::Read::Stalled; ++calls)
            read = source.next(&frame, FrameSource::Pixels::WithImage, &error);
        QCOMPARE(readName(read), QStringLiteral("Frame"));
        QVERIFY(frame.index > before);
        QVERIFY(source.reconnects() >= 1);
    }

    // close() from another thread while next() (or open()) waits: the reader gets End (or a
    // failed open) and returns; never a crash or a hang. 100 times, at random moments, on a
    // file (next() waits between frames) and on a stream that never answers (open() waits).
    void close_midNext_100Times()
    {
        const StreamSpec file = test::liveSpec(m_clip);
        StreamSource::Options slow;
        slow.openTimeoutMs = 5000;
        slow.readTimeoutMs = 5000;
        const StreamSpec silent = test::liveSpec(QStringLiteral("rtsp://127.0.0.1:%1/live").arg(test::unusedLoopbackPort()));
        QRandomGenerator random(19);
        int endedMidNext = 0;
        for (int i = 0; i < 100; ++i) {
            const bool onFile = i % 5 != 4;
            auto source = onFile ? std::make_unique<StreamSource>(file) : std::make_unique<StreamSource>(silent, slow);
            std::promise<FrameSource::Read> last;
            std::future<FrameSource::Read> lastRead = last.get_future();
            std::atomic<int> framesRead{0};
            std::thread reader([&source, &last, &framesRead] {
                QString error;
                if (!source->open(&error)) {
                    last.set_value(FrameSource::Read::Error);
                    return;
                }
                FrameSource::Read read = FrameSource::Read::Frame;
                SourceFrame frame;
                while (read == FrameSource::Read::Frame || read == FrameSource::Read::Stalled) {
                    read = source->next(&frame, FrameSource::Pixels::WithImage, &error);
                    framesRead += read == FrameSource::Read::Frame;
                }
                last.set_value(read);
            });
            std::this_thread::sleep_for(std::chrono::milliseconds(random.bounded(onFile ? 300 : 60)));
            source->close();
            const bool returned = lastRead.wait_for(kHang) == std::future_status::ready;
            if (!returned)
                qFatal("close() left the reader waiting (round %d)", i); // a hang: no way to go on
            reader.join();
            const FrameSource::Read read = lastRead.get();
            QVERIFY2(read == FrameSource::Read::End || read == FrameSource::Read::Error,
                     qPrintable(readName(read)));
            endedMidNext += read == FrameSource::Read::End && framesRead.load() > 0;
            source.reset();
        }
        qInfo("closed 100 sources under a reader, %d of them after frames were read", endedMidNext);
        QVERIFY(endedMidNext > 0);
    }

    // FrameExtractor takes a stream as it takes a video file: kept frames are written as
    // "<stem>_f<index>.jpg" and their origin is a live frame of the masked URL.
    void extractor_takesAStream_framesAreLiveFrames()
    {
        LiveStreamProcess stream;
        QVERIFY2(stream.start(QStringLiteral("rtsp"), 0, kSmall), qPrintable(stream.diagnostics()));
        QUrl url(stream.url());
        url.setUserInfo(QStringLiteral("viewer:secret"));
        const StreamSpec spec = test::liveSpec(url.toString());
        auto source = std::make_unique<StreamSource>(spec);
        ScannedImage video;
        video.absolutePath = spec.display(); // what an origin records: the masked URL
        video.relativePath = QStringLiteral("camera.jpg");
        QTemporaryDir out;
        FrameExtractor::Options options;
        options.rule = SamplingRule::everySecondsRule(0.2); // by time: a stream's indices have gaps
        options.framesDir = out.path();
        FrameExtractor extractor(video, options, std::move(source));
        QString error;
        QVERIFY2(extractor.open(&error), qPrintable(error));
        QVERIFY(!extractor.properties().isFile);
        QList<ScannedImage> kept;
        while (kept.size() < 3) {
            ScannedImage frame;
            const FrameExtractor::Step step = extractor.next(&frame, &error);
            QVERIFY2(step == FrameExtractor::Step::Frame, qPrintable(error));
            kept.append(frame);
        }
        for (int i = 0; i < kept.size(); ++i) {
            const ImageOrigin &origin = kept.at(i).origin;
            QCOMPARE(origin.kind, ImageOrigin::Kind::LiveFrame);
            QCOMPARE(origin.source, QStringLiteral("rtsp://***@127.0.0.1:%1/live").arg(stream.port()));
            QCOMPARE(origin.frameSize, QSize(320, 180));
            QVERIFY(origin.timestampMs >= 0);
            if (i > 0)
                QVERIFY(origin.frameIndex > kept.at(i - 1).origin.frameIndex);
            QCOMPARE(QFileInfo(kept.at(i).absolutePath).fileName(),
                     ImageOrigin::frameFileName(QStringLiteral("camera"), origin.frameIndex, QStringLiteral("jpg")));
            QVERIFY(QFileInfo(kept.at(i).absolutePath).size() > 0);
            QJsonObject sidecar;
            origin.writeTo(sidecar);
            QVERIFY(sidecar.value(QStringLiteral("stream")).isObject());
            QVERIFY(!sidecar.contains(QStringLiteral("video")));
            QCOMPARE(qint64(sidecar.value(QStringLiteral("frame_index")).toDouble()), origin.frameIndex);
            const ImageOrigin read = ImageOrigin::fromJson(sidecar);
            QCOMPARE(read.kind, ImageOrigin::Kind::LiveFrame);
            QCOMPARE(read.source, origin.source);
            QCOMPARE(read.frameIndex, origin.frameIndex);
            QVERIFY(qAbs(read.timestampMs - origin.timestampMs) < 0.001); // written to the microsecond
        }
    }
};

QTEST_GUILESS_MAIN(TestStreamFrameSource)
#include "tst_streamframesource.moc"
