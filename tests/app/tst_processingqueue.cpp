// ProcessingQueue against servers that behave and servers that do not: every image that
// goes in ends done, failed with a reason, or cancelled; none waits forever, none is lost,
// none is reported twice.

#include "flakyserver.h"

#include "client/detectionclient.h"
#include "gallerymodel.h"
#include "processingqueue.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace edgelens;

namespace {

struct Rig
{
    QTemporaryDir dir;
    GalleryModel model;
    DetectionClient client;
    ProcessingQueue queue{&model, &client};
    QStringList paths;
    QHash<QString, int> finishedCount;
    QString outDir;

    Rig(quint16 port, DetectionClient::Protocol protocol, int images)
    {
        client.setTarget(QStringLiteral("127.0.0.1"), port);
        client.setProtocol(protocol);
        client.setRetryBackoff(50, 400);
        client.setMaxRetries(3);
        client.setTimeout(5000);
        outDir = dir.filePath(QStringLiteral("out"));
        queue.setOutputOptions({outDir, true});
        queue.setMaxInFlight(2);
        queue.setOutageLimit(1500);
        QObject::connect(&queue, &ProcessingQueue::itemFinished, &queue,
                         [this](const QString &path, bool) { ++finishedCount[path]; });
        QDir().mkpath(dir.filePath(QStringLiteral("in")));
        for (int i = 0; i < images; ++i) {
            QImage image(40, 30, QImage::Format_RGB32);
            image.fill(QColor::fromHsv(i * 30 % 360, 200, 200));
            const QString path = dir.filePath(QStringLiteral("in/img%1.jpg").arg(i));
            image.save(path);
            paths << QFileInfo(path).canonicalFilePath();
        }
        model.addPaths(paths);
    }

    void start()
    {
        queue.setTargetReady(true);
        queue.enqueue(paths);
    }

    int countStatus(GalleryItem::Status s) const { return model.count(s); }

    // Every item done or failed-with-reason, each reported exactly once.
    void verifySettled() const
    {
        QCOMPARE(countStatus(GalleryItem::Status::Queued), 0);
        QCOMPARE(countStatus(GalleryItem::Status::Sending), 0);
        QCOMPARE(countStatus(GalleryItem::Status::Processing), 0);
        for (const GalleryItem &it : model.items()) {
            QVERIFY2(finishedCount.value(it.path) == 1, qPrintable(it.path));
            if (it.status == GalleryItem::Status::Failed)
                QVERIFY2(!it.error.isEmpty(), qPrintable(it.path));
        }
        QCOMPARE(queue.batchFinished(), queue.batchTotal());
    }
};

} // namespace

class TestProcessingQueue : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        DetectionClient::forgetDetectedProtocols();
    }

    void healthyServer_everyImageDoneAndSaved()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        Rig rig(server.port(), DetectionClient::Protocol::V2, 6);
        QSignalSpy idle(&rig.queue, &ProcessingQueue::idle);
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 20000);
        QVERIFY(idle.size() >= 1);
        rig.verifySettled();
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 6);
        for (const GalleryItem &it : rig.model.items()) {
            QVERIFY(it.hasDetectionData);
            QCOMPARE(it.labelSummary, QStringLiteral("1 cat"));
            QVERIFY2(QFile::exists(it.resultPath), qPrintable(it.resultPath));
            QCOMPARE(QFileInfo(it.resultPath).absolutePath(), rig.outDir);
            QCOMPARE(QFileInfo(it.resultPath).fileName(), it.fileName); // named as the CLI names them
            QFile sidecar(it.sidecarPath);
            QVERIFY(sidecar.open(QIODevice::ReadOnly));
            const QJsonObject json = QJsonDocument::fromJson(sidecar.readAll()).object();
            QCOMPARE(json.value(QStringLiteral("detections")).toArray().size(), 1);
            QVERIFY(QImage(it.resultPath).width() == 16);
        }
        // Originals untouched.
        for (const QString &p : rig.paths)
            QCOMPARE(QImage(p).size(), QSize(40, 30));
        QCOMPARE(server.detectRequests, 6);
    }

    void dropMidReply_itemsResentNoneLostNoneTwice()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        server.dropRepliesLeft = 3;
        Rig rig(server.port(), DetectionClient::Protocol::V2, 8);
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 30000);
        rig.verifySettled();
        // Three cut-off replies are well within the retry budget: everything gets through.
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 8);
        QVERIFY(server.detectRequests > 8);
        QVERIFY(server.connections >= 2);
    }

    void serverStopsAndRestarts_everyItemSettles()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        server.replyDelayMs = 60;
        const quint16 port = server.port();
        Rig rig(port, DetectionClient::Protocol::V2, 10);
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(rig.countStatus(GalleryItem::Status::Done) >= 2, 10000);
        server.stop();
        QTimer::singleShot(300, &server, [&] { QVERIFY(server.listen(port)); });
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 30000);
        rig.verifySettled();
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done) + rig.countStatus(GalleryItem::Status::Failed), 10);
        // The server came back within the retry budget, so nothing should have failed.
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 10);
    }

    void outageLongerThanClientRetries_itemsWaitAndGetDone()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        server.replyDelayMs = 50;
        const quint16 port = server.port();
        Rig rig(port, DetectionClient::Protocol::V2, 8);
        rig.queue.setOutageLimit(20000);
        QSignalSpy outage(&rig.queue, &ProcessingQueue::outageChanged);
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(rig.countStatus(GalleryItem::Status::Done) >= 1, 10000);
        server.stop();
        // Down for longer than the client's own re-sends last (about 0.7 s here).
        QTRY_VERIFY_WITH_TIMEOUT(rig.queue.isHolding(), 10000);
        QTest::qWait(1500);
        QCOMPARE(rig.countStatus(GalleryItem::Status::Failed), 0);
        QVERIFY(server.listen(port));
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 30000);
        rig.verifySettled();
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 8);
        QVERIFY(outage.size() >= 2);
        QCOMPARE(outage.last().at(0).toBool(), false); // recovered
    }

    void serverGoneForGood_itemsFailWithReason()
    {
        quint16 port = 0;
        {
            FlakyServer server; // take a free port, then leave nothing listening on it
            QVERIFY(server.listen());
            port = server.port();
        }
        Rig rig(port, DetectionClient::Protocol::V2, 3);
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 30000);
        rig.verifySettled();
        QCOMPARE(rig.countStatus(GalleryItem::Status::Failed), 3);
        for (const GalleryItem &it : rig.model.items())
            QVERIFY2(it.error.contains(QStringLiteral("refused"), Qt::CaseInsensitive), qPrintable(it.error));
        QVERIFY(rig.queue.outageLimit() == 1500); // gave up after the limit, not before
        // Retry Failed queues them again; with a server back they get done.
        FlakyServer again;
        QVERIFY(again.listen(port));
        QCOMPARE(rig.queue.retryFailed(), 3);
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 30000);
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 3);
    }

    void cancel_marksUnfinishedCancelled_andRetryResumesThem()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        server.replyDelayMs = 200;
        Rig rig(server.port(), DetectionClient::Protocol::V2, 10);
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(rig.countStatus(GalleryItem::Status::Processing) > 0, 5000);
        const int cancelled = rig.queue.cancel();
        QVERIFY(cancelled >= 8);
        QVERIFY(!rig.queue.isBusy());
        QCOMPARE(rig.countStatus(GalleryItem::Status::Cancelled), cancelled);
        // Replies still on the way for cancelled items change nothing.
        QTest::qWait(500);
        QCOMPARE(rig.countStatus(GalleryItem::Status::Cancelled), cancelled);
        QCOMPARE(rig.queue.retryFailed(), cancelled);
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 20000);
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 10);
    }

    void requeueInFlight_thenNewTarget_everythingDoneOnce()
    {
        FlakyServer old;
        FlakyServer next;
        QVERIFY(old.listen());
        QVERIFY(next.listen());
        old.replyDelayMs = 400;
        Rig rig(old.port(), DetectionClient::Protocol::V2, 6);
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(rig.countStatus(GalleryItem::Status::Processing) > 0, 5000);
        rig.queue.setTargetReady(false);
        const int back = rig.queue.requeueInFlight();
        QVERIFY(back >= 1);
        QCOMPARE(rig.countStatus(GalleryItem::Status::Queued), 6);
        rig.client.setTarget(QStringLiteral("127.0.0.1"), next.port());
        rig.queue.setTargetReady(true);
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 20000);
        QTest::qWait(500); // the old server's late answers arrive now and must change nothing
        rig.verifySettled();
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 6);
        QCOMPARE(next.detectRequests, 6);
    }

    void pause_sendsNothingNewUntilResumed()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        Rig rig(server.port(), DetectionClient::Protocol::V2, 6);
        rig.queue.pause();
        rig.start();
        QTest::qWait(300);
        QCOMPARE(server.detectRequests, 0);
        QCOMPARE(rig.countStatus(GalleryItem::Status::Queued), 6);
        rig.queue.resume();
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 20000);
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 6);
    }

    void targetNotReady_itemsWaitThenFailQueuedGivesReason()
    {
        GalleryModel model;
        DetectionClient client;
        ProcessingQueue queue(&model, &client);
        QTemporaryDir dir;
        QImage image(4, 4, QImage::Format_RGB32);
        image.fill(Qt::blue);
        const QString path = dir.filePath(QStringLiteral("a.png"));
        image.save(path);
        model.addPaths({path});
        queue.enqueue({QFileInfo(path).canonicalFilePath()});
        QTest::qWait(100);
        QCOMPARE(model.item(0).status, GalleryItem::Status::Queued);
        QCOMPARE(queue.failQueued(QStringLiteral("embedded server could not start: no model")), 1);
        QCOMPARE(model.item(0).status, GalleryItem::Status::Failed);
        QVERIFY(model.item(0).error.contains(QStringLiteral("no model")));
        QVERIFY(!queue.isBusy());
    }

    void legacyServer_resultShownWithoutDetectionData()
    {
        FlakyServer server(/*legacy=*/true);
        QVERIFY(server.listen());
        server.dropRepliesLeft = 1;
        Rig rig(server.port(), DetectionClient::Protocol::Legacy, 3);
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 20000);
        rig.verifySettled();
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 3);
        for (const GalleryItem &it : rig.model.items()) {
            QVERIFY(!it.hasDetectionData);
            QVERIFY(QFile::exists(it.resultPath));
            QCOMPARE(rig.model.index(rig.model.rowOfPath(it.path)).data(GalleryModel::DetectionCountRole).toInt(), -1);
        }
    }

    void unreadableFile_failsWithReasonOthersContinue()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        Rig rig(server.port(), DetectionClient::Protocol::V2, 3);
        QVERIFY(QFile::remove(rig.paths.at(1)));
        rig.start();
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 20000);
        rig.verifySettled();
        QCOMPARE(rig.countStatus(GalleryItem::Status::Done), 2);
        const GalleryItem &gone = rig.model.item(rig.model.rowOfPath(rig.paths.at(1)));
        QCOMPARE(gone.status, GalleryItem::Status::Failed);
        QVERIFY2(gone.error.contains(QStringLiteral("cannot open")), qPrintable(gone.error));
    }

    void sameNameInTwoFolders_getsDistinctOutputs()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        QTemporaryDir dir;
        GalleryModel model;
        DetectionClient client;
        client.setTarget(QStringLiteral("127.0.0.1"), server.port());
        client.setProtocol(DetectionClient::Protocol::V2);
        ProcessingQueue queue(&model, &client);
        const QString out = dir.filePath(QStringLiteral("out"));
        queue.setOutputOptions({out, false});
        QStringList paths;
        for (const char *sub : {"a", "b"}) {
            QDir().mkpath(dir.filePath(QLatin1String(sub)));
            QImage image(10, 10, QImage::Format_RGB32);
            image.fill(Qt::green);
            const QString p = dir.filePath(QStringLiteral("%1/photo.jpg").arg(QLatin1String(sub)));
            image.save(p);
            paths << QFileInfo(p).canonicalFilePath();
        }
        model.addPaths(paths);
        queue.setTargetReady(true);
        queue.enqueue(paths);
        QTRY_VERIFY_WITH_TIMEOUT(!queue.isBusy(), 20000);
        QCOMPARE(model.count(GalleryItem::Status::Done), 2);
        const QString first = model.item(0).resultPath;
        const QString second = model.item(1).resultPath;
        QVERIFY(first != second);
        QVERIFY(QFile::exists(first));
        QVERIFY(QFile::exists(second));
    }
};

QTEST_GUILESS_MAIN(TestProcessingQueue)
#include "tst_processingqueue.moc"
