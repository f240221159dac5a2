#pragma once

// What an edgelens-server says about itself on the network (DNS-SD type _edgelens._tcp, TXT
// record), in one place for the server that writes it and the clients that read it.
// docs/DEPLOY.md ("Finding devices on the network") lists the keys.

#include "discovery/discoveredservice.h"

#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

struct DeviceAnnouncement
{
    static constexpr const char *kServiceType = "_edgelens._tcp";

    QString version;         // server version, "0.9.0"
    QStringList protocols;   // on `port`: "v2", "legacy"; "deepstack" when httpPort is set
    int httpPort = -1;       // the HTTP API (DeepStack / CodeProject.AI, /metrics), -1: none
    int plainPort = -1;      // the --plain-port listener next to a TLS port, -1: none
    bool tls = false;        // `port` speaks TLS
    QString fingerprint;     // "sha256:<64 hex>" with tls: a hint only, mDNS is not authenticated
    bool tokenRequired = false;
    QString model;           // the default model

    QList<QPair<QString, QString>> toTxt() const;
    static DeviceAnnouncement fromTxt(const QMap<QString, QString> &txt);
};

// A device as found on the network: where it is and what it announced.
struct DiscoveredDevice
{
    QString name;       // "EdgeLens on pi"
    QString host;       // the address to connect to (DiscoveredService::preferredHost)
    quint16 port = 0;
    QStringList addresses;
    QString hostName;   // "pi.local"
    DeviceAnnouncement announcement;

    static DiscoveredDevice fromService(const DiscoveredService &service);
    QString address() const; // "192.168.1.20:6000", "[fe80::1%eth0]:6000"
    QJsonObject toJson() const;
};

} // namespace edgelens
