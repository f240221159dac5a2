#pragma once

#include <QHostAddress>
#include <QList>
#include <QMap>
#include <QString>

namespace edgelens {

// One DNS-SD service instance as resolved on the network: what a ServiceBrowser reports.
struct DiscoveredService
{
    QString name;     // instance name, "EdgeLens on pi"; unique per type and domain
    QString type;     // "_edgelens._tcp"
    QString domain;   // "local"
    QString hostName; // "pi.local"
    quint16 port = 0;
    // Every address it was resolved to, best first: IPv4, then routable IPv6, then IPv6
    // link-local ones, which carry their interface as scope id ("fe80::1%eth0") because they
    // mean nothing without it.
    QList<QHostAddress> addresses;
    QMap<QString, QString> txt; // keys in lower case; a key without "=" has an empty value

    // What to connect to: the best address that is not IPv6 link-local ("192.168.1.20",
    // "2001:db8::20"); otherwise the host name ("pi.local", which needs nss-mdns to resolve).
    // A scope id names an interface of this computer only, so a device list saved with one
    // would break on another machine or after a rename: link-local stays in `addresses`.
    QString preferredHost() const;

    // The order of `addresses`: lower is better.
    static int addressRank(const QHostAddress &address);
};

bool operator==(const DiscoveredService &a, const DiscoveredService &b);
inline bool operator!=(const DiscoveredService &a, const DiscoveredService &b) { return !(a == b); }

} // namespace edgelens
