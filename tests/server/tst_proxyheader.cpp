// PROXY protocol v1 and v2 headers, as nginx and HAProxy send them, split at every byte.

#include "net/proxyheader.h"

#include <QTest>
#include <QtEndian>

using namespace edgelens;
using Status = ProxyHeader::Status;

namespace {

const QByteArray kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

QByteArray v2(quint8 versionCommand, quint8 familyTransport, const QByteArray &addresses)
{
    QByteArray header = kV2Signature;
    header.append(char(versionCommand));
    header.append(char(familyTransport));
    QByteArray length(2, '\0');
    qToBigEndian(quint16(addresses.size()), length.data());
    return header + length + addresses;
}

QByteArray be16(quint16 value)
{
    QByteArray bytes(2, '\0');
    qToBigEndian(value, bytes.data());
    return bytes;
}

} // namespace

class TestProxyHeader : public QObject
{
    Q_OBJECT

private slots:
    void validHeaders_parseTheSameSplitAtEveryByte_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<int>("version");
        QTest::addColumn<bool>("local");
        QTest::addColumn<QString>("source");
        QTest::addColumn<int>("sourcePort");

        QTest::newRow("v1 TCP4 (nginx)") << QByteArray("PROXY TCP4 127.0.0.2 127.0.0.1 51234 6000\r\n") << 1 << false
                                         << QStringLiteral("127.0.0.2") << 51234;
        QTest::newRow("v1 TCP6") << QByteArray("PROXY TCP6 2001:db8::7 ::1 65535 6000\r\n") << 1 << false
                                 << QStringLiteral("2001:db8::7") << 65535;
        QTest::newRow("v1 UNKNOWN") << QByteArray("PROXY UNKNOWN ffff:f...f:ffff 0 0\r\n") << 1 << true << QString() << 0;
        QTest::newRow("v1 longest") << QByteArray("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                                                  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")
                                    << 1 << false << QStringLiteral("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") << 65535;
        QTest::newRow("v2 IPv4 (HAProxy)")
            << v2(0x21, 0x11, QByteArray::fromHex("c0000207 7f000001") + be16(40000) + be16(6000)) << 2 << false
            << QStringLiteral("192.0.2.7") << 40000;
        QTest::newRow("v2 IPv6") << v2(0x21, 0x21, QByteArray::fromHex("20010db8000000000000000000000007"
                                                                       "00000000000000000000000000000001")
                                                       + be16(1) + be16(6000))
                                 << 2 << false << QStringLiteral("2001:db8::7") << 1;
        QTest::newRow("v2 IPv4 with TLVs")
            << v2(0x21, 0x11, QByteArray::fromHex("0a000001 0a000002") + be16(5) + be16(6) + QByteArray::fromHex("0400020000"))
            << 2 << false << QStringLiteral("10.0.0.1") << 5;
        QTest::newRow("v2 LOCAL (health check)") << v2(0x20, 0x00, QByteArray()) << 2 << true << QString() << 0;
        QTest::newRow("v2 LOCAL with addresses") << v2(0x20, 0x11, QByteArray(12, '\1')) << 2 << true << QString() << 0;
        QTest::newRow("v2 PROXY UNSPEC") << v2(0x21, 0x00, QByteArray()) << 2 << true << QString() << 0;
    }

    void validHeaders_parseTheSameSplitAtEveryByte()
    {
        QFETCH(QByteArray, header);
        QFETCH(int, version);
        QFETCH(bool, local);
        QFETCH(QString, source);
        QFETCH(int, sourcePort);
        const QByteArray following("\x10\x00\x00\x00\xff\xd8", 6); // the client's first bytes
        for (qsizetype n = 0; n < header.size(); ++n) {
            ProxyHeader parsed;
            QString error;
            QCOMPARE(ProxyHeader::parse(header.left(n), &parsed, &error), Status::NeedMore);
        }
        ProxyHeader parsed;
        QString error;
        QCOMPARE(ProxyHeader::parse(header + following, &parsed, &error), Status::Done);
        QCOMPARE(parsed.version, version);
        QCOMPARE(parsed.local, local);
        QCOMPARE(parsed.length, header.size());
        if (!local) {
            QCOMPARE(parsed.source, QHostAddress(source));
            QCOMPARE(int(parsed.sourcePort), sourcePort);
        }
    }

    void malformedHeaders_areInvalidWithAReason_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("reason");
        QTest::newRow("no header (legacy frame)") << QByteArray::fromHex("10000000ffd8ff") << QStringLiteral("does not start");
        QTest::newRow("no header (v2 preamble)") << QByteArray("ELNS\x02\0\0\0", 8) << QStringLiteral("does not start");
        QTest::newRow("lower case") << QByteArray("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n") << QStringLiteral("does not start");
        QTest::newRow("v1 bad family") << QByteArray("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n") << QStringLiteral("TCP4, TCP6");
        QTest::newRow("v1 family mismatch") << QByteArray("PROXY TCP4 ::1 ::1 1 2\r\n") << QStringLiteral("addresses");
        QTest::newRow("v1 bad address") << QByteArray("PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n") << QStringLiteral("addresses");
        QTest::newRow("v1 leading zero port") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 0123 2\r\n") << QStringLiteral("ports");
        QTest::newRow("v1 port too big") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n") << QStringLiteral("ports");
        QTest::newRow("v1 missing field") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n") << QStringLiteral("6 fields");
        QTest::newRow("v1 double space") << QByteArray("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n") << QStringLiteral("6 fields");
        QTest::newRow("v1 bare LF") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n") << QStringLiteral("CRLF");
        // Found by fuzz_proxyheader: a NUL ended the destination address for the address parser
        // ("0.0.0.0" was read), and the cut before the NUL refused what the whole line accepted.
        QTest::newRow("v1 NUL in an address")
            << QByteArray("PROXY TCP4 192.0.2.7 0\0\0\x00" "0.2.1A 51234 6000\r\nELNS", 48) << QStringLiteral("0x00");
        QTest::newRow("v1 CR without LF") << QByteArray("PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n") << QStringLiteral("CR not followed");
        QTest::newRow("v1 non-ASCII") << QByteArray("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xc3\xa9\r\n") << QStringLiteral("0xc3");
        QTest::newRow("v1 endless") << (QByteArray("PROXY TCP4 ") + QByteArray(200, '1')) << QStringLiteral("longer than");
        QTest::newRow("v2 version 1") << v2(0x11, 0x11, QByteArray(12, '\0')) << QStringLiteral("version 1");
        QTest::newRow("v2 command 2") << v2(0x22, 0x11, QByteArray(12, '\0')) << QStringLiteral("command 2");
        QTest::newRow("v2 short IPv4") << v2(0x21, 0x11, QByteArray(8, '\0')) << QStringLiteral("need 12 bytes");
        QTest::newRow("v2 short IPv6") << v2(0x21, 0x21, QByteArray(12, '\0')) << QStringLiteral("need 36 bytes");
        QTest::newRow("v2 datagram") << v2(0x21, 0x12, QByteArray(12, '\0')) << QStringLiteral("not a stream");
        QTest::newRow("v2 family 5") << v2(0x21, 0x51, QByteArray(12, '\0')) << QStringLiteral("unknown");
        QByteArray huge = kV2Signature + QByteArray("\x21\x11\xff\xff", 4);
        QTest::newRow("v2 65535 bytes claimed") << huge << QStringLiteral("longer than");
    }

    void malformedHeaders_areInvalidWithAReason()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, reason);
        ProxyHeader parsed;
        QString error;
        QCOMPARE(ProxyHeader::parse(bytes, &parsed, &error), Status::Invalid);
        QVERIFY2(error.contains(reason), qPrintable(error));
        // However the network cuts it, no part of it is accepted.
        for (qsizetype n = 0; n < bytes.size(); ++n)
            QVERIFY2(ProxyHeader::parse(bytes.left(n), &parsed, &error) != Status::Done, qPrintable(QString::number(n)));
    }
};

QTEST_GUILESS_MAIN(TestProxyHeader)
#include "tst_proxyheader.moc"
