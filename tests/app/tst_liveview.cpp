// The app's live view: the capture rule, kept frames written as originals, credentials never
// in the title, the status or the settings file, and end to end through the embedded server:
// a file played live, a snapshot and a capture that join the gallery, are detected like photos
// and export like photos.

#include "isolateduserstate.h"
#include "livestreamprocess.h"
#include "testdata.h"

#include "export/cocoexport.h"
#include "gallerymodel.h"
#include "live/capturerule.h"
#include "live/livewindow.h"
#include "live/liveview.h"
#include "live/recentstreams.h"
#include "live/snapshotwriter.h"
#include "mainwindow.h"
#include "processingqueue.h"
#include "mainwindowparts.h"
#include "widgets/appsettings.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace edgelens;

namespace {

Detection detection(const QString &label)
{
    Detection d;
    d.label = label;
    d.classId = label == QLatin1String("person") ? 0 : 16;
    d.confidence = 0.9f;
    d.box = QRectF(10, 10, 50, 80);
    return d;
}

} // namespace

class TestLiveView : public QObject
{
    Q_OBJECT

    std::unique_ptr<test::IsolatedUserState> m_user; // settings and Pictures, never the user's

private slots:
    void initTestCase()
    {
        m_user = std::make_unique<test::IsolatedUserState>();
        QVERIFY(m_user->isValid());
        QCoreApplication::setOrganizationName(QStringLiteral("EdgeLensTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_liveview"));
    }

    void captureRule_keepsChosenLabels_atMostOncePerInterval()
    {
        CaptureRule rule;
        QVERIFY(!rule.offer({detection(QStringLiteral("person"))}, 0)); // off by default
        rule.setEnabled(true);
        rule.setLabels(CaptureRule::parseLabels(QStringLiteral(" Person ; dog,, person")));
        QCOMPARE(rule.labels(), (QStringList{QStringLiteral("dog"), QStringLiteral("person")}));
        rule.setMinIntervalMs(10000);
        QVERIFY(!rule.offer({detection(QStringLiteral("car"))}, 1000));
        QStringList matched;
        QVERIFY(rule.offer({detection(QStringLiteral("car")), detection(QStringLiteral("person"))}, 2000, &matched));
        QCOMPARE(matched, QStringList{QStringLiteral("person")});
        QVERIFY(!rule.offer({detection(QStringLiteral("person"))}, 11999)); // within the interval
        QVERIFY(rule.offer({detection(QStringLiteral("dog"))}, 12000));
        QVERIFY(!rule.offer({}, 50000));
        rule.setLabels({});
        QVERIFY(rule.offer({detection(QStringLiteral("car"))}, 60000)); // no labels: any detection
    }

    void snapshotWriter_writesAnOriginalNamedByKindAndTime()
    {
        QTemporaryDir dir;
        const cv::Mat frame(90, 160, CV_8UC3, cv::Scalar(10, 200, 30));
        const QDateTime at = QDateTime::fromMSecsSinceEpoch(1796524794617);
        QString error;
        const QString first = SnapshotWriter::write(frame, dir.filePath(QStringLiteral("snaps")), QStringLiteral("snapshot"), at, &error);
        QVERIFY2(!first.isEmpty(), qPrintable(error));
        const QString second = SnapshotWriter::write(frame, dir.filePath(QStringLiteral("snaps")), QStringLiteral("snapshot"), at, &error);
        QVERIFY(second != first); // the same millisecond twice: a second name
        QCOMPARE(QImage(first).size(), QSize(160, 90));
        QVERIFY(QFileInfo(first).fileName().startsWith(QStringLiteral("snapshot_")));
        QVERIFY(SnapshotWriter::write(cv::Mat(), dir.path(), QStringLiteral("snapshot"), at, &error).isEmpty());
        QVERIFY(!error.isEmpty());
        QVERIFY(SnapshotWriter::defaultFolder().contains(QStringLiteral("EdgeLens Snapshots")));
    }

    void credentials_neverInTitleStatusOrSettings()
    {
        QString error;
        const auto spec = StreamSpec::parse(QStringLiteral("rtsp://admin:hunter2@127.0.0.1:1/live"), &error);
        QVERIFY(spec);
        DetectionClient client;
        QTemporaryDir dir;
        {
            LiveWindow window(&client, *spec, dir.path());
            window.start();
            QVERIFY(!window.windowTitle().contains(QStringLiteral("hunter2")));
            QVERIFY(window.windowTitle().contains(QStringLiteral("rtsp://***@127.0.0.1:1/live")));
            // Nothing listens there: the source keeps trying, and says so without the password.
            QTRY_VERIFY_WITH_TIMEOUT(window.statusText().contains(QStringLiteral("connecting")), 10000);
            QVERIFY2(!window.statusText().contains(QStringLiteral("hunter2")), qPrintable(window.statusText()));
            QVERIFY(!window.view()->overlayText().contains(QStringLiteral("hunter2")));
        }
        RecentStreams recent;
        QSignalSpy notKept(&recent, &RecentStreams::credentialsNotKept);
        recent.remember(*spec);
        QCOMPARE(recent.list().value(0), QStringLiteral("rtsp://***@127.0.0.1:1/live"));
        // The keyring answers asynchronously: kept there, or refused (no keyring service here).
        QTRY_VERIFY_WITH_TIMEOUT(!notKept.isEmpty()
                                     || QSettings().value(QStringLiteral("live/withCredentials")).toStringList().contains(
                                         QStringLiteral("rtsp://***@127.0.0.1:1/live")),
                                 30000);
        QSettings settings;
        settings.sync();
        QFile file(settings.fileName());
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY2(!file.readAll().contains("hunter2"), "the settings file holds no credentials");
    }

    void fileLive_snapshotAndCapture_joinTheGallery_andExportLikePhotos()
    {
        EDGELENS_REQUIRE(test::LiveStreamProcess::missingTools().isEmpty(), test::LiveStreamProcess::missingTools());
        EDGELENS_REQUIRE_SHARED("data/samples/soccer.jpg");
        QTemporaryDir dir;
        const QString clip = dir.filePath(QStringLiteral("soccer.mp4"));
        QString diagnostics;
        QVERIFY2(test::LiveStreamProcess::writeFile(
                     clip, 2,
                     {QStringLiteral("--size"), QStringLiteral("640x360"), QStringLiteral("--fps"), QStringLiteral("10"),
                      QStringLiteral("--background"), test::samplePath(QStringLiteral("soccer.jpg"))},
                     &diagnostics),
                 qPrintable(diagnostics));
        AppSettings settings;
        settings.target = AppSettings::Target::Embedded;
        settings.model = QStringLiteral("nanodet-m-320");
        settings.outputDir = dir.filePath(QStringLiteral("out"));
        MainWindow window(settings);
        QString error;
        const auto spec = StreamSpec::parse(clip, &error);
        QVERIFY(spec);
        LiveWindow *live = window.openLive(*spec);
        QVERIFY(live);
        QSignalSpy kept(live, &LiveWindow::frameKept);
        QTRY_VERIFY_WITH_TIMEOUT(live->view()->current().detected && !live->view()->current().detections.isEmpty(), 120000);
        const QString snapshot = live->snapshot();
        QVERIFY(!snapshot.isEmpty());
        QVERIFY(snapshot.startsWith(SnapshotWriter::defaultFolder()));
        live->setCaptureRule(true, {QStringLiteral("person")}, 3600);
        QTRY_COMPARE_WITH_TIMEOUT(kept.size(), 2, 30000);
        const QString capture = kept.at(1).at(0).toString();
        QVERIFY2(QFileInfo(capture).fileName().startsWith(QStringLiteral("capture-person_")), qPrintable(capture));
        // The figures come twice a second; the gallery's own messages may come between.
        QTRY_VERIFY_WITH_TIMEOUT(window.statusBar()->currentMessage().startsWith(QStringLiteral("Live:")), 10000);
        delete live; // closing the live view leaves the kept frames to the gallery

        GalleryModel *model = window.galleryModel();
        QTRY_COMPARE_WITH_TIMEOUT(model->count(GalleryItem::Status::Done), 2, 120000);
        for (const QString &path : {snapshot, capture}) {
            const int row = model->rowOfPath(QFileInfo(path).canonicalFilePath());
            QVERIFY2(row >= 0, qPrintable(path));
            const GalleryItem &item = model->item(row);
            QVERIFY(item.hasDetectionData);
            QVERIFY2(item.labels.contains(QStringLiteral("person")), qPrintable(item.labelSummary));
            QVERIFY(QFile::exists(item.resultPath));
            QVERIFY(item.resultPath.startsWith(settings.outputDir));
            // Where it came from, as a video frame records its video: the stream (masked),
            // the frame index and time, and what kept it; in the item and in its sidecar.
            QCOMPARE(item.origin.kind, ImageOrigin::Kind::LiveFrame);
            QCOMPARE(item.origin.source, spec->display());
            QVERIFY(item.origin.frameIndex >= 0);
            QVERIFY(item.origin.timestampMs >= 0);
            QCOMPARE(item.origin.frameSize, QSize(640, 360));
            QCOMPARE(item.origin.samplingRule.startsWith(QStringLiteral("capture rule: person")), path == capture);
            QFile sidecar(item.sidecarPath);
            QVERIFY2(sidecar.open(QIODevice::ReadOnly), qPrintable(item.sidecarPath));
            const QJsonObject json = QJsonDocument::fromJson(sidecar.readAll()).object();
            QCOMPARE(json.value(QStringLiteral("stream")).toObject().value(QStringLiteral("path")).toString(),
                     spec->display());
            QCOMPARE(qint64(json.value(QStringLiteral("frame_index")).toDouble(-1)), item.origin.frameIndex);
            QVERIFY(json.contains(QStringLiteral("timestamp_ms")));
        }
        QCOMPARE(kept.at(0).at(1).value<ImageOrigin>().samplingRule, QStringLiteral("snapshot"));
        QString message;
        const QString coco = dir.filePath(QStringLiteral("export/coco.json"));
        QVERIFY2(window.exportDetectionsTo(QStringLiteral("coco"), coco, &message), qPrintable(message));
        QStringList classes;
        const QList<ExportItem> back = readCoco(coco, &error, &classes);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(back.size(), 2);
        for (const ExportItem &e : back) {
            QCOMPARE(e.width, 640);
            QVERIFY(!e.detections.isEmpty());
            QCOMPARE(e.origin.kind, ImageOrigin::Kind::LiveFrame);
            QCOMPARE(e.origin.source, spec->display());
        }
    }
};

QTEST_MAIN(TestLiveView)
#include "tst_liveview.moc"
