#include "proxyheader.h"

#include <QtEndian>

namespace edgelens {

namespace {

constexpr char kV2Signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};

bool readPort(QByteArrayView text, quint16 *port)
{
    // The spec: decimal, no leading zeros, 0..65535.
    if (text.isEmpty() || text.size() > 5 || (text.size() > 1 && text.front() == '0'))
        return false;
    quint32 value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + quint32(c - '0');
    }
    if (value > 65535)
        return false;
    *port = quint16(value);
    return true;
}

ProxyHeader::Status invalid(QString *error, const QString &why)
{
    *error = why;
    return ProxyHeader::Status::Invalid;
}

ProxyHeader::Status parseV1(const QByteArray &bytes, ProxyHeader *header, QString *error)
{
    // The line is printable US-ASCII ended by CRLF. Every byte is checked as it arrives, so a
    // header is refused for the same reason however the network cut it, and a NUL cannot end
    // an address early for the address parser (which reads C strings).
    qsizetype end = -1;
    const qsizetype limit = qMin(bytes.size(), ProxyHeader::kMaxV1);
    for (qsizetype i = 0; i < limit; ++i) {
        const uchar c = uchar(bytes.at(i));
        if (c == '\r') {
            if (i + 1 == bytes.size())
                return ProxyHeader::Status::NeedMore;
            if (bytes.at(i + 1) != '\n')
                return invalid(error, QStringLiteral("PROXY v1 line has a CR not followed by LF"));
            end = i;
            break;
        }
        if (c < 0x20 || c > 0x7E)
            return invalid(error, QStringLiteral("PROXY v1 line has byte 0x%1 (not printable ASCII, or not ended by CRLF)")
                                      .arg(c, 2, 16, QLatin1Char('0')));
    }
    if (end < 0) {
        if (bytes.size() >= ProxyHeader::kMaxV1)
            return invalid(error, QStringLiteral("PROXY v1 line longer than %1 bytes").arg(ProxyHeader::kMaxV1));
        return ProxyHeader::Status::NeedMore;
    }
    if (end + 2 > ProxyHeader::kMaxV1)
        return invalid(error, QStringLiteral("PROXY v1 line longer than %1 bytes").arg(ProxyHeader::kMaxV1));
    const QList<QByteArray> fields = bytes.left(end).split(' ');
    header->version = 1;
    header->length = end + 2;
    if (fields.size() >= 2 && fields.at(1) == "UNKNOWN") {
        header->local = true; // the balancer could not tell; the rest of the line is to be ignored
        return ProxyHeader::Status::Done;
    }
    if (fields.size() != 6)
        return invalid(error, QStringLiteral("PROXY v1 line needs 6 fields, has %1").arg(fields.size()));
    const QByteArray &family = fields.at(1);
    const QAbstractSocket::NetworkLayerProtocol expected = family == "TCP4" ? QAbstractSocket::IPv4Protocol
        : family == "TCP6"                                                ? QAbstractSocket::IPv6Protocol
                                                                          : QAbstractSocket::UnknownNetworkLayerProtocol;
    if (expected == QAbstractSocket::UnknownNetworkLayerProtocol)
        return invalid(error, QStringLiteral("PROXY v1 protocol \"%1\" is not TCP4, TCP6 or UNKNOWN")
                                  .arg(QString::fromLatin1(family.left(16))));
    if (!header->source.setAddress(QString::fromLatin1(fields.at(2))) || header->source.protocol() != expected
        || !header->destination.setAddress(QString::fromLatin1(fields.at(3))) || header->destination.protocol() != expected)
        return invalid(error, QStringLiteral("PROXY v1 addresses are not %1 addresses").arg(QString::fromLatin1(family)));
    if (!readPort(fields.at(4), &header->sourcePort) || !readPort(fields.at(5), &header->destinationPort))
        return invalid(error, QStringLiteral("PROXY v1 ports are not numbers from 0 to 65535"));
    return ProxyHeader::Status::Done;
}

ProxyHeader::Status parseV2(const QByteArray &bytes, ProxyHeader *header, QString *error)
{
    if (bytes.size() < 16)
        return ProxyHeader::Status::NeedMore;
    const auto *data = reinterpret_cast<const uchar *>(bytes.constData());
    const int version = data[12] >> 4;
    const int command = data[12] & 0x0F;
    const int family = data[13] >> 4;
    const int transport = data[13] & 0x0F;
    const quint16 addressLength = qFromBigEndian<quint16>(data + 14);
    if (version != 2)
        return invalid(error, QStringLiteral("PROXY v2 header with version %1").arg(version));
    if (command > 1)
        return invalid(error, QStringLiteral("PROXY v2 command %1 is neither LOCAL nor PROXY").arg(command));
    if (16 + qsizetype(addressLength) > ProxyHeader::kMaxV2)
        return invalid(error, QStringLiteral("PROXY v2 header of %1 bytes is longer than %2")
                                  .arg(16 + addressLength)
                                  .arg(ProxyHeader::kMaxV2));
    if (bytes.size() < 16 + qsizetype(addressLength))
        return ProxyHeader::Status::NeedMore;
    header->version = 2;
    header->length = 16 + addressLength;
    // LOCAL: the balancer speaking for itself (health checks); its own address stands.
    // UNSPEC or UNIX sockets carry no address we could use either.
    if (command == 0 || family == 0 || family == 3) {
        header->local = true;
        return ProxyHeader::Status::Done;
    }
    if (transport != 1)
        return invalid(error, QStringLiteral("PROXY v2 transport %1 is not a stream").arg(transport));
    const uchar *address = data + 16;
    if (family == 1) {
        if (addressLength < 12)
            return invalid(error, QStringLiteral("PROXY v2 IPv4 addresses need 12 bytes, got %1").arg(addressLength));
        header->source = QHostAddress(qFromBigEndian<quint32>(address));
        header->destination = QHostAddress(qFromBigEndian<quint32>(address + 4));
        header->sourcePort = qFromBigEndian<quint16>(address + 8);
        header->destinationPort = qFromBigEndian<quint16>(address + 10);
        return ProxyHeader::Status::Done;
    }
    if (family == 2) {
        if (addressLength < 36)
            return invalid(error, QStringLiteral("PROXY v2 IPv6 addresses need 36 bytes, got %1").arg(addressLength));
        header->source = QHostAddress(address);
        header->destination = QHostAddress(address + 16);
        header->sourcePort = qFromBigEndian<quint16>(address + 32);
        header->destinationPort = qFromBigEndian<quint16>(address + 34);
        return ProxyHeader::Status::Done;
    }
    return invalid(error, QStringLiteral("PROXY v2 address family %1 is unknown").arg(family));
}

} // namespace

ProxyHeader::Status ProxyHeader::parse(const QByteArray &bytes, ProxyHeader *header, QString *error)
{
    *header = ProxyHeader();
    const QByteArrayView v1("PROXY ");
    const QByteArrayView v2(kV2Signature, sizeof kV2Signature);
    const qsizetype n1 = qMin(bytes.size(), v1.size());
    const qsizetype n2 = qMin(bytes.size(), v2.size());
    if (QByteArrayView(bytes.constData(), n1) == v1.first(n1)) {
        if (bytes.size() < v1.size())
            return Status::NeedMore;
        return parseV1(bytes, header, error);
    }
    if (QByteArrayView(bytes.constData(), n2) == v2.first(n2)) {
        if (bytes.size() < v2.size())
            return Status::NeedMore;
        return parseV2(bytes, header, error);
    }
    return invalid(error, QStringLiteral("the connection does not start with a PROXY protocol header"));
}

} // namespace edgelens
