// DetectionClient against the real in-process DetectionServer over loopback TCP.

#include "client/detectionclient.h"
#include "net/detectionserver.h"
#include "net/serverconfig.h"

#include "clientoutcomes.h"
#include "testdata.h"

#include <QDir>
#include <QImage>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

using namespace edgelens;
using edgelens::test::ClientOutcomes;
using edgelens::test::readSample;
using edgelens::test::samplesDir;

class TestClientServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void v2_soccer_findsPeople_inOriginalPixels();
    void legacy_getsTheMarkedUpJpeg_only();
    void auto_picksV2_withoutWaitingForTheProbe();
    void serverInfoAndPing_answer();
    void allSamples_fourInFlight_allSucceed();
    void serverStopsAndRestarts_everyRequestEndsOnce();

private:
    bool startServer(DetectionServer &server, quint16 port = 0);
    ServerConfig m_config;
};

void TestClientServer::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    EDGELENS_REQUIRE_SHARED(QStringLiteral("data/samples/soccer.jpg"));
    m_config = ServerConfig::embedded();
    m_config.modelPaths = {QStringLiteral("nanodet-m-320")};
    ServerConfig::applyLogLevel(QStringLiteral("warning"), nullptr);
}

void TestClientServer::init()
{
    DetectionClient::forgetDetectedProtocols();
}

bool TestClientServer::startServer(DetectionServer &server, quint16 port)
{
    ServerConfig config = m_config;
    config.port = port;
    QString error;
    if (!server.start(config, &error)) {
        qWarning() << "server did not start:" << error;
        return false;
    }
    return true;
}

void TestClientServer::v2_soccer_findsPeople_inOriginalPixels()
{
    DetectionServer server;
    QVERIFY(startServer(server));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    ClientOutcomes outcomes(client);
    const quint64 id = client.submit(readSample(QStringLiteral("soccer.jpg")));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 30000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    const ClientResult r = outcomes.results.value(id);
    QVERIFY(r.hasDetectionData);
    QCOMPARE(r.result.imageWidth, 600);
    QCOMPARE(r.result.imageHeight, 400);
    QCOMPARE(r.result.model, QStringLiteral("nanodet-m-320"));
    int people = 0;
    for (const Detection &d : r.result.detections) {
        if (d.label == QLatin1String("person"))
            ++people;
        QVERIFY(d.confidence >= 0.5f);
        QVERIFY(d.box.left() >= 0 && d.box.top() >= 0);
        QVERIFY(d.box.right() <= 600.5 && d.box.bottom() <= 400.5);
    }
    QVERIFY2(people >= 2, qPrintable(summarizeLabels(r.result.detections)));
    QCOMPARE(QImage::fromData(r.jpeg, "JPEG").size(), QSize(600, 400));
}

void TestClientServer::legacy_getsTheMarkedUpJpeg_only()
{
    DetectionServer server;
    QVERIFY(startServer(server));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::Legacy);
    ClientOutcomes outcomes(client);
    const QByteArray original = readSample(QStringLiteral("baggage_claim.jpg"));
    const quint64 id = client.submit(original);
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 30000);
    QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
    const ClientResult r = outcomes.results.value(id);
    QVERIFY(!r.hasDetectionData);
    const QImage marked = QImage::fromData(r.jpeg, "JPEG");
    const QImage source = QImage::fromData(original);
    QCOMPARE(marked.size(), source.size());
    QCOMPARE(QSize(r.result.imageWidth, r.result.imageHeight), source.size());
    QVERIFY(r.jpeg != original);
}

void TestClientServer::auto_picksV2_withoutWaitingForTheProbe()
{
    DetectionServer server;
    QVERIFY(startServer(server));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    QSignalSpy detected(&client, &DetectionClient::protocolDetected);
    QSignalSpy pong(&client, &DetectionClient::pongReceived);
    // A probe that would last past the test's wait: the answer can only come from the preamble.
    client.setProbeTimeout(120000);
    client.ping();
    QTRY_COMPARE_WITH_TIMEOUT(pong.size(), 1, 30000);
    QCOMPARE(detected.size(), 1);
    QCOMPARE(client.activeProtocol(), DetectionClient::Protocol::V2);
}

void TestClientServer::serverInfoAndPing_answer()
{
    DetectionServer server;
    QVERIFY(startServer(server));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    QSignalSpy info(&client, &DetectionClient::serverInfoReceived);
    client.requestServerInfo();
    QTRY_COMPARE_WITH_TIMEOUT(info.size(), 1, 5000);
    const QJsonObject object = info.first().at(1).toJsonObject();
    QCOMPARE(object, server.serverInfo());
    QVERIFY(QJsonDocument(object).toJson().contains("nanodet-m-320"));
}

void TestClientServer::allSamples_fourInFlight_allSucceed()
{
    DetectionServer server;
    QVERIFY(startServer(server));
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setMaxInFlight(4);
    ClientOutcomes outcomes(client);
    const QStringList names = QDir(samplesDir()).entryList({QStringLiteral("*.jpg")}, QDir::Files, QDir::Name);
    QCOMPARE(names.size(), 9);
    QHash<quint64, QSize> expected;
    for (const QString &name : names) {
        const QByteArray bytes = readSample(name);
        expected.insert(client.submit(bytes), QImage::fromData(bytes).size());
    }
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 9, 60000);
    QCOMPARE(outcomes.failures.size(), 0);
    for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
        const ClientResult r = outcomes.results.value(it.key());
        QCOMPARE(QSize(r.result.imageWidth, r.result.imageHeight), it.value());
    }
}

void TestClientServer::serverStopsAndRestarts_everyRequestEndsOnce()
{
    auto server = std::make_unique<DetectionServer>();
    QVERIFY(startServer(*server));
    const quint16 port = server->serverPort();
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), port);
    client.setProtocol(DetectionClient::Protocol::V2);
    client.setMaxInFlight(3);
    client.setMaxRetries(4);
    client.setRetryBackoff(100, 800);
    ClientOutcomes outcomes(client);
    const QStringList names = QDir(samplesDir()).entryList({QStringLiteral("*.jpg")}, QDir::Files, QDir::Name);
    QCOMPARE(names.size(), 9);
    QList<quint64> ids;
    for (const QString &name : names)
        ids.append(client.submit(readSample(name)));
    QTRY_VERIFY_WITH_TIMEOUT(outcomes.finished() >= 1, 30000);

    // Pull the plug with requests in flight, then come back on the same port.
    server->stop();
    server.reset();
    QTest::qWait(150);
    server = std::make_unique<DetectionServer>();
    QVERIFY(startServer(*server, port));

    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), int(ids.size()), 60000);
    QTRY_VERIFY_WITH_TIMEOUT(test::nothingInFlight(client), 10000); // no late answer can still come
    QCOMPARE(outcomes.duplicates, 0);
    for (quint64 id : std::as_const(ids))
        QVERIFY(outcomes.results.contains(id) || !outcomes.failures.value(id).isEmpty());
    // With a restart inside the retry budget every image gets through.
    QCOMPARE(outcomes.results.size(), ids.size());
    QCOMPARE(client.pendingCount(), 0);
}

QTEST_GUILESS_MAIN(TestClientServer)
#include "tst_clientserver.moc"
