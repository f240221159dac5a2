#include "client/detectionclient.h"

#include "clientoutcomes.h"
#include "legacytestserver.h"
#include "scriptedv2server.h"
#include "testimages.h"
#include "testnetwork.h"

#include <QImage>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using namespace edgelens;
using edgelens::test::ClientOutcomes;
using edgelens::test::LegacyTestServer;
using edgelens::test::ScriptedV2Server;

namespace {

// The colour follows the size, so two requests of different sizes never share bytes.
QByteArray makeImage(int width, int height, const char *format = "PNG")
{
    return test::solidImageBytes(width, height, QColor(width % 255, height % 255, 120), format);
}

} // namespace

class TestDetectionClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void legacy_returnsTheMarkedUpJpeg_withoutDetectionData();
    void legacy_severalConnectionsAtOnce_allAnswered();
    void auto_againstLegacyServer_fallsBackAfterTheProbe_andRemembers();
    void auto_againstV2Server_usesV2();
    void v2_repliesOutOfOrder_areMatchedById();
    void v2_optionsReachTheServer();
    void v2_droppedMidReply_isResentOnce_andNothingIsLost();
    void v2_alwaysDropped_failsWithReason_afterBoundedRetries();
    void v2_stalledReply_timesOut();
    void v2_serverError_failsThatRequestOnly();
    void v2_serverInfoAndPing_answer();
    void v2_busyServer_windowShrinks_andEverythingSucceeds();
    void v2_token_isSentAndAccepted();
    void v2_wrongToken_failsEverythingWithReason();
    void legacy_serverInfo_failsWithReason();
    void legacy_closedWithoutReply_failsWithReason();
    void connectionRefused_saysIsTheServerRunning();
    void cancelAll_silencesPendingRequests();
    void describeSocketError_namesHostAndPort();
};

void TestDetectionClient::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestDetectionClient::init()
{
    DetectionClient::forgetDetectedProtocols();
}

void TestDetectionClient::legacy_returnsTheMarkedUpJpeg_withoutDetectionData()
{
    LegacyTestServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::Legacy);
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(makeImage(120, 80));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    const ClientResult r = outcomes.results.value(id);
    QVERIFY(!r.hasDetectionData);
    QVERIFY(r.legacy);
    QCOMPARE(r.result.imageWidth, 120);
    QCOMPARE(r.result.imageHeight, 80);
    const QImage reply = QImage::fromData(r.jpeg, "JPEG");
    QCOMPARE(reply.size(), QSize(120, 80));
    QVERIFY(r.roundTripMs > 0);
    QCOMPARE(server.connections, 1);
}

void TestDetectionClient::legacy_severalConnectionsAtOnce_allAnswered()
{
    LegacyTestServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::Legacy);
    client.setMaxInFlight(3);
    ClientOutcomes outcomes(client);
    QHash<quint64, QSize> sizes;
    for (int i = 0; i < 8; ++i)
        sizes.insert(client.submit(makeImage(40 + i, 30 + i, "JPEG")), QSize(40 + i, 30 + i));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 8, 10000);
    QCOMPARE(outcomes.failures.size(), 0);
    QCOMPARE(outcomes.duplicates, 0);
    for (auto it = sizes.cbegin(); it != sizes.cend(); ++it)
        QCOMPARE(QSize(outcomes.results.value(it.key()).result.imageWidth,
                       outcomes.results.value(it.key()).result.imageHeight),
                 it.value());
    QCOMPARE(server.connections, 8);
}

void TestDetectionClient::auto_againstLegacyServer_fallsBackAfterTheProbe_andRemembers()
{
    LegacyTestServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    QSignalSpy detected(&client, &DetectionClient::protocolDetected);
    ClientOutcomes outcomes(client);
    // The connect and reply deadline lies past the test's wait: only the probe (1 s of silence)
    // can have chosen legacy.
    client.setTimeout(600000);
    const quint64 id = client.submit(makeImage(64, 48));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 60000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    QCOMPARE(detected.size(), 1);
    QCOMPARE(detected.first().first().value<DetectionClient::Protocol>(), DetectionClient::Protocol::Legacy);
    QCOMPARE(client.activeProtocol(), DetectionClient::Protocol::Legacy);
    QVERIFY(!outcomes.results.value(id).hasDetectionData);

    // A second client for the same host:port goes straight to legacy: no probe connection.
    const int connectionsBefore = server.connections;
    DetectionClient second;
    second.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    QCOMPARE(second.activeProtocol(), DetectionClient::Protocol::Legacy);
    ClientOutcomes secondOutcomes(second);
    second.setProbeTimeout(600000); // would it probe, the result could not come in time
    second.submit(makeImage(32, 32));
    QTRY_COMPARE_WITH_TIMEOUT(secondOutcomes.results.size(), 1, 30000);
    QCOMPARE(server.connections, connectionsBefore + 1);
}

void TestDetectionClient::auto_againstV2Server_usesV2()
{
    ScriptedV2Server server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    QSignalSpy detected(&client, &DetectionClient::protocolDetected);
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(makeImage(50, 40));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    QVERIFY(outcomes.results.value(id).hasDetectionData);
    QCOMPARE(outcomes.results.value(id).result.detections.size(), 1);
    QCOMPARE(detected.size(), 1);
    QCOMPARE(client.activeProtocol(), DetectionClient::Protocol::V2);
    QCOMPARE(client.connectionState(), DetectionClient::ConnectionState::Connected);
}

void TestDetectionClient::v2_repliesOutOfOrder_areMatchedById()
{
    ScriptedV2Server server;
    server.behaviour = ScriptedV2Server::Behaviour::AnswerInReverse;
    server.holdCount = 4;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    client.setMaxInFlight(4);
    ClientOutcomes outcomes(client);
    QHash<quint64, QByteArray> images;
    for (int i = 0; i < 8; ++i) {
        const QByteArray image = makeImage(30 + 7 * i, 20 + 3 * i);
        images.insert(client.submit(image), image);
    }
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 8, 10000);
    QCOMPARE(outcomes.failures.size(), 0);
    for (auto it = images.cbegin(); it != images.cend(); ++it) {
        const ClientResult r = outcomes.results.value(it.key());
        // The scripted server reports the byte count of the image it answered for.
        QCOMPARE(r.result.model, QString::number(it.value().size()));
        QCOMPARE(r.result.imageWidth, QImage::fromData(it.value()).width());
    }
    QCOMPARE(server.connections, 1);
}

void TestDetectionClient::v2_optionsReachTheServer()
{
    ScriptedV2Server server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    ClientOutcomes outcomes(client);
    DetectOptions options;
    options.confidence = 0.25f;
    options.model = QStringLiteral("yolox-nano-640");
    options.classFilter = {0, 2};
    client.submit(makeImage(10, 10), options);
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QCOMPARE(server.receivedOptions.size(), 1);
    const DetectOptions received = detectOptionsFromJson(server.receivedOptions.first());
    QCOMPARE(received.confidence, 0.25f);
    QCOMPARE(received.model, QStringLiteral("yolox-nano-640"));
    QCOMPARE(received.classFilter, (QSet<int>{0, 2}));
}

void TestDetectionClient::v2_droppedMidReply_isResentOnce_andNothingIsLost()
{
    ScriptedV2Server server;
    server.behaviour = ScriptedV2Server::Behaviour::DropMidReply;
    server.dropsLeft = 1;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    client.setMaxInFlight(3);
    client.setRetryBackoff(50, 200);
    ClientOutcomes outcomes(client);
    QSignalSpy retrying(&client, &DetectionClient::requestRetrying);
    QList<quint64> ids;
    for (int i = 0; i < 5; ++i)
        ids.append(client.submit(makeImage(20 + i, 20)));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 5, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(test::nothingInFlight(client), 10000); // no late answer can still come
    QCOMPARE(outcomes.duplicates, 0);
    QCOMPARE(outcomes.failures.size(), 0);
    for (quint64 id : std::as_const(ids))
        QVERIFY(outcomes.results.contains(id));
    QVERIFY(server.connections >= 2);
    QVERIFY(retrying.size() >= 1);
    QVERIFY(outcomes.results.value(ids.first()).attempts >= 2);
    QCOMPARE(client.pendingCount(), 0);
}

void TestDetectionClient::v2_alwaysDropped_failsWithReason_afterBoundedRetries()
{
    ScriptedV2Server server;
    server.behaviour = ScriptedV2Server::Behaviour::DropMidReply;
    server.dropsLeft = 1000;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    client.setMaxRetries(2);
    client.setMaxInFlight(1);
    client.setRetryBackoff(20, 100);
    ClientOutcomes outcomes(client);
    const quint64 a = client.submit(makeImage(20, 20));
    const quint64 b = client.submit(makeImage(21, 20));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 2, 10000);
    QCOMPARE(outcomes.duplicates, 0);
    QVERIFY(outcomes.failures.contains(a));
    QVERIFY(outcomes.failures.contains(b));
    QVERIFY2(outcomes.failures.value(a).contains(QStringLiteral("closed the connection")),
             qPrintable(outcomes.failures.value(a)));
    QVERIFY(outcomes.failureRetryable.value(a));
    // Each request is sent at most 1 + maxRetries times.
    QVERIFY2(server.detectRequests <= 6, qPrintable(QString::number(server.detectRequests)));
    QCOMPARE(client.pendingCount(), 0);
}

void TestDetectionClient::v2_stalledReply_timesOut()
{
    ScriptedV2Server server;
    server.behaviour = ScriptedV2Server::Behaviour::NeverAnswer;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    client.setTimeout(400);
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(makeImage(20, 20));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QVERIFY(outcomes.failures.value(id).contains(QStringLiteral("No answer")));
    QVERIFY(outcomes.failureRetryable.value(id));
    QCOMPARE(server.detectRequests, 1); // not re-sent: the server may still be working on it
}

void TestDetectionClient::v2_serverError_failsThatRequestOnly()
{
    ScriptedV2Server server;
    server.behaviour = ScriptedV2Server::Behaviour::ErrorUndecodable;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    ClientOutcomes outcomes(client);
    const quint64 bad = client.submit(QByteArray("not an image"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QVERIFY2(outcomes.failures.value(bad).contains(QStringLiteral("undecodable_image")),
             qPrintable(outcomes.failures.value(bad)));
    QVERIFY(!outcomes.failureRetryable.value(bad));

    server.behaviour = ScriptedV2Server::Behaviour::Answer;
    const quint64 good = client.submit(makeImage(20, 20));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 2, 5000);
    QVERIFY(outcomes.results.contains(good));
    QCOMPARE(server.connections, 1);
}

void TestDetectionClient::v2_serverInfoAndPing_answer()
{
    ScriptedV2Server server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    QSignalSpy info(&client, &DetectionClient::serverInfoReceived);
    QSignalSpy pong(&client, &DetectionClient::pongReceived);
    const quint64 infoId = client.requestServerInfo();
    const quint64 pingId = client.ping();
    QTRY_COMPARE_WITH_TIMEOUT(info.size(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(pong.size(), 1, 5000);
    QCOMPARE(info.first().at(0).toULongLong(), infoId);
    QCOMPARE(info.first().at(1).toJsonObject().value(QStringLiteral("software")).toString(),
             QStringLiteral("scripted-test-server"));
    QCOMPARE(pong.first().at(0).toULongLong(), pingId);
    QVERIFY(pong.first().at(1).toDouble() >= 0);
}

void TestDetectionClient::v2_busyServer_windowShrinks_andEverythingSucceeds()
{
    ScriptedV2Server server;
    server.behaviour = ScriptedV2Server::Behaviour::LimitInFlight;
    server.inFlightLimit = 2;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    client.setMaxInFlight(6);
    client.setRetryBackoff(20, 100);
    ClientOutcomes outcomes(client);
    for (int i = 0; i < 12; ++i)
        client.submit(makeImage(20 + i, 20));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 12, 10000);
    QCOMPARE(outcomes.failures.size(), 0);
    QCOMPARE(outcomes.duplicates, 0);
    QVERIFY(server.busyAnswers >= 1);
    // Once it learned the limit the client stopped overrunning it.
    QVERIFY2(server.busyAnswers <= 4, qPrintable(QString::number(server.busyAnswers)));
}

void TestDetectionClient::v2_token_isSentAndAccepted()
{
    ScriptedV2Server server;
    server.requiredToken = QStringLiteral("s3cret");
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setToken(QStringLiteral("s3cret"));
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(makeImage(20, 20));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
}

void TestDetectionClient::v2_wrongToken_failsEverythingWithReason()
{
    ScriptedV2Server server;
    server.requiredToken = QStringLiteral("s3cret");
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    client.setToken(QStringLiteral("wrong"));
    ClientOutcomes outcomes(client);
    client.submit(makeImage(20, 20));
    client.submit(makeImage(21, 20));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 2, 5000);
    QCOMPARE(outcomes.failures.size(), 2);
    for (const QString &reason : std::as_const(outcomes.failures))
        QVERIFY2(reason.contains(QStringLiteral("unauthorized")), qPrintable(reason));
    QCOMPARE(server.detectRequests, 0);
}

void TestDetectionClient::legacy_serverInfo_failsWithReason()
{
    LegacyTestServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    ClientOutcomes outcomes(client);
    const quint64 id = client.requestServerInfo();
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QVERIFY2(outcomes.failures.value(id).contains(QStringLiteral("legacy")), qPrintable(outcomes.failures.value(id)));
}

void TestDetectionClient::legacy_closedWithoutReply_failsWithReason()
{
    LegacyTestServer server;
    server.closeWithoutReply = true;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::Legacy);
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(QByteArray("garbage"));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QVERIFY2(outcomes.failures.value(id).contains(QStringLiteral("without a reply")),
             qPrintable(outcomes.failures.value(id)));
    QCOMPARE(server.connections, 1); // not re-sent
}

void TestDetectionClient::connectionRefused_saysIsTheServerRunning()
{
    const quint16 port = test::unusedLoopbackPort();
    for (auto protocol : {DetectionClient::Protocol::Auto, DetectionClient::Protocol::Legacy}) {
        DetectionClient client;
        client.setTarget(QStringLiteral("127.0.0.1"), port);
        client.setProtocol(protocol);
        client.setMaxRetries(1);
        client.setRetryBackoff(20, 50);
        ClientOutcomes outcomes(client);
        const quint64 a = client.submit(makeImage(20, 20));
        const quint64 b = client.submit(makeImage(20, 21));
        QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 2, 5000);
        const QString expected =
            QStringLiteral("Connection refused: is the server running on 127.0.0.1:%1?").arg(port);
        QCOMPARE(outcomes.failures.value(a), expected);
        QCOMPARE(outcomes.failures.value(b), expected);
        QCOMPARE(outcomes.duplicates, 0);
        QCOMPARE(client.pendingCount(), 0);
        // Refused is not "legacy": nothing was learned about the protocol.
        QCOMPARE(DetectionClient(nullptr).activeProtocol(), DetectionClient::Protocol::Auto);
    }
}

void TestDetectionClient::cancelAll_silencesPendingRequests()
{
    ScriptedV2Server server;
    server.behaviour = ScriptedV2Server::Behaviour::AnswerInReverse;
    server.holdCount = 2;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setMaxInFlight(1);
    ClientOutcomes outcomes(client);
    QList<quint64> ids{client.submit(makeImage(20, 20)), client.submit(makeImage(21, 20)), client.submit(makeImage(22, 20))};
    QTRY_COMPARE_WITH_TIMEOUT(server.detectRequests, 1, 5000);
    QList<quint64> cancelled = client.cancelAll();
    QCOMPARE(cancelled, ids);
    QCOMPARE(client.pendingCount(), 0);
    // A new request is answered (together with the held, cancelled one) and only it is reported.
    const quint64 fresh = client.submit(makeImage(23, 20));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 5000);
    QTest::qWait(100);
    QCOMPARE(outcomes.finished(), 1);
    QVERIFY(outcomes.results.contains(fresh));
}

void TestDetectionClient::describeSocketError_namesHostAndPort()
{
    QCOMPARE(DetectionClient::describeSocketError(QAbstractSocket::ConnectionRefusedError, QStringLiteral("pi.local"), 6000),
             QStringLiteral("Connection refused: is the server running on pi.local:6000?"));
    QVERIFY(DetectionClient::describeSocketError(QAbstractSocket::HostNotFoundError, QStringLiteral("nohost"), 6000)
                .contains(QStringLiteral("nohost")));
    QVERIFY(DetectionClient::describeSocketError(QAbstractSocket::RemoteHostClosedError, QStringLiteral("h"), 1)
                .contains(QStringLiteral("h:1")));
}

QTEST_GUILESS_MAIN(TestDetectionClient)
#include "tst_detectionclient.moc"
