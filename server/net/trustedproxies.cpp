#include "trustedproxies.h"

#include "auththrottle.h"

namespace edgelens {

std::optional<TrustedProxies> TrustedProxies::parse(const QStringList &specs, QString *error)
{
    TrustedProxies proxies;
    for (const QString &raw : specs) {
        const QString spec = raw.trimmed();
        QPair<QHostAddress, int> subnet = spec.contains(QLatin1Char('/')) ? QHostAddress::parseSubnet(spec)
                                                                          : qMakePair(QHostAddress(spec), -1);
        if (subnet.first.isNull()) {
            if (error)
                *error = QStringLiteral("--trusted-proxy: \"%1\" is not an address or subnet (192.0.2.10, 10.0.0.0/8, ::1)")
                             .arg(raw);
            return std::nullopt;
        }
        subnet.first = AuthThrottle::normalized(subnet.first);
        if (subnet.second < 0)
            subnet.second = subnet.first.protocol() == QAbstractSocket::IPv6Protocol ? 128 : 32;
        proxies.m_subnets.append(subnet);
    }
    return proxies;
}

bool TrustedProxies::contains(const QHostAddress &address) const
{
    const QHostAddress normal = AuthThrottle::normalized(address);
    for (const auto &subnet : m_subnets) {
        if (normal.isInSubnet(subnet))
            return true;
    }
    return false;
}

QHostAddress TrustedProxies::clientOf(const QHostAddress &peer, const QList<QByteArray> &forwardedFor) const
{
    QHostAddress client = AuthThrottle::normalized(peer);
    if (!contains(client))
        return client;
    QList<QByteArray> hops;
    for (const QByteArray &field : forwardedFor)
        hops += field.split(',');
    for (qsizetype i = hops.size() - 1; i >= 0; --i) {
        QByteArray text = hops.at(i).trimmed();
        // "[2001:db8::1]" (RFC 7239 style) as some proxies write it.
        if (text.startsWith('[') && text.endsWith(']'))
            text = text.mid(1, text.size() - 2);
        const QHostAddress hop(QString::fromLatin1(text));
        if (hop.isNull())
            return client;
        client = AuthThrottle::normalized(hop);
        if (!contains(client))
            return client;
    }
    return client;
}

} // namespace edgelens
