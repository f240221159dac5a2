// What a connection's first bytes say it speaks.

#include "net/protocolsniffer.h"

#include "protocol/protocol.h"

#include <QTest>

using namespace edgelens;
using Kind = ProtocolSniffer::Kind;

Q_DECLARE_METATYPE(ProtocolSniffer::Kind)

namespace {

// A real ClientHello's first bytes, as `openssl s_client` sends them.
const QByteArray kClientHello = QByteArray::fromHex("160301020001 0001fc0303");

} // namespace

class TestProtocolSniffer : public QObject
{
    Q_OBJECT

private slots:
    void classify_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<Kind>("kind");
        const QByteArray jpeg = QByteArray::fromHex("ffd8ffe000104a464946");
        QTest::newRow("legacy jpeg") << (protocol::encodeLegacyFrame(jpeg)) << Kind::Legacy;
        QTest::newRow("legacy zero length") << QByteArray(4, '\0') << Kind::Legacy;
        // 0x00010316 = 66326 bytes: a legal legacy length that starts like a TLS record.
        QTest::newRow("legacy length like TLS") << (QByteArray::fromHex("16030100") + jpeg) << Kind::Legacy;
        QTest::newRow("v2") << protocol::encodePreamble() << Kind::V2;
        QTest::newRow("tls 1.2 hello") << kClientHello << Kind::TlsHandshake;
        QTest::newRow("tls 1.0 record") << QByteArray::fromHex("160300005001") << Kind::TlsHandshake;
        QTest::newRow("http get") << QByteArray("GET / HTTP/1.1\r\n") << Kind::Http;
        QTest::newRow("http post") << QByteArray("POST /v1/detect HTTP/1.1\r\n") << Kind::Http;
        QTest::newRow("http options") << QByteArray("OPTIONS * HTTP/1.1\r\n") << Kind::Http;
        QTest::newRow("http2 preface") << QByteArray("PRI * HTTP/2.0\r\n") << Kind::Http;
        QTest::newRow("proxy v1") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n") << Kind::ProxyV1;
        QTest::newRow("proxy v2") << QByteArray("\r\n\r\n\0\r\nQUIT\n\x21\x11", 14) << Kind::ProxyV2;
        QTest::newRow("too short") << QByteArray("\x01\x02", 2) << Kind::NeedMore;
        QTest::newRow("maybe GET") << QByteArray("GE") << Kind::NeedMore;
        QTest::newRow("maybe tls") << QByteArray::fromHex("1603010200") << Kind::NeedMore;
    }

    void classify()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(Kind, kind);
        QCOMPARE(ProtocolSniffer::classify(bytes.left(ProtocolSniffer::kMaxPrefix)), kind);
    }

    void everyPrefix_isNeedMoreOrTheFinalAnswer()
    {
        const QList<QByteArray> inputs = {kClientHello, QByteArray("POST / HTTP/1.1"), protocol::encodePreamble(),
                                          QByteArray("PROXY TCP4 ")};
        for (const QByteArray &input : inputs) {
            const Kind final = ProtocolSniffer::classify(input);
            QVERIFY(final != Kind::NeedMore);
            for (int n = 1; n < input.size(); ++n) {
                const Kind k = ProtocolSniffer::classify(input.left(n));
                QVERIFY2(k == Kind::NeedMore || k == final, input.left(n).toHex().constData());
            }
        }
    }

    void describe_namesTheKind()
    {
        QVERIFY(ProtocolSniffer::describe(Kind::TlsHandshake).contains(QStringLiteral("TLS")));
        QVERIFY(ProtocolSniffer::describe(Kind::Http).contains(QStringLiteral("HTTP")));
        QVERIFY(ProtocolSniffer::describe(Kind::ProxyV2).contains(QStringLiteral("PROXY")));
    }
};

QTEST_GUILESS_MAIN(TestProtocolSniffer)
#include "tst_protocolsniffer.moc"
