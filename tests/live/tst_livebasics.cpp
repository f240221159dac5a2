// The pieces of the live view that need no stream: frames that carry their capture time,
// source parsing with credentials masked, the reconnect policy and the rolling figures.

#include "live/framestamp.h"
#include "live/reconnectpolicy.h"
#include "live/rollingwindow.h"
#include "live/streamspec.h"

#include "livestreamprocess.h"
#include "testdata.h"

#include <QTemporaryDir>
#include <QTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

using namespace edgelens;

namespace {

cv::Mat jpegRoundTrip(const cv::Mat &image, int quality)
{
    std::vector<uchar> bytes;
    cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
    return cv::imdecode(bytes, cv::IMREAD_COLOR);
}

} // namespace

class TestLiveBasics : public QObject
{
    Q_OBJECT

private slots:
    void frameStamp_survivesJpegAtEverySize_data()
    {
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("quality");
        QTest::newRow("640x360 q50") << 640 << 360 << 50;
        QTest::newRow("1280x720 q30") << 1280 << 720 << 30;
        QTest::newRow("256x16 q90") << 256 << 16 << 90;
    }

    void frameStamp_survivesJpegAtEverySize()
    {
        QFETCH(int, width);
        QFETCH(int, height);
        QFETCH(int, quality);
        const QByteArray photo = test::readSample(QStringLiteral("soccer.jpg"));
        EDGELENS_REQUIRE_SHARED("data/samples/soccer.jpg");
        cv::Mat frame = cv::imdecode(std::vector<uchar>(photo.begin(), photo.end()), cv::IMREAD_COLOR);
        cv::resize(frame, frame, cv::Size(width, height));
        // A real picture carries no stamp.
        QVERIFY(!FrameStamp::read(frame));
        for (const qint64 millis : {qint64(0), qint64(1), qint64(1765000000123), (qint64(1) << 48) - 1}) {
            QVERIFY(FrameStamp::write(frame, millis));
            QCOMPARE(FrameStamp::read(frame), std::optional<qint64>(millis));
            QCOMPARE(FrameStamp::read(jpegRoundTrip(frame, quality)), std::optional<qint64>(millis));
        }
    }

    void frameStamp_aFlippedBitFailsTheChecksum()
    {
        cv::Mat frame(360, 640, CV_8UC3, cv::Scalar(40, 90, 160));
        QVERIFY(FrameStamp::write(frame, 1765000000123));
        const int block = FrameStamp::blockSize(frame.cols);
        cv::Mat flipped = frame.clone();
        cv::Mat bit = flipped(cv::Rect(10 * block, 0, block, block));
        bit.setTo(bit.at<cv::Vec3b>(block / 2, block / 2)[0] > 128 ? cv::Scalar::all(0) : cv::Scalar::all(255));
        QVERIFY(!FrameStamp::read(flipped));
        cv::Mat tooSmall(100, 200, CV_8UC3);
        QVERIFY(!FrameStamp::write(tooSmall, 5));
        QVERIFY(!FrameStamp::read(tooSmall));
        QVERIFY(!FrameStamp::read(cv::Mat()));
    }

    // The generator (Python) and the reader (C++) agree on the layout, through H.264.
    void frameStamp_readsWhatTheStreamGeneratorDrew()
    {
        EDGELENS_REQUIRE(test::LiveStreamProcess::missingTools().isEmpty(), test::LiveStreamProcess::missingTools());
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("stamped.mp4"));
        QString diagnostics;
        QVERIFY2(test::LiveStreamProcess::writeFile(path, 1, {QStringLiteral("--fps"), QStringLiteral("10")},
                                                    &diagnostics),
                 qPrintable(diagnostics));
        cv::VideoCapture capture(path.toStdString(), cv::CAP_FFMPEG);
        QVERIFY(capture.isOpened());
        QList<qint64> stamps;
        cv::Mat frame;
        while (capture.read(frame)) {
            const std::optional<qint64> stamp = FrameStamp::read(frame);
            QVERIFY(stamp);
            stamps.append(*stamp);
        }
        QCOMPARE(stamps.size(), 10);
        for (int i = 0; i < stamps.size(); ++i)
            QCOMPARE(stamps.at(i), qint64(i * 100)); // a file's frames carry their time in it
    }

    void streamSpec_parsesEveryKind()
    {
        QString error;
        auto spec = StreamSpec::parse(QStringLiteral("/dev/video2"), &error);
        QVERIFY(spec);
        QCOMPARE(spec->kind, StreamSpec::Kind::Camera);
        QCOMPARE(spec->cameraIndex, 2);
        QCOMPARE(StreamSpec::parse(QStringLiteral("0"), &error)->cameraIndex, 0);
        spec = StreamSpec::parse(QStringLiteral("rtsp://cam.local:8554/live"), &error);
        QCOMPARE(spec->kind, StreamSpec::Kind::Rtsp);
        QVERIFY(spec->isReconnectable());
        QCOMPARE(spec->rtspTransport, StreamSpec::RtspTransport::Tcp);
        spec = StreamSpec::parse(QStringLiteral("http://192.168.1.9/video.mjpg"), &error);
        QCOMPARE(spec->kind, StreamSpec::Kind::Http);
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("clip.mp4"));
        QVERIFY(test::writeFile(file, "not really a video"));
        spec = StreamSpec::parse(file, &error);
        QCOMPARE(spec->kind, StreamSpec::Kind::File);
        QVERIFY(!spec->isReconnectable());

        QVERIFY(!StreamSpec::parse(QString(), &error));
        QVERIFY(!StreamSpec::parse(dir.filePath(QStringLiteral("missing.mp4")), &error));
        QVERIFY2(error.contains(QStringLiteral("missing.mp4")), qPrintable(error));
        QVERIFY(!StreamSpec::parse(QStringLiteral("ftp://user:hunter2@cam/x"), &error));
        QVERIFY2(!error.contains(QStringLiteral("hunter2")), qPrintable(error));
        QVERIFY(!StreamSpec::parse(QStringLiteral("rtsp:///nohost"), &error));
    }

    void streamSpec_masksCredentialsEverywhere()
    {
        QString error;
        const auto spec = StreamSpec::parse(QStringLiteral("rtsp://admin:s3cr%40t@cam.local:554/h264?channel=1"), &error);
        QVERIFY(spec);
        QVERIFY(spec->hasCredentials());
        QCOMPARE(spec->display(), QStringLiteral("rtsp://***@cam.local:554/h264?channel=1"));
        const auto query = StreamSpec::parse(QStringLiteral("http://cam/video.cgi?user=admin&pwd=s3cret&res=720"), &error);
        QVERIFY(query->hasCredentials());
        QCOMPARE(query->display(), QStringLiteral("http://cam/video.cgi?user=***&pwd=***&res=720"));
        const auto plain = StreamSpec::parse(QStringLiteral("rtsp://cam.local/live"), &error);
        QVERIFY(!plain->hasCredentials());
        QCOMPARE(plain->display(), QStringLiteral("rtsp://cam.local/live"));

        // What OpenCV or FFmpeg say may quote the URL: masked wherever it appears.
        const QString message = StreamSpec::maskCredentials(
            QStringLiteral("could not open 'rtsp://admin:s3cret@cam.local/live' (http://a/b?token=xyz42 too)"));
        QVERIFY2(!message.contains(QStringLiteral("s3cret")) && !message.contains(QStringLiteral("xyz42")),
                 qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("rtsp://***@cam.local/live")), qPrintable(message));
    }

    void streamSpec_listsOnlyCaptureCameras()
    {
        // No camera on the test machines: the list is what /dev holds, and never fails.
        const QList<StreamSpec::Camera> cameras = StreamSpec::listCameras();
        for (const StreamSpec::Camera &camera : cameras) {
            QVERIFY(camera.device.startsWith(QStringLiteral("/dev/video")));
            QVERIFY(camera.index >= 0);
        }
    }

    void reconnectPolicy_backsOffToItsCapAndResets()
    {
        ReconnectPolicy policy(250, 1000);
        QList<int> delays;
        QList<quint64> generations;
        for (int i = 0; i < 6; ++i) {
            delays.append(policy.nextDelayMs());
            generations.append(policy.generation());
        }
        QCOMPARE(delays, (QList<int>{250, 500, 1000, 1000, 1000, 1000}));
        for (int i = 1; i < generations.size(); ++i)
            QVERIFY(generations.at(i) > generations.at(i - 1));
        const quint64 stale = policy.generation();
        policy.reset();
        QVERIFY(!policy.isCurrent(stale));
        QCOMPARE(policy.attempts(), 0);
        QCOMPARE(policy.nextDelayMs(), 250);
        for (int i = 0; i < 100; ++i)
            QVERIFY(policy.nextDelayMs() <= 1000); // no overflow after many failures
    }

    void rollingWindow_keepsOnlyTheLastSeconds()
    {
        RollingWindow window(1000);
        QCOMPARE(window.percentile(0.95), 0.0);
        for (int i = 1; i <= 100; ++i)
            window.add(i, double(i));
        QCOMPARE(window.percentile(0.5), 50.0);
        QCOMPARE(window.percentile(0.95), 95.0);
        QVERIFY(window.ratePerSecond(100) >= 1000.0); // 100 events in the first 100 ms
        window.add(1500, 7);
        QCOMPARE(window.count(), 1);
        QCOMPARE(window.percentile(0.5), 7.0);
        QCOMPARE(window.ratePerSecond(1500), 1.0);
    }
};

QTEST_GUILESS_MAIN(TestLiveBasics)
#include "tst_livebasics.moc"
