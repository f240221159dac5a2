// ProcessingLoop on its own (no gallery, no CLI): every item that goes in ends with exactly
// one outcome, no more than the window is open at once, a lost device is handled by the one
// OutagePolicy (measured on an injected clock), and a video's frames join through its feed.

#include "client/detectionclient.h"
#include "inputs/samplingrule.h"
#include "inputs/videofeed.h"
#include "processing/outagepolicy.h"
#include "processing/processingloop.h"

#include "flakyserver.h"
#include "scriptedv2server.h"
#include "testdata.h"
#include "testimages.h"
#include "testnetwork.h"
#include "testvideos.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMutex>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;
using edgelens::test::ScriptedV2Server;

namespace {

// A loop on a client with one v2 device, writing each result as <out>/<name>.jpg.
struct Rig
{
    QTemporaryDir dir;
    DetectionClient client;
    ProcessingLoop loop{&client};
    QHash<QString, ItemOutcome> outcomes;
    QHash<QString, int> finishedCount;
    int open = 0;
    int mostOpen = 0;
    QMutex written; // the save jobs run on worker threads
    QStringList writtenFiles;

    explicit Rig(quint16 port, int window = 2)
    {
        DeviceSpec device;
        device.host = QStringLiteral("127.0.0.1");
        device.port = port;
        device.protocol = DeviceSpec::Protocol::V2;
        client.setDevices({device});
        client.setRetryBackoff(20, 80);
        client.setMaxRetries(1);
        client.setTimeout(5000);
        ProcessingLoop::Settings settings;
        settings.window = window;
        settings.resultMaxSide = 0;
        loop.setSettings(settings);
        QDir().mkpath(dir.filePath(QStringLiteral("out")));
        loop.setSavePlanner([this](const ScannedImage &image, const ClientResult &) {
            SavePlan plan;
            const QString target = dir.filePath(QStringLiteral("out/") + QFileInfo(image.absolutePath).completeBaseName()
                                                + QStringLiteral(".jpg"));
            plan.write = [this, target](const ClientResult &result) {
                SavePlan::Written out;
                QFile file(target);
                if (!file.open(QIODevice::WriteOnly) || file.write(result.jpeg) != result.jpeg.size()) {
                    out.error = file.errorString();
                    return out;
                }
                out.imagePath = target;
                QMutexLocker lock(&written);
                writtenFiles.append(target);
                return out;
            };
            return plan;
        });
        QObject::connect(&loop, &ProcessingLoop::itemStarted, &loop, [this] { mostOpen = std::max(mostOpen, ++open); });
        QObject::connect(&loop, &ProcessingLoop::itemFinished, &loop,
                         [this](const QString &path, const ItemOutcome &outcome) {
                             if (outcome.kind != ItemOutcome::Kind::Cancelled)
                                 --open;
                             outcomes.insert(path, outcome);
                             ++finishedCount[path];
                         });
    }

    QList<ScannedImage> images(int count)
    {
        QList<ScannedImage> out;
        QDir().mkpath(dir.filePath(QStringLiteral("in")));
        for (int i = 0; i < count; ++i) {
            const QString path = dir.filePath(QStringLiteral("in/img%1.jpg").arg(i));
            QFile file(path);
            if (!file.open(QIODevice::WriteOnly))
                return {};
            file.write(test::solidImageBytes(64, 48, QColor::fromHsv(i * 37 % 360, 200, 200)));
            out.append(ScannedImage{QFileInfo(path).absoluteFilePath(), QFileInfo(path).fileName(), {}});
        }
        return out;
    }
};

} // namespace

class TestProcessingLoop : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        qRegisterMetaType<VideoFeed *>();
    }

    void outagePolicy_sendsAgainUntilTheLimit_thenFailsEverything_onAnInjectedClock()
    {
        qint64 now = 1000;
        OutagePolicy policy([&now] { return now; });
        policy.setLimit(60000);
        QVERIFY(!policy.inOutage());
        // Nothing got through yet: not an outage but a target that is not there.
        QCOMPARE(policy.onFailure(true, false, 0), OutagePolicy::Decision::Fail);
        QVERIFY(!policy.inOutage());
        QVERIFY(!policy.onSuccess());
        QVERIFY(policy.linkWorked());
        // A failure on a working link, or one the client does not call retryable, is the item's.
        QCOMPARE(policy.onFailure(true, true, 0), OutagePolicy::Decision::Fail);
        QCOMPARE(policy.onFailure(false, false, 0), OutagePolicy::Decision::Fail);
        QVERIFY(!policy.inOutage());
        QCOMPARE(policy.onFailure(true, false, 0), OutagePolicy::Decision::SendAgain);
        QVERIFY(policy.inOutage());
        now += 59999;
        QCOMPARE(policy.onFailure(true, false, 0), OutagePolicy::Decision::SendAgain);
        QCOMPARE(policy.outageMs(), 59999);
        now += 1;
        QCOMPARE(policy.onFailure(true, false, 0), OutagePolicy::Decision::FailEverything);
        QCOMPARE(policy.givingUp(QStringLiteral("Connection refused.")),
                 QStringLiteral("Connection refused. (nothing got through for 60 s)"));
        // Something got through: the outage is over and the next one starts afresh.
        QVERIFY(policy.onSuccess());
        QVERIFY(!policy.onSuccess());
        QCOMPARE(policy.outageMs(), 0);
        QCOMPARE(policy.onFailure(true, false, 0), OutagePolicy::Decision::SendAgain);
        now += 30000;
        QCOMPARE(policy.onFailure(true, false, 0), OutagePolicy::Decision::SendAgain);
        // An item that failed again and again while others got through fails on its own.
        QCOMPARE(policy.onFailure(true, false, OutagePolicy::kMaxStrikes - 1), OutagePolicy::Decision::SendAgain);
        QCOMPARE(policy.onFailure(true, false, OutagePolicy::kMaxStrikes), OutagePolicy::Decision::Fail);
        QVERIFY(policy.reset());
        // Another target: it has to work once before its failures are an outage.
        QCOMPARE(policy.onFailure(true, false, 0), OutagePolicy::Decision::SendAgain);
        QVERIFY(policy.forget());
        QCOMPARE(policy.onFailure(true, false, 0), OutagePolicy::Decision::Fail);
    }

    void outagePolicy_resendDelay_keepsAClientThatFailsAtOnceFromSpinning()
    {
        QCOMPARE(OutagePolicy::resendDelay(0), OutagePolicy::kMinResendMs);
        QCOMPARE(OutagePolicy::resendDelay(50), OutagePolicy::kMinResendMs - 50);
        QCOMPARE(OutagePolicy::resendDelay(OutagePolicy::kMinResendMs), 0);
        QCOMPARE(OutagePolicy::resendDelay(100000), 0);
    }

    void manyItems_eachEndsDoneOnce_neverMoreThanTheWindowOpen()
    {
        FlakyServer server; // names its model's input: answers detections only, drawn here
        server.modelInput = QSize(320, 320);
        QVERIFY(server.listen());
        Rig rig(server.port(), 2);
        const QList<ScannedImage> items = rig.images(24);
        QCOMPARE(items.size(), 24);
        QSignalSpy idle(&rig.loop, &ProcessingLoop::idle);
        rig.loop.setReady(true);
        rig.loop.enqueue(items);
        QCOMPARE(rig.loop.batchTotal(), 24);
        QVERIFY(idle.wait(30000));
        QVERIFY(!rig.loop.isBusy());
        QCOMPARE(rig.outcomes.size(), 24);
        for (const ScannedImage &item : items) {
            const ItemOutcome outcome = rig.outcomes.value(item.absolutePath);
            QVERIFY2(outcome.ok(), qPrintable(item.absolutePath + QStringLiteral(": ") + outcome.error));
            QCOMPARE(rig.finishedCount.value(item.absolutePath), 1);
            QVERIFY(outcome.answered);
            QVERIFY(outcome.drawnHere); // a v2 answer without an image is drawn here
            QVERIFY(!outcome.result.result.detections.isEmpty());
            QCOMPARE(QImage(outcome.imagePath).size(), QSize(64, 48));
        }
        QCOMPARE(rig.writtenFiles.size(), 24);
        QCOMPARE(rig.loop.batchFinished(), 24);
        // Read or in flight: the window; saving: as many more.
        QVERIFY2(rig.mostOpen <= 4, qPrintable(QString::number(rig.mostOpen)));
        QCOMPARE(server.detectRequests, 24);
    }

    void targetNeverReached_failsWithTheClientsReason_noOutage()
    {
        Rig rig(test::unusedLoopbackPort(), 2);
        const QList<ScannedImage> items = rig.images(3);
        QSignalSpy outage(&rig.loop, &ProcessingLoop::outageChanged);
        QSignalSpy idle(&rig.loop, &ProcessingLoop::idle);
        rig.loop.setReady(true);
        rig.loop.enqueue(items);
        QVERIFY(idle.wait(30000));
        QCOMPARE(rig.outcomes.size(), 3);
        for (const ItemOutcome &outcome : std::as_const(rig.outcomes)) {
            QCOMPARE(outcome.kind, ItemOutcome::Kind::Failed);
            QVERIFY2(outcome.error.contains(QStringLiteral("refused"), Qt::CaseInsensitive), qPrintable(outcome.error));
        }
        QVERIFY(outage.isEmpty());
    }

    void deviceGone_sentAgainUntilTheOutageLimit_thenEveryItemFailsWithTheReason()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        Rig rig(server.port(), 2);
        rig.loop.outagePolicy().setLimit(300);
        const QList<ScannedImage> items = rig.images(6);
        QSignalSpy outage(&rig.loop, &ProcessingLoop::outageChanged);
        rig.loop.setReady(true);
        rig.loop.enqueue(items.mid(0, 1));
        QTRY_VERIFY_WITH_TIMEOUT(!rig.loop.isBusy(), 20000);
        QVERIFY(rig.outcomes.value(items.first().absolutePath).ok());
        server.stop();
        rig.loop.enqueue(items.mid(1));
        QTRY_VERIFY_WITH_TIMEOUT(!rig.loop.isBusy(), 30000);
        QCOMPARE(rig.outcomes.size(), 6);
        for (const ScannedImage &item : items.mid(1)) {
            const ItemOutcome outcome = rig.outcomes.value(item.absolutePath);
            QCOMPARE(outcome.kind, ItemOutcome::Kind::Failed);
            QCOMPARE(rig.finishedCount.value(item.absolutePath), 1);
            QVERIFY2(outcome.error.contains(QStringLiteral("nothing got through")), qPrintable(outcome.error));
        }
        QVERIFY(!outage.isEmpty());
        QCOMPARE(outage.first().at(0).toBool(), true);
        QCOMPARE(rig.writtenFiles.size(), 1);
    }

    void deviceBack_withinTheLimit_everythingGetsDone()
    {
        FlakyServer server;
        QVERIFY(server.listen());
        const quint16 port = server.port();
        Rig rig(port, 2);
        const QList<ScannedImage> items = rig.images(5);
        QSignalSpy outage(&rig.loop, &ProcessingLoop::outageChanged);
        rig.loop.setReady(true);
        rig.loop.enqueue(items.mid(0, 1));
        QTRY_VERIFY_WITH_TIMEOUT(!rig.loop.isBusy(), 20000);
        server.stop();
        rig.loop.enqueue(items.mid(1));
        QTRY_VERIFY_WITH_TIMEOUT(rig.loop.isHolding(), 20000);
        QCOMPARE(rig.outcomes.size(), 1); // the others wait, none failed
        QVERIFY(server.listen(port));
        QTRY_VERIFY_WITH_TIMEOUT(!rig.loop.isBusy(), 30000);
        QCOMPARE(rig.outcomes.size(), 5);
        for (const ItemOutcome &outcome : std::as_const(rig.outcomes))
            QVERIFY2(outcome.ok(), qPrintable(outcome.error));
        for (const ScannedImage &item : items)
            QCOMPARE(rig.finishedCount.value(item.absolutePath), 1);
        QVERIFY(!rig.loop.isHolding());
        QCOMPARE(outage.first().at(0).toBool(), true);
        QCOMPARE(outage.last().at(0).toBool(), false);
    }

    void cancel_endsEveryItemCancelled_lateAnswersChangeNothing()
    {
        ScriptedV2Server server;
        server.behaviour = ScriptedV2Server::Behaviour::NeverAnswer;
        QVERIFY(server.listenOnLoopback());
        Rig rig(server.serverPort(), 2);
        const QList<ScannedImage> items = rig.images(8);
        rig.loop.setReady(true);
        rig.loop.enqueue(items);
        QTRY_VERIFY_WITH_TIMEOUT(server.detectRequests >= 1, 10000);
        QCOMPARE(rig.loop.cancel(), 8);
        QVERIFY(!rig.loop.isBusy());
        QCOMPARE(rig.outcomes.size(), 8);
        for (const ItemOutcome &outcome : std::as_const(rig.outcomes))
            QCOMPARE(outcome.kind, ItemOutcome::Kind::Cancelled);
        // Enqueued again, a new batch: its items go out again.
        server.behaviour = ScriptedV2Server::Behaviour::Answer;
        server.dropAllConnections();
        rig.outcomes.clear();
        rig.loop.enqueue(items);
        QCOMPARE(rig.loop.batchTotal(), 8);
        QTRY_VERIFY_WITH_TIMEOUT(!rig.loop.isBusy(), 30000);
        QCOMPARE(rig.outcomes.size(), 8);
        for (const ItemOutcome &outcome : std::as_const(rig.outcomes))
            QVERIFY2(outcome.ok(), qPrintable(outcome.error));
    }

    void pausedOrNotReady_sendsNothing()
    {
        ScriptedV2Server server;
        QVERIFY(server.listenOnLoopback());
        Rig rig(server.serverPort(), 2);
        const QList<ScannedImage> items = rig.images(3);
        rig.loop.enqueue(items); // not ready yet
        rig.loop.setReady(true);
        rig.loop.pause();
        QVERIFY(rig.loop.isBusy());
        // Nothing was started: a started item would have said so synchronously or by now the
        // server would have counted it; the loop holds every item queued.
        QCOMPARE(rig.open, 0);
        QVERIFY(rig.loop.isQueuedWithin(items.first().absolutePath, 1));
        rig.loop.resume();
        QTRY_VERIFY_WITH_TIMEOUT(!rig.loop.isBusy(), 30000);
        QCOMPARE(rig.outcomes.size(), 3);
    }

    void videoFeed_framesJoinTheLoop_andTheFeedEnds()
    {
        EDGELENS_REQUIRE(test::haveFfmpeg(), "ffmpeg and ffprobe (Debian package ffmpeg)");
        FlakyServer server;
        server.modelInput = QSize(16, 16); // small enough for a reduced copy of a 160x96 frame
        QVERIFY(server.listen());
        Rig rig(server.port(), 2);
        const QString clip = rig.dir.filePath(QStringLiteral("clip.mp4"));
        QString error;
        QVERIFY2(test::makeSceneCuts(clip, 2, 1.0, 10, QSize(160, 96), &error), qPrintable(error));
        FrameExtractor::Options options;
        options.rule = SamplingRule::everyNFrames(5);
        options.framesDir = rig.dir.filePath(QStringLiteral("frames"));
        auto *feed = new VideoFeed(ScannedImage{clip, QStringLiteral("clip.mp4"), {}}, options);
        QVERIFY2(feed->open(&error), qPrintable(error));
        QSignalSpy frames(&rig.loop, &ProcessingLoop::frameQueued);
        QSignalSpy finished(&rig.loop, &ProcessingLoop::feedFinished);
        // A frame comes with its decoded pixels: the copy sent and the result are made from
        // them, so its file (written for the gallery and the exports) is not read again. Spoil
        // each file as its frame joins: the frame must still be done.
        QObject::connect(&rig.loop, &ProcessingLoop::frameQueued, &rig.loop,
                         [](VideoFeed *, const ScannedImage &frame) {
                             QFile file(frame.absolutePath);
                             QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
                             file.write("not a JPEG any more");
                         });
        rig.loop.setReady(true);
        rig.loop.addFeed(feed);
        QVERIFY(rig.loop.isBusy());
        feed->start();
        QTRY_VERIFY_WITH_TIMEOUT(!rig.loop.isBusy(), 60000);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.first().at(1).toString(), QString());
        QCOMPARE(frames.size(), 4); // frames 0, 5, 10, 15 of 20
        QCOMPARE(rig.outcomes.size(), 4);
        for (auto it = rig.outcomes.cbegin(); it != rig.outcomes.cend(); ++it) {
            QVERIFY2(it->ok(), qPrintable(it->error));
            QVERIFY(QFileInfo(it.key()).fileName().startsWith(QStringLiteral("clip_f0000")));
            QCOMPARE(QImage(it->imagePath).size(), QSize(160, 96));
            QVERIFY(it->drawnHere);
            QCOMPARE(it->result.result.imageWidth, 160); // boxes in the frame's pixels
        }
        QCOMPARE(server.lastImageSize, QSize(53, 32)); // the reduced copy, not the spoilt file
    }
};

QTEST_GUILESS_MAIN(TestProcessingLoop)
#include "tst_processingloop.moc"
