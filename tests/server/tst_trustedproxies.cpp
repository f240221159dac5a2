// Whose X-Forwarded-For is believed, and which hop of it names the client.
#include "net/trustedproxies.h"

#include <QTest>

using namespace edgelens;

namespace {

TrustedProxies proxies(const QStringList &specs)
{
    QString error;
    const std::optional<TrustedProxies> parsed = TrustedProxies::parse(specs, &error);
    if (!parsed)
        qWarning() << error;
    return parsed.value_or(TrustedProxies());
}

QHostAddress address(const char *text)
{
    return QHostAddress(QString::fromLatin1(text));
}

} // namespace

class TestTrustedProxies : public QObject
{
    Q_OBJECT

private slots:
    void untrustedPeer_isTheClient_whateverItsHeaderSays()
    {
        const TrustedProxies trusted = proxies({"10.0.0.1"});
        QCOMPARE(trusted.clientOf(address("192.0.2.7"), {"198.51.100.9"}), address("192.0.2.7"));
    }

    void trustedPeer_namesTheClient_readFromTheRight()
    {
        const TrustedProxies trusted = proxies({"10.0.0.0/8", "::1"});
        QCOMPARE(trusted.clientOf(address("10.0.0.1"), {"192.0.2.7"}), address("192.0.2.7"));
        // The client sent its own header through the proxy: only the proxy's hop counts.
        QCOMPARE(trusted.clientOf(address("10.0.0.1"), {"198.51.100.9, 192.0.2.7"}), address("192.0.2.7"));
        // Two proxies in a row, in one field or two.
        QCOMPARE(trusted.clientOf(address("10.0.0.1"), {"192.0.2.7, 10.0.0.2"}), address("192.0.2.7"));
        QCOMPARE(trusted.clientOf(address("::1"), {"192.0.2.7", "10.0.0.2"}), address("192.0.2.7"));
        QCOMPARE(trusted.clientOf(address("::ffff:10.0.0.1"), {"[2001:db8::7]"}), address("2001:db8::7"));
    }

    void noHeader_orNoAddressInIt_keepsTheLastTrustedHop()
    {
        const TrustedProxies trusted = proxies({"10.0.0.0/8"});
        QCOMPARE(trusted.clientOf(address("10.0.0.1"), {}), address("10.0.0.1"));
        QCOMPARE(trusted.clientOf(address("10.0.0.1"), {"unknown"}), address("10.0.0.1"));
        QCOMPARE(trusted.clientOf(address("10.0.0.1"), {"garbage, 10.0.0.2"}), address("10.0.0.2"));
    }

    void badSpecs_areRefusedNamingThem()
    {
        QString error;
        QVERIFY(!TrustedProxies::parse({"10.0.0.0/8", "proxy.local"}, &error));
        QVERIFY2(error.contains(QStringLiteral("proxy.local")), qPrintable(error));
        QVERIFY(!TrustedProxies::parse({"10.0.0.0/99"}, &error));
        QVERIFY(TrustedProxies::parse({}, &error)->isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestTrustedProxies)
#include "tst_trustedproxies.moc"
