// The embedded server never makes the window wait, and a stopped one never serves: stopping or
// restarting it while its model is loading returns without waiting for the load (the load is
// held on its thread while stop() runs, so a stop that waited would never return), the
// abandoned load ends without opening a port, and a new start still works. Event-driven: the
// moment the load begins is a signal, not a guess at how long it takes; how long a stop
// blocks the window is measured by app/bench, not asserted here.
// Uses a real model from EDGELENS_SHARED_DIR; without it the suite fails.

#include "testdata.h"

#include "embeddedserver.h"

#include <QApplication>
#include <QFileInfo>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTest>

using namespace edgelens;

namespace {

// The largest model in the shared folder: its load is what a user waits for.
const QString kModel = QStringLiteral("yolox-nano-640");

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

    void stopWhileLoading_returnsWithoutWaiting_theLoadEndsWithoutListening_aNewStartWorks()
    {
        EmbeddedServer server;
        QSignalSpy started(&server, &EmbeddedServer::started);
        QSignalSpy failed(&server, &EmbeddedServer::failed);
        QSignalSpy abandoned(&server, &EmbeddedServer::abandonedStartEnded);
        // The server thread waits in loadBegan until this runs on the GUI thread: stop() is
        // called with the load held, and must return without it.
        int stoppedDuringLoad = 0;
        const QMetaObject::Connection hook = connect(
            &server, &EmbeddedServer::loadBegan, this,
            [&] {
                server.stop();
                ++stoppedDuringLoad;
                QCOMPARE(server.state(), EmbeddedServer::State::Stopped);
                QCOMPARE(server.port(), quint16(0));
            },
            Qt::BlockingQueuedConnection);
        // Several loads abandoned in a row.
        for (int i = 1; i <= 3; ++i) {
            server.start(kModel);
            QCOMPARE(server.state(), EmbeddedServer::State::Starting);
            QTRY_COMPARE_WITH_TIMEOUT(stoppedDuringLoad, i, 30000);
            QCOMPARE(server.state(), EmbeddedServer::State::Stopped);
        }
        disconnect(hook);
        // The retired servers finish their loads on their own threads meanwhile, and none listens.
        QTRY_COMPARE_WITH_TIMEOUT(abandoned.count(), 3, 120000);
        for (const QList<QVariant> &ended : std::as_const(abandoned))
            QCOMPARE(ended.first().toBool(), false);
        QTRY_COMPARE_WITH_TIMEOUT(server.retiredCount(), 0, 30000);
        // Abandoned starts report nothing else: the user stopped them.
        QCOMPARE(started.count(), 0);
        QCOMPARE(failed.count(), 0);

        // And the server still starts for real afterwards.
        server.start(kModel);
        QVERIFY(started.wait(60000) || started.count() == 1);
        QCOMPARE(server.state(), EmbeddedServer::State::Running);
        QVERIFY(server.port() > 0);
        QTcpSocket socket;
        socket.connectToHost(QStringLiteral("127.0.0.1"), server.port());
        QVERIFY2(socket.waitForConnected(5000), qPrintable(socket.errorString()));
        QCOMPARE(failed.count(), 0);
    }

    void restartWithAnotherModelWhileLoading_runsOnlyTheNewModel()
    {
        EmbeddedServer server;
        QSignalSpy started(&server, &EmbeddedServer::started);
        QSignalSpy abandoned(&server, &EmbeddedServer::abandonedStartEnded);
        bool restarted = false;
        const QMetaObject::Connection hook = connect(
            &server, &EmbeddedServer::loadBegan, this,
            [&] {
                if (restarted)
                    return;
                restarted = true;
                server.start(QStringLiteral("nanodet-m-320")); // retires the loading one
            },
            Qt::BlockingQueuedConnection);
        server.start(kModel);
        QVERIFY(started.wait(60000) || started.count() == 1);
        disconnect(hook);
        QVERIFY(restarted);
        QCOMPARE(server.requestedModel(), QStringLiteral("nanodet-m-320"));
        QTRY_COMPARE_WITH_TIMEOUT(abandoned.count(), 1, 60000);
        QCOMPARE(abandoned.first().first().toBool(), false); // the old one never listened
        QCOMPARE(started.count(), 1); // only the new one reports
        QVERIFY2(server.modelName().startsWith(QStringLiteral("nanodet-m-320")), qPrintable(server.modelName()));
    }

    void destroyWhileLoading_waitsForTheThreadWithoutCrashing()
    {
        // The app quitting mid-load: the destructor is the one place allowed to wait.
        auto *server = new EmbeddedServer;
        QSignalSpy loading(server, &EmbeddedServer::loadBegan);
        server->start(kModel);
        QVERIFY(loading.wait(30000) || loading.count() == 1);
        server->stop();
        server->start(kModel);
        // "QThread: Destroyed while thread is still running" would abort the suite here.
        delete server;
    }
};

QTEST_MAIN(TestEmbeddedServer)
#include "tst_embeddedserver.moc"
