// The embedded server never makes the window wait: stopping or restarting it while its model is
// still loading returns at once, the event loop keeps turning, and a new start still works.
// Uses a real model from EDGELENS_SHARED_DIR; without it the suite fails.

#include "testdata.h"

#include "embeddedserver.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

using namespace edgelens;

namespace {

// The largest model in the shared folder: its load is what a user waits for.
const QString kModel = QStringLiteral("yolox-nano-640");

// Ticks every 50 ms on the GUI thread and remembers the longest gap between two ticks.
class StallMeter final
{
public:
    StallMeter()
    {
        m_timer.setInterval(50);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            m_longestGapMs = qMax(m_longestGapMs, m_sinceTick.restart());
            ++m_ticks;
        });
        m_sinceTick.start();
        m_timer.start();
    }
    qint64 longestGapMs() const { return qMax(m_longestGapMs, m_sinceTick.elapsed()); }
    int ticks() const { return m_ticks; }

private:
    QTimer m_timer;
    QElapsedTimer m_sinceTick;
    qint64 m_longestGapMs = 0;
    int m_ticks = 0;
};

// A stop or restart that waited for the load would hold the window for about a whole load: the
// bound is half of this machine's load time (several seconds under AddressSanitizer), with 300 ms
// as the floor a user notices.
qint64 blockingBoundMs(qint64 loadMs)
{
    return qMax<qint64>(300, loadMs / 2);
}

} // namespace

class TestEmbeddedServer final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        const QString modelDir = test::sharedPath(QStringLiteral("models/") + kModel);
        QVERIFY2(QFileInfo(modelDir).isDir(), qPrintable(QStringLiteral("shared model missing: %1").arg(modelDir)));
    }

    void stopWhileLoading_returnsAtOnceAndEventLoopKeepsTurning()
    {
        EmbeddedServer server;
        QSignalSpy started(&server, &EmbeddedServer::started);
        QSignalSpy failed(&server, &EmbeddedServer::failed);

        StallMeter meter;
        QElapsedTimer clock;
        clock.start();
        // Several loads abandoned in a row: each used to hold the window until it ended.
        qint64 longestCallMs = 0;
        for (int i = 0; i < 3; ++i) {
            QElapsedTimer call;
            call.start();
            server.start(kModel);
            QCOMPARE(server.state(), EmbeddedServer::State::Starting);
            QTest::qWait(30); // let the server thread begin its load
            server.stop();
            longestCallMs = qMax(longestCallMs, call.elapsed() - 30);
            QCOMPARE(server.state(), EmbeddedServer::State::Stopped);
            QCOMPARE(server.port(), quint16(0));
        }
        QVERIFY(server.retiredCount() >= 1);
        // The retired servers finish their loads on their own threads meanwhile.
        QTRY_COMPARE_WITH_TIMEOUT(server.retiredCount(), 0, 60000);
        const qint64 totalMs = clock.elapsed();
        const qint64 longestGapMs = meter.longestGapMs();
        // Abandoned starts report nothing: the user stopped them.
        QCOMPARE(started.count(), 0);
        QCOMPARE(failed.count(), 0);

        // And the server still starts for real afterwards.
        QElapsedTimer load;
        load.start();
        server.start(kModel);
        QVERIFY(started.wait(60000) || started.count() == 1);
        const qint64 boundMs = blockingBoundMs(load.elapsed());
        QVERIFY2(longestCallMs < boundMs,
                 qPrintable(QStringLiteral("start+stop took %1 ms (bound %2 ms)").arg(longestCallMs).arg(boundMs)));
        QVERIFY2(longestGapMs < boundMs,
                 qPrintable(QStringLiteral("event loop stalled for %1 ms (of %2 ms, %3 ticks; bound %4 ms)")
                                .arg(longestGapMs).arg(totalMs).arg(meter.ticks()).arg(boundMs)));
        QCOMPARE(server.state(), EmbeddedServer::State::Running);
        QVERIFY(server.port() > 0);
        QTcpSocket socket;
        socket.connectToHost(QStringLiteral("127.0.0.1"), server.port());
        QVERIFY2(socket.waitForConnected(5000), qPrintable(socket.errorString()));
        QCOMPARE(failed.count(), 0);
    }

    void restartWithAnotherModelWhileLoading_doesNotBlockAndRunsTheNewModel()
    {
        EmbeddedServer server;
        QSignalSpy started(&server, &EmbeddedServer::started);
        StallMeter meter;
        server.start(kModel);
        QTest::qWait(30);
        QElapsedTimer call;
        call.start();
        server.start(QStringLiteral("nanodet-m-320")); // retires the loading one
        const qint64 callMs = call.elapsed();
        QCOMPARE(server.requestedModel(), QStringLiteral("nanodet-m-320"));
        QVERIFY(started.wait(60000) || started.count() == 1);
        const qint64 boundMs = blockingBoundMs(call.elapsed());
        QCOMPARE(started.count(), 1); // only the new one reports
        QVERIFY2(server.modelName().startsWith(QStringLiteral("nanodet-m-320")), qPrintable(server.modelName()));
        QVERIFY2(callMs < boundMs, qPrintable(QStringLiteral("restart took %1 ms (bound %2 ms)").arg(callMs).arg(boundMs)));
        QVERIFY2(meter.longestGapMs() < boundMs,
                 qPrintable(QStringLiteral("event loop stalled for %1 ms (bound %2 ms)").arg(meter.longestGapMs()).arg(boundMs)));
    }

    void destroyWhileLoading_waitsForTheThreadWithoutCrashing()
    {
        // The app quitting mid-load: the destructor is the one place allowed to wait.
        auto *server = new EmbeddedServer;
        server->start(kModel);
        QTest::qWait(30);
        server->stop();
        server->start(kModel);
        // "QThread: Destroyed while thread is still running" would abort the suite here.
        delete server;
    }
};

QTEST_MAIN(TestEmbeddedServer)
#include "tst_embeddedserver.moc"
