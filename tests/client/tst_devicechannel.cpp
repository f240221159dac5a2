// DeviceChannel's waits, measured with the injected clock of ChannelSettings::startWait: the
// delays the channel asks for (exponential backoff between probes of a device that is down,
// and the cool-down after busy answers), and that it neither probes nor takes work before the
// clock says the wait is over. No wall-clock time is waited for or compared.

#include "client/devicechannel.h"
#include "client/socketfactory.h"

#include "scriptedv2server.h"
#include "testimages.h"
#include "testnetwork.h"

#include <QPointer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTest>

#include <limits>

using namespace edgelens;
using edgelens::test::ScriptedV2Server;

namespace {

DeviceSpec v2Device(quint16 port)
{
    DeviceSpec spec;
    spec.host = QStringLiteral("127.0.0.1");
    spec.port = port;
    spec.protocol = DeviceSpec::Protocol::V2;
    return spec;
}

// The injected clock: every wait the channel starts is recorded and held (the timer runs, so
// the channel sees it as running, but would fire only in weeks) until the test ends it.
struct ManualClock
{
    QList<int> asked;                  // the delays, in the order asked for
    QList<QPointer<QTimer>> timers;    // the timer of each

    void install(ChannelSettings &settings)
    {
        settings.startWait = [this](QTimer &timer, int ms) {
            asked.append(ms);
            timers.append(&timer);
            timer.start(std::numeric_limits<int>::max());
        };
    }
    // The last wait is over now.
    void elapseLast()
    {
        QVERIFY(!timers.isEmpty() && timers.last());
        QVERIFY(timers.last()->isActive());
        timers.last()->start(0);
    }
};

} // namespace

class TestDeviceChannel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void init() { DeviceChannel::forgetKnownProtocols(); }

    void deviceDown_probesWithExponentialBackoff_cappedAtTheMaximum_neverBeforeTheWaitIsOver()
    {
        ChannelSettings settings;
        settings.sockets = std::make_shared<PlainSocketFactory>();
        settings.backoffInitialMs = 200;
        settings.backoffMaxMs = 3000;
        ManualClock clock;
        clock.install(settings);
        DeviceChannel channel(v2Device(test::unusedLoopbackPort()), &settings, [] { return true; });

        channel.activate();
        QCOMPARE(channel.state(), DeviceStatus::State::Connecting);
        const QList<int> expected = {200, 400, 800, 1600, 3000, 3000, 3000};
        for (int failure = 1; failure <= expected.size(); ++failure) {
            QTRY_COMPARE_WITH_TIMEOUT(clock.asked.size(), failure, 10000);
            QCOMPARE(channel.state(), DeviceStatus::State::Down);
            QCOMPARE(channel.status().timesDown, 1); // probes failing while down do not count again
            // Work arriving while the wait runs (the pool calls activate()) must not probe early.
            channel.activate();
            QCOMPARE(channel.state(), DeviceStatus::State::Down);
            QCOMPARE(clock.asked.size(), failure);
            if (failure < expected.size())
                clock.elapseLast(); // the probe it then makes fails too, and it asks for the next wait
        }
        QCOMPARE(clock.asked, expected);
        QVERIFY(channel.exhausted()); // more than maxRetries (3) failures in a row
    }

    void backoffEnds_withoutWork_noProbe()
    {
        ChannelSettings settings;
        settings.sockets = std::make_shared<PlainSocketFactory>();
        ManualClock clock;
        clock.install(settings);
        bool work = true;
        DeviceChannel channel(v2Device(test::unusedLoopbackPort()), &settings, [&work] { return work; });
        channel.activate();
        QTRY_COMPARE_WITH_TIMEOUT(clock.asked.size(), 1, 10000);
        QCOMPARE(channel.state(), DeviceStatus::State::Down);
        work = false;
        QSignalSpy fired(clock.timers.last().data(), &QTimer::timeout);
        clock.elapseLast();
        QVERIFY(fired.wait(5000));
        QCOMPARE(channel.state(), DeviceStatus::State::Down); // the pool has nothing to send: no probe
        QCOMPARE(clock.asked.size(), 1);
    }

    void busyAnswers_coolDownGrowsExponentially_andNoWorkIsTakenMeanwhile()
    {
        ScriptedV2Server server;
        server.behaviour = ScriptedV2Server::Behaviour::LimitInFlight;
        server.inFlightLimit = 0; // every detect is answered busy
        QVERIFY(server.listenOnLoopback());
        ChannelSettings settings;
        settings.sockets = std::make_shared<PlainSocketFactory>();
        settings.backoffInitialMs = 50;
        settings.backoffMaxMs = 300;
        ManualClock clock;
        clock.install(settings);
        DeviceChannel channel(v2Device(server.serverPort()), &settings, [] { return true; });
        QSignalSpy returned(&channel, &DeviceChannel::requestsReturned);
        channel.activate();
        QTRY_VERIFY_WITH_TIMEOUT(channel.canTake(), 10000);

        const QByteArray image = test::solidImageBytes(32, 32, Qt::red, "PNG");
        const QList<int> expected = {50, 100, 200, 300, 300};
        for (int i = 0; i < expected.size(); ++i) {
            OutgoingRequest request;
            request.id = quint64(i + 1);
            request.image = image;
            channel.send(request);
            QTRY_COMPARE_WITH_TIMEOUT(returned.size(), i + 1, 10000);
            QCOMPARE(returned.last().first().value<ReturnedRequests>().dropped, QList<quint64>{request.id});
            QCOMPARE(clock.asked.size(), i + 1);
            QVERIFY(!channel.canTake()); // cooling down until the clock says so
            QCOMPARE(channel.state(), DeviceStatus::State::Up); // busy is not down
            QSignalSpy fired(clock.timers.last().data(), &QTimer::timeout);
            clock.elapseLast();
            QVERIFY(fired.wait(5000));
            QVERIFY(channel.canTake());
        }
        QCOMPARE(clock.asked, expected);
    }
};

QTEST_GUILESS_MAIN(TestDeviceChannel)
#include "tst_devicechannel.moc"
