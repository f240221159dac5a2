// DetectionClient with several devices: balancing, failover, exactly-once, protocol detection
// and flow control under a busy pool. Loopback scripted servers only.

#include "client/balancingpolicy.h"
#include "client/detectionclient.h"
#include "client/devicechannel.h"
#include "client/poolmodels.h"

#include "clientoutcomes.h"
#include "fakedetectionserver.h"
#include "legacytestserver.h"
#include "scriptedv2server.h"
#include "testimages.h"
#include "testnetwork.h"

#include <QJsonArray>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

#include <algorithm>

using namespace edgelens;
using edgelens::test::ClientOutcomes;
using edgelens::test::nothingInFlight;
using edgelens::test::LegacyTestServer;
using edgelens::test::ScriptedV2Server;

namespace {

QByteArray makeImage(int index)
{
    return test::solidImageBytes(16 + index % 200, 16 + index / 200, QColor(index % 255, 80, 120), "PNG");
}

DeviceSpec device(quint16 port, DeviceSpec::Protocol protocol = DeviceSpec::Protocol::V2)
{
    DeviceSpec spec;
    spec.host = QStringLiteral("127.0.0.1");
    spec.port = port;
    spec.protocol = protocol;
    return spec;
}

QString name(quint16 port)
{
    return QStringLiteral("127.0.0.1:%1").arg(port);
}

// Since states[from], device `index` was connected to (Connecting) and failed (Down) `times` times.
bool probedAndFailedSince(const QSignalSpy &states, int index, qsizetype from, int times = 1)
{
    bool connecting = false;
    int failed = 0;
    for (qsizetype i = from; i < states.size(); ++i) {
        if (states.at(i).at(0).toInt() != index)
            continue;
        const DeviceStatus::State state = states.at(i).at(1).value<DeviceStatus>().state;
        if (state == DeviceStatus::State::Connecting) {
            connecting = true;
        } else if (state == DeviceStatus::State::Down && connecting) {
            connecting = false;
            ++failed;
        }
    }
    return failed >= times;
}

int doneBy(const ClientOutcomes &outcomes, quint16 port)
{
    int count = 0;
    for (const ClientResult &result : outcomes.results)
        count += result.device == name(port) ? 1 : 0;
    return count;
}

} // namespace

class TestDevicePool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();

    void deviceSpec_parsesHostsPortsAndIpv6();
    void twoDevices_shareTheWork_andEachResultNamesItsDevice();
    void balancingPolicy_picksTheEarliestFinish_fasterDeviceGetsMoreOfTheWork();
    void deviceGoesAway_inFlightGoesElsewhere_rejoinsWhenBack();
    void lateReplyFromAGivenUpDevice_isNeverReported();
    void allDevicesDown_queueHolds_andResumesWhenOneReturns();
    void allDevicesDownBeyondRetries_failWithEveryReason();
    void closeBeforePreamble_isNotRememberedAsLegacy();
    void busyWindow_shrinks_andGrowsBack();
    void mixedPool_v2AndLegacyDevices_bothServe();
    void disabledDevice_isNeverUsed();
    void serverInfo_askedOfEachDevice_answersNameTheirDevice();
    void poolModels_reduceForTheLargestInput_notesPerDevice_sayWhenModelsDiffer();
};

void TestDevicePool::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
}

void TestDevicePool::init()
{
    DetectionClient::forgetDetectedProtocols();
}

void TestDevicePool::deviceSpec_parsesHostsPortsAndIpv6()
{
    auto parse = [](const QString &text) { return DeviceSpec::parse(text, 6000); };
    QCOMPARE(parse(QStringLiteral("pi.local"))->name(), QStringLiteral("pi.local:6000"));
    QCOMPARE(parse(QStringLiteral("10.0.0.5:7001"))->port, quint16(7001));
    QCOMPARE(parse(QStringLiteral("[::1]:7002"))->host, QStringLiteral("::1"));
    QCOMPARE(parse(QStringLiteral("[::1]:7002"))->port, quint16(7002));
    QCOMPARE(parse(QStringLiteral("[fe80::1]"))->port, quint16(6000));
    QCOMPARE(parse(QStringLiteral("::1"))->name(), QStringLiteral("[::1]:6000"));
    QString error;
    QVERIFY(!DeviceSpec::parse(QStringLiteral("host:0"), 6000, &error));
    QVERIFY2(error.contains(QStringLiteral("1..65535")), qPrintable(error));
    QVERIFY(!DeviceSpec::parse(QStringLiteral("host:99999"), 6000));
    QVERIFY(!DeviceSpec::parse(QStringLiteral("[::1"), 6000));
    QVERIFY(!DeviceSpec::parse(QStringLiteral("[nothex]:1"), 6000));
    QVERIFY(!DeviceSpec::parse(QStringLiteral(""), 6000));
}

void TestDevicePool::twoDevices_shareTheWork_andEachResultNamesItsDevice()
{
    ScriptedV2Server a;
    ScriptedV2Server b;
    a.answerDelayMs = b.answerDelayMs = 10;
    QVERIFY(a.listenOnLoopback());
    QVERIFY(b.listenOnLoopback());
    DetectionClient client;
    client.setDevices({device(a.serverPort()), device(b.serverPort())});
    client.setMaxInFlight(2);
    ClientOutcomes outcomes(client);
    for (int i = 0; i < 30; ++i)
        client.submit(makeImage(i));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 30, 20000);
    QCOMPARE(outcomes.failures.size(), 0);
    QCOMPARE(outcomes.duplicates, 0);
    QVERIFY2(doneBy(outcomes, a.serverPort()) >= 5, qPrintable(QString::number(doneBy(outcomes, a.serverPort()))));
    QVERIFY2(doneBy(outcomes, b.serverPort()) >= 5, qPrintable(QString::number(doneBy(outcomes, b.serverPort()))));
    QCOMPARE(doneBy(outcomes, a.serverPort()) + doneBy(outcomes, b.serverPort()), 30);
    QCOMPARE(a.detectRequests + b.detectRequests, 30);
    const QList<DeviceStatus> statuses = client.deviceStatuses();
    QCOMPARE(statuses.size(), 2);
    QCOMPARE(statuses.at(0).done, doneBy(outcomes, a.serverPort()));
    QCOMPARE(statuses.at(0).state, DeviceStatus::State::Up);
    QVERIFY(statuses.at(0).imagesPerSecond > 0);
}

// Which device is faster is measured by the channels (costMs); what the pool does with the
// figures is the policy's, checked here without depending on this machine's speed (the
// images/s a pool reaches are edgelens-bench --pool's).
void TestDevicePool::balancingPolicy_picksTheEarliestFinish_fasterDeviceGetsMoreOfTheWork()
{
    using C = BalancingPolicy::Candidate;
    QCOMPARE(BalancingPolicy::pick({}), -1);
    QCOMPARE(BalancingPolicy::pick({C{0, 80}, C{0, 10}}), 1);  // idle: the faster
    QCOMPARE(BalancingPolicy::pick({C{0, 80}, C{6, 10}}), 1);  // 7 x 10 ms still ends before 80 ms
    QCOMPARE(BalancingPolicy::pick({C{0, 80}, C{8, 10}}), 0);  // 9 x 10 ms does not
    QCOMPARE(BalancingPolicy::pick({C{1, 10}, C{0, 20}}), 1);  // a tie (20 ms) goes to fewer in flight
    QCOMPARE(BalancingPolicy::pick({C{1, 10}, C{1, 10}}), 0);  // then to the earlier one
    QCOMPARE(BalancingPolicy::pick({C{2, 10}, C{0, 0}}), 1);   // not measured yet: as fast as the fastest
    // A stream of requests, each device finishing its oldest as the next arrives in turn: the
    // 8x faster device gets more than twice the work.
    QList<C> devices = {C{0, 80}, C{0, 10}};
    int taken[2] = {0, 0};
    double busyUntil[2] = {0, 0};
    for (int request = 0; request < 90; ++request) {
        const double now = request * 10.0;
        for (int d = 0; d < 2; ++d) {
            while (devices[d].inFlight > 0 && busyUntil[d] - (devices[d].inFlight - 1) * devices[d].costMs <= now)
                --devices[d].inFlight;
        }
        const int d = BalancingPolicy::pick(devices);
        QVERIFY(d >= 0);
        busyUntil[d] = std::max(busyUntil[d], now) + devices[d].costMs;
        ++devices[d].inFlight;
        ++taken[d];
    }
    QVERIFY2(taken[1] > 2 * taken[0], qPrintable(QStringLiteral("fast %1, slow %2").arg(taken[1]).arg(taken[0])));
}

void TestDevicePool::deviceGoesAway_inFlightGoesElsewhere_rejoinsWhenBack()
{
    auto a = std::make_unique<ScriptedV2Server>();
    ScriptedV2Server b;
    a->answerDelayMs = b.answerDelayMs = 15;
    QVERIFY(a->listenOnLoopback());
    QVERIFY(b.listenOnLoopback());
    const quint16 portA = a->serverPort();
    DetectionClient client;
    client.setDevices({device(portA), device(b.serverPort())});
    client.setMaxInFlight(3);
    client.setRetryBackoff(50, 200);
    ClientOutcomes outcomes(client);
    QSignalSpy states(&client, &DetectionClient::deviceStatusChanged);
    for (int i = 0; i < 150; ++i)
        client.submit(makeImage(i));
    QTRY_VERIFY_WITH_TIMEOUT(doneBy(outcomes, portA) >= 10, 10000);

    // The device goes away with requests in flight: they go to the other one at once.
    a.reset();
    QTRY_COMPARE_WITH_TIMEOUT(client.deviceStatuses().at(0).state, DeviceStatus::State::Down, 5000);
    const int doneBeforeRestart = doneBy(outcomes, portA);
    // Probed again while it is away, and the probe failed: it stays down until it is back.
    const qsizetype seenBefore = states.size();
    QTRY_VERIFY_WITH_TIMEOUT(probedAndFailedSince(states, 0, seenBefore), 10000);
    a = std::make_unique<ScriptedV2Server>();
    a->answerDelayMs = 15;
    QVERIFY(a->listen(QHostAddress::LocalHost, portA));

    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 150, 30000);
    // Nothing is in flight any more, so no late answer can still come and be reported twice.
    QTRY_VERIFY_WITH_TIMEOUT(nothingInFlight(client), 10000);
    QCOMPARE(outcomes.duplicates, 0);
    QCOMPARE(outcomes.failures.size(), 0);
    QVERIFY2(doneBy(outcomes, portA) > doneBeforeRestart,
             qPrintable(QStringLiteral("%1 before, %2 after").arg(doneBeforeRestart).arg(doneBy(outcomes, portA))));
    const DeviceStatus statusA = client.deviceStatuses().at(0);
    QCOMPARE(statusA.timesDown, 1);
    QCOMPARE(statusA.state, DeviceStatus::State::Up);
    bool sawDown = false;
    for (const QList<QVariant> &args : std::as_const(states))
        sawDown = sawDown || (args.at(0).toInt() == 0 && args.at(1).value<DeviceStatus>().state == DeviceStatus::State::Down);
    QVERIFY(sawDown);
    QCOMPARE(client.pendingCount(), 0);
}

void TestDevicePool::lateReplyFromAGivenUpDevice_isNeverReported()
{
    ScriptedV2Server slow;
    ScriptedV2Server fast;
    slow.answerDelayMs = 700; // answers, but long after the client's timeout
    QVERIFY(slow.listenOnLoopback());
    QVERIFY(fast.listenOnLoopback());
    DetectionClient client;
    client.setDevices({device(slow.serverPort()), device(fast.serverPort())});
    client.setMaxInFlight(2);
    client.setTimeout(250);
    client.setRetryBackoff(2000, 2000); // the slow one stays out for the rest of the test
    ClientOutcomes outcomes(client);
    QList<quint64> ids;
    for (int i = 0; i < 8; ++i)
        ids.append(client.submit(makeImage(i)));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 8, 10000);
    // The slow device has answered (or dropped) everything it was sent: no answer of its is to come.
    QTRY_COMPARE_WITH_TIMEOUT(slow.delayedDone, slow.detectRequests, 20000);
    QTRY_VERIFY_WITH_TIMEOUT(nothingInFlight(client), 10000);
    QCOMPARE(outcomes.duplicates, 0);
    QCOMPARE(outcomes.failures.size(), 0);
    for (quint64 id : std::as_const(ids))
        QCOMPARE(outcomes.results.value(id).device, name(fast.serverPort()));
    QVERIFY(slow.detectRequests >= 1);
    QVERIFY(client.deviceStatuses().at(0).timesDown >= 1);
}

void TestDevicePool::allDevicesDown_queueHolds_andResumesWhenOneReturns()
{
    const quint16 port = test::unusedLoopbackPort();
    DetectionClient client;
    client.setDevices({device(port)});
    client.setMaxRetries(8);
    client.setRetryBackoff(50, 150);
    ClientOutcomes outcomes(client);
    QSignalSpy states(&client, &DetectionClient::deviceStatusChanged);
    for (int i = 0; i < 5; ++i)
        client.submit(makeImage(i));
    QTRY_COMPARE_WITH_TIMEOUT(client.connectionState(), DetectionClient::ConnectionState::Reconnecting, 5000);
    // Probed again after the backoff, and still down: the images wait, nothing fails.
    QTRY_VERIFY_WITH_TIMEOUT(probedAndFailedSince(states, 0, 0, 2) && client.deviceStatuses().at(0).state == DeviceStatus::State::Down,
                             10000);
    QCOMPARE(outcomes.finished(), 0);
    QCOMPARE(client.pendingCount(), 5);

    ScriptedV2Server server;
    QVERIFY(server.listen(QHostAddress::LocalHost, port));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 5, 10000);
    QCOMPARE(outcomes.results.size(), 5);
    QCOMPARE(client.connectionState(), DetectionClient::ConnectionState::Connected);
}

void TestDevicePool::allDevicesDownBeyondRetries_failWithEveryReason()
{
    const quint16 p1 = test::unusedLoopbackPort();
    ScriptedV2Server holder; // keeps the second port from being handed out again
    QVERIFY(holder.listenOnLoopback());
    const quint16 p2 = holder.serverPort();
    holder.close();
    DetectionClient client;
    client.setDevices({device(p1), device(p2)});
    client.setMaxRetries(1);
    client.setRetryBackoff(20, 50);
    ClientOutcomes outcomes(client);
    const quint64 a = client.submit(makeImage(1));
    const quint64 b = client.submit(makeImage(2));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 2, 5000);
    const QString reason = outcomes.failures.value(a);
    QVERIFY2(reason.contains(name(p1)) && reason.contains(name(p2)), qPrintable(reason));
    QVERIFY2(reason.contains(QStringLiteral("Connection refused")), qPrintable(reason));
    QCOMPARE(outcomes.failures.value(b), reason);
    QVERIFY(outcomes.failureRetryable.value(a));
    QCOMPARE(client.pendingCount(), 0);
}

void TestDevicePool::closeBeforePreamble_isNotRememberedAsLegacy()
{
    // A v2 server that is draining or full closes before its preamble, once or several times.
    for (int closes : {1, 3}) {
        DetectionClient::forgetDetectedProtocols();
        ScriptedV2Server server;
        server.closeBeforePreamble = closes;
        QVERIFY(server.listenOnLoopback());
        DetectionClient client;
        client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
        client.setRetryBackoff(20, 50);
        client.setProbeTimeout(300);
        ClientOutcomes outcomes(client);
        const quint64 id = client.submit(makeImage(closes));
        QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 1, 10000);
        QVERIFY2(outcomes.results.contains(id), qPrintable(outcomes.failures.value(id)));
        QVERIFY(outcomes.results.value(id).hasDetectionData);
        QCOMPARE(client.activeProtocol(), DetectionClient::Protocol::V2);
        QCOMPARE(DeviceChannel::knownProtocol(DeviceSpec::parse(name(server.serverPort()), 0)->key()),
                 DeviceSpec::Protocol::V2);
    }
}

void TestDevicePool::busyWindow_shrinks_andGrowsBack()
{
    ScriptedV2Server server;
    server.behaviour = ScriptedV2Server::Behaviour::LimitInFlight;
    server.inFlightLimit = 2;
    QVERIFY(server.listenOnLoopback());
    DetectionClient client;
    client.setTarget(QStringLiteral("127.0.0.1"), server.serverPort());
    client.setProtocol(DetectionClient::Protocol::V2);
    client.setMaxInFlight(6);
    client.setRetryBackoff(20, 100);
    ClientOutcomes outcomes(client);
    for (int i = 0; i < 12; ++i)
        client.submit(makeImage(i));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 12, 10000);
    QCOMPARE(outcomes.failures.size(), 0);
    QVERIFY(server.busyAnswers >= 1);
    QCOMPARE(server.maxHeld, 2);

    // The device can take more now (its load went away): the window opens up again.
    server.inFlightLimit = 6;
    server.maxHeld = 0;
    const int busyBefore = server.busyAnswers;
    for (int i = 0; i < 160; ++i)
        client.submit(makeImage(100 + i));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 172, 30000);
    QCOMPARE(outcomes.failures.size(), 0);
    QCOMPARE(outcomes.duplicates, 0);
    QCOMPARE(server.busyAnswers, busyBefore);
    QVERIFY2(server.maxHeld >= 5, qPrintable(QString::number(server.maxHeld)));
}

void TestDevicePool::mixedPool_v2AndLegacyDevices_bothServe()
{
    ScriptedV2Server v2;
    v2.answerDelayMs = 20;
    LegacyTestServer legacy;
    QVERIFY(v2.listenOnLoopback());
    QVERIFY(legacy.listen(QHostAddress::LocalHost, 0));
    DetectionClient client;
    client.setDevices({device(v2.serverPort(), DeviceSpec::Protocol::Auto),
                       device(legacy.serverPort(), DeviceSpec::Protocol::Auto)});
    client.setProbeTimeout(300);
    client.setMaxInFlight(2);
    ClientOutcomes outcomes(client);
    for (int i = 0; i < 40; ++i)
        client.submit(makeImage(i));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 40, 20000);
    QCOMPARE(outcomes.failures.size(), 0);
    QCOMPARE(outcomes.duplicates, 0);
    int withData = 0;
    int legacyOnly = 0;
    for (const ClientResult &result : std::as_const(outcomes.results)) {
        if (result.device == name(v2.serverPort()) && result.hasDetectionData)
            ++withData;
        if (result.device == name(legacy.serverPort()) && result.legacy)
            ++legacyOnly;
    }
    QCOMPARE(withData + legacyOnly, 40);
    QVERIFY(withData > 0);
    QVERIFY(legacyOnly > 0);
    QCOMPARE(client.deviceStatuses().at(0).protocol, DeviceSpec::Protocol::V2);
    QCOMPARE(client.deviceStatuses().at(1).protocol, DeviceSpec::Protocol::Legacy);
}

void TestDevicePool::disabledDevice_isNeverUsed()
{
    ScriptedV2Server used;
    ScriptedV2Server unused;
    QVERIFY(used.listenOnLoopback());
    QVERIFY(unused.listenOnLoopback());
    DeviceSpec off = device(unused.serverPort());
    off.enabled = false;
    DetectionClient client;
    client.setDevices({off, device(used.serverPort())});
    ClientOutcomes outcomes(client);
    for (int i = 0; i < 6; ++i)
        client.submit(makeImage(i));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 6, 10000);
    QCOMPARE(outcomes.results.size(), 6);
    QCOMPARE(unused.connections, 0);
    QCOMPARE(client.deviceStatuses().at(0).state, DeviceStatus::State::Disabled);
}

namespace {

// A server-info as edgelens-server sends it, with one (default) model.
QJsonObject serverInfo(const QString &model, int input, const QString &family = QStringLiteral("nanodet"))
{
    QJsonObject m{{QStringLiteral("name"), model},           {QStringLiteral("default"), true},
                  {QStringLiteral("input_width"), input},    {QStringLiteral("input_height"), input},
                  {QStringLiteral("family"), family}};
    return QJsonObject{{QStringLiteral("server"), QStringLiteral("edgelens-server")},
                       {QStringLiteral("models"), QJsonArray{m}}};
}

} // namespace

void TestDevicePool::serverInfo_askedOfEachDevice_answersNameTheirDevice()
{
    test::FakeDetectionServer a(test::FakeDetectionServer::Mode::V2);
    test::FakeDetectionServer b(test::FakeDetectionServer::Mode::V2);
    test::FakeDetectionServer unused(test::FakeDetectionServer::Mode::V2);
    a.setInfo(serverInfo(QStringLiteral("nanodet-m-320"), 320));
    b.setInfo(serverInfo(QStringLiteral("yolox-nano-640"), 640));
    QVERIFY(a.listenOnLoopback());
    QVERIFY(b.listenOnLoopback());
    QVERIFY(unused.listenOnLoopback());
    DeviceSpec local = device(b.serverPort());
    local.label = DeviceSpec::embeddedLabel(); // as the app and CLI name their embedded server
    DeviceSpec off = device(unused.serverPort());
    off.enabled = false;
    DetectionClient client;
    client.setDevices({device(a.serverPort()), local, off});
    QSignalSpy infos(&client, &DetectionClient::serverInfoReceived);
    QSignalSpy failures(&client, &DetectionClient::requestFailed);
    // Several times each: whichever device is up first must not answer for the others.
    QHash<quint64, QString> asked;
    for (int round = 0; round < 3; ++round) {
        asked.insert(client.requestServerInfo(name(a.serverPort())), name(a.serverPort()));
        asked.insert(client.requestServerInfo(DeviceSpec::embeddedLabel()), DeviceSpec::embeddedLabel());
    }
    const quint64 disabled = client.requestServerInfo(name(unused.serverPort()));
    const quint64 stranger = client.requestServerInfo(QStringLiteral("192.0.2.1:6000"));
    QTRY_VERIFY_WITH_TIMEOUT(infos.size() == 6 && failures.size() == 2, 20000);
    QCOMPARE(a.infoRequests(), 3);
    QCOMPARE(b.infoRequests(), 3);
    QCOMPARE(unused.connections, 0);
    for (const QList<QVariant> &info : std::as_const(infos)) {
        const QString device = info.at(3).toString();
        QCOMPARE(device, asked.value(info.at(0).toULongLong()));
        const QString model = info.at(1).toJsonObject().value(QStringLiteral("models")).toArray().at(0)
                                  .toObject().value(QStringLiteral("name")).toString();
        QCOMPARE(model, device == DeviceSpec::embeddedLabel() ? QStringLiteral("yolox-nano-640")
                                                              : QStringLiteral("nanodet-m-320"));
    }
    QSet<quint64> failed;
    for (const QList<QVariant> &failure : std::as_const(failures)) {
        failed.insert(failure.at(0).toULongLong());
        QVERIFY2(failure.at(1).toString().contains(failure.at(0).toULongLong() == disabled ? QStringLiteral("disabled")
                                                                                              : QStringLiteral("192.0.2.1:6000")),
                 qPrintable(failure.at(1).toString()));
    }
    QCOMPARE(failed, (QSet<quint64>{disabled, stranger}));

    // Detections still go to either device, and name the one that answered.
    ClientOutcomes outcomes(client);
    for (int i = 0; i < 10; ++i)
        client.submit(makeImage(i));
    QTRY_COMPARE_WITH_TIMEOUT(outcomes.finished(), 10, 20000);
    for (const ClientResult &result : std::as_const(outcomes.results))
        QVERIFY(result.device == name(a.serverPort()) || result.device == DeviceSpec::embeddedLabel());
}

void TestDevicePool::poolModels_reduceForTheLargestInput_notesPerDevice_sayWhenModelsDiffer()
{
    PoolModels pool;
    pool.reset({QStringLiteral("a:6000"), QStringLiteral("embedded"), QStringLiteral("c:6000")}, QString());
    QVERIFY(!pool.anyDescribed());
    pool.describe(QStringLiteral("a:6000"), serverInfo(QStringLiteral("nanodet-m-320"), 320));
    QVERIFY(pool.anyDescribed());
    QVERIFY(!pool.complete());
    QVERIFY(pool.input().isEmpty()); // two devices have not said: photos go as they are
    QVERIFY(pool.disagreement().isEmpty());
    pool.describe(QStringLiteral("embedded"), serverInfo(QStringLiteral("yolox-nano-640"), 640));
    pool.describe(QStringLiteral("c:6000"), serverInfo(QStringLiteral("nanodet-m-320"), 320));
    QVERIFY(pool.complete());
    QCOMPARE(pool.input(), QSize(640, 640)); // large enough for every device's model
    QCOMPARE(pool.modelName(QStringLiteral("embedded")), QStringLiteral("yolox-nano-640"));
    QCOMPARE(pool.disagreement(), QStringLiteral("the devices run different models: nanodet-m-320 on a:6000, c:6000; "
                                                 "yolox-nano-640 on embedded"));

    // A fallback detector on one device: its markup says so, the others' does not.
    pool.reset({QStringLiteral("a:6000"), QStringLiteral("b:6000")}, QString());
    pool.describe(QStringLiteral("a:6000"), serverInfo(QStringLiteral("haar-faces"), 0, QStringLiteral("cascade")));
    pool.describe(QStringLiteral("b:6000"), serverInfo(QStringLiteral("nanodet-m-320"), 320));
    QCOMPARE(pool.markupNote(QStringLiteral("a:6000")), QStringLiteral("fallback detector: haar-faces"));
    QVERIFY(pool.markupNote(QStringLiteral("b:6000")).isEmpty());
    QVERIFY(pool.input().isEmpty()); // a cascade has no input size: nothing to reduce for

    // A device that cannot say (legacy, unreachable): files go as they are.
    pool.reset({QStringLiteral("a:6000"), QStringLiteral("b:6000")}, QString());
    pool.describe(QStringLiteral("a:6000"), serverInfo(QStringLiteral("nanodet-m-320"), 320));
    pool.noAnswer(QStringLiteral("b:6000"));
    QVERIFY(pool.complete());
    QVERIFY(pool.input().isEmpty());
    QVERIFY(pool.disagreement().isEmpty());
}

QTEST_GUILESS_MAIN(TestDevicePool)
#include "tst_devicepool.moc"
