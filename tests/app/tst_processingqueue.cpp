// ProcessingQueue against servers that behave and servers that do not: every image that
// goes in ends done, failed with a reason, or cancelled; none waits forever, none is lost,
// none is reported twice.

#include "flakyserver.h"

#include "client/detectionclient.h"
#include "gallerymodel.h"
#include "imaging/imagetransfer.h"
#include "processingqueue.h"
#include "thumbnailcache.h"

#include <QBuffer>
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

// A v2 server that names its model's input (so the queue sends reduced copies and draws the
// results itself) and a queue that feeds a gallery thumbnail cache.
struct TransferRig
{
    FlakyServer server;
    QTemporaryDir dir;
    GalleryModel model;
    DetectionClient client;
    ProcessingQueue queue{&model, &client};
    ThumbnailCache thumbnails;
    bool listening = false;

    TransferRig()
    {
        server.modelInput = QSize(320, 320);
        listening = server.listen();
        client.setTarget(QStringLiteral("127.0.0.1"), server.port());
        client.setProtocol(DetectionClient::Protocol::V2);
        thumbnails.setThumbnailSize(QSize(120, 90));
        queue.setThumbnailCache(&thumbnails);
        queue.setOutputOptions({dir.filePath(QStringLiteral("out")), true});
    }

    // The file, in the gallery; its canonical path.
    QString add(const QString &name, const QByteArray &bytes)
    {
        QFile file(dir.filePath(name));
        if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
            return {};
        file.close();
        const QString path = QFileInfo(file.fileName()).canonicalFilePath();
        model.addPaths({path});
        return path;
    }

    void start(const QString &path)
    {
        queue.setTargetReady(true);
        queue.enqueue({path});
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

    // A v2 server that says its model's input gets a reduced copy and sends detections only;
    // the result is drawn here within the result size, with the boxes the sidecar keeps, and
    // the gallery's thumbnails come from the queue's own decode (none decoded twice).
    void v2Transfer_bigPhoto_decodedOnceDrawnHereWithinResultSize()
    {
        TransferRig rig;
        QVERIFY(rig.listening);
        rig.queue.setTransferSettings({false, 1024});
        const QSize photoSize(2400, 1800);
        QImage photo(photoSize, QImage::Format_RGB32);
        photo.fill(QColor(128, 128, 128));
        QByteArray jpeg;
        QBuffer buffer(&jpeg);
        QVERIFY(buffer.open(QIODevice::WriteOnly) && photo.save(&buffer, "JPEG", 90));
        const QString path = rig.add(QStringLiteral("photo.jpg"), jpeg);
        QVERIFY(!path.isEmpty());
        QSignalSpy annotationChanged(&rig.model, &GalleryModel::annotationChanged);
        rig.start(path);
        // Painted before the queue read it: the cache waits for the queue's thumbnail.
        QVERIFY(rig.thumbnails.thumbnail(path).isNull());
        QCOMPARE(rig.thumbnails.runningCount(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 20000);

        const GalleryItem &it = rig.model.item(0);
        QCOMPARE(it.status, GalleryItem::Status::Done);
        QCOMPARE(rig.server.lastImageSize, ImageTransfer::reducedSize(photoSize, rig.server.modelInput, 2.0));
        const QImage result(it.resultPath);
        QCOMPARE(result.size(), ImageTransfer::resultSize(photoSize, 1024, true));
        QVERIFY(qMax(result.width(), result.height()) <= 1024);
        // The cat (0.8) is drawn on its box's edge; the dog (0.15, below the threshold) is not.
        const double s = double(result.width()) / photoSize.width();
        const auto isGrey = [](QRgb p) {
            return qAbs(qRed(p) - 128) < 8 && qAbs(qGreen(p) - 128) < 8 && qAbs(qBlue(p) - 128) < 8;
        };
        QVERIFY(!isGrey(result.pixel(int(600 * s), int(900 * s))));
        QVERIFY(isGrey(result.pixel(int(120 * s), 1)));
        QVERIFY(isGrey(result.pixel(1, int(90 * s))));
        QFile sidecar(it.sidecarPath);
        QVERIFY(sidecar.open(QIODevice::ReadOnly));
        const QJsonObject json = QJsonDocument::fromJson(sidecar.readAll()).object();
        QCOMPARE(json.value(QStringLiteral("width")).toInt(), photoSize.width());
        QCOMPARE(json.value(QStringLiteral("height")).toInt(), photoSize.height());
        const QJsonArray detections = json.value(QStringLiteral("detections")).toArray();
        QCOMPARE(detections.size(), 1);
        QCOMPARE(json.value(QStringLiteral("below_threshold")).toArray().size(), 1);
        QCOMPARE(it.annotation.accepted().size(), 1);
        const QRectF box = it.annotation.accepted().first().box;
        QVERIFY2(qAbs(box.x() - 600) < 4 && qAbs(box.y() - 450) < 4 && qAbs(box.width() - 1200) < 4
                     && qAbs(box.height() - 900) < 4,
                 qPrintable(QStringLiteral("%1,%2 %3x%4").arg(box.x()).arg(box.y()).arg(box.width()).arg(box.height())));
        // The saved files already follow the threshold: nothing is redrawn after processing.
        QCOMPARE(annotationChanged.size(), 0);
        // Both thumbnails came from the queue, none decoded by the cache.
        QVERIFY(rig.thumbnails.contains(path));
        QVERIFY(rig.thumbnails.contains(it.resultPath));
        QCOMPARE(rig.thumbnails.thumbnail(path).size(), QSize(120, 90));
        QCOMPARE(rig.thumbnails.runningCount(), 0);
        QCOMPARE(rig.thumbnails.pendingCount(), 0);
        for (const QString &p : {path, it.resultPath})
            QVERIFY(!rig.thumbnails.thumbnail(p).isNull());
        QCOMPARE(QImage(path).size(), photoSize); // original untouched
    }

    void v2Transfer_failedRead_cacheLoadsTheThumbnailItself()
    {
        TransferRig rig;
        QVERIFY(rig.listening);
        const QString path = rig.add(QStringLiteral("not-a-photo.jpg"), "this is not an image");
        QVERIFY(!path.isEmpty());
        rig.start(path);
        QVERIFY(rig.thumbnails.thumbnail(path).isNull());
        QTRY_VERIFY_WITH_TIMEOUT(!rig.queue.isBusy(), 20000);
        // No thumbnail from the queue: the cache's own load runs and marks it unreadable.
        QTRY_VERIFY_WITH_TIMEOUT(rig.thumbnails.contains(path), 10000);
        QVERIFY(!rig.thumbnails.thumbnail(path).text(QStringLiteral("edgelens-error")).isEmpty());
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
