// Failed authentications per address, on an injected clock.

#include "net/auththrottle.h"

#include <QTest>

using namespace edgelens;

class TestAuthThrottle : public QObject
{
    Q_OBJECT

private:
    qint64 m_now = 1'000'000;

private slots:
    void init() { m_now = 1'000'000; }

    void fiveFailuresWithinTheWindow_blockUntilItPasses()
    {
        AuthThrottle throttle(5, 60'000);
        throttle.setClock([this] { return m_now; });
        const QHostAddress guesser(QStringLiteral("192.0.2.7"));
        for (int i = 0; i < 4; ++i) {
            QVERIFY(!throttle.recordFailure(guesser));
            m_now += 1000;
        }
        QVERIFY(!throttle.isBlocked(guesser));
        QVERIFY2(throttle.recordFailure(guesser), "the fifth failure blocks");
        qint64 retryAfter = 0;
        QVERIFY(throttle.isBlocked(guesser, &retryAfter));
        QCOMPARE(retryAfter, 56'000); // the first failure leaves the window 60 s after it
        m_now += 55'000;
        QVERIFY(throttle.isBlocked(guesser));
        m_now += 1'000;
        QVERIFY2(!throttle.isBlocked(guesser), "the window passed");
    }

    void slowGuessing_neverBlocks()
    {
        AuthThrottle throttle(5, 60'000);
        throttle.setClock([this] { return m_now; });
        const QHostAddress address(QStringLiteral("192.0.2.8"));
        for (int i = 0; i < 20; ++i) {
            QVERIFY(!throttle.recordFailure(address));
            m_now += 15'000; // four per minute
        }
        QVERIFY(!throttle.isBlocked(address));
    }

    void addressesAreCountedApart_andMappedIPv4IsTheSameAddress()
    {
        AuthThrottle throttle(2, 60'000);
        throttle.setClock([this] { return m_now; });
        throttle.recordFailure(QHostAddress(QStringLiteral("::ffff:192.0.2.9")));
        throttle.recordFailure(QHostAddress(QStringLiteral("192.0.2.9")));
        QVERIFY(throttle.isBlocked(QHostAddress(QStringLiteral("192.0.2.9"))));
        QVERIFY(!throttle.isBlocked(QHostAddress(QStringLiteral("192.0.2.10"))));
        QVERIFY(!throttle.isBlocked(QHostAddress(QStringLiteral("2001:db8::1"))));
    }
};

QTEST_GUILESS_MAIN(TestAuthThrottle)
#include "tst_auththrottle.moc"
