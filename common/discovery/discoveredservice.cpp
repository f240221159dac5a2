#include "discovery/discoveredservice.h"

namespace edgelens {

QString DiscoveredService::preferredHost() const
{
    for (const QHostAddress &address : addresses) {
        if (!(address.protocol() == QAbstractSocket::IPv6Protocol && address.isLinkLocal()))
            return address.toString();
    }
    QString name = hostName;
    if (name.endsWith(QLatin1Char('.')))
        name.chop(1);
    return name;
}

int DiscoveredService::addressRank(const QHostAddress &address)
{
    if (address.protocol() == QAbstractSocket::IPv4Protocol)
        return address.isLoopback() ? 1 : 0;
    if (address.isLinkLocal())
        return 3;
    return 2;
}

bool operator==(const DiscoveredService &a, const DiscoveredService &b)
{
    return a.name == b.name && a.type == b.type && a.domain == b.domain && a.hostName == b.hostName
        && a.port == b.port && a.addresses == b.addresses && a.txt == b.txt;
}

} // namespace edgelens
