#include "net/deviceannouncer.h"

#include "discovery/deviceannouncement.h"
#include "discovery/serviceannouncer.h"
#include "net/detectionserver.h"
#include "net/listener.h"

#include <QLoggingCategory>
#include <QNetworkInterface>

Q_LOGGING_CATEGORY(lcDeviceAnnouncer, "edgelens.server.announce")

namespace edgelens {

DeviceAnnouncer::DeviceAnnouncer(QObject *parent)
    : QObject(parent)
    , m_announcer(new ServiceAnnouncer(this))
{
    connect(m_announcer, &ServiceAnnouncer::established, this, &DeviceAnnouncer::established);
}

DeviceAnnouncer::~DeviceAnnouncer() = default;

DeviceAnnouncement DeviceAnnouncer::describe(const DetectionServer &server)
{
    const ServerConfig &config = server.config();
    DeviceAnnouncement a;
    a.version = QStringLiteral(EDGELENS_VERSION);
    a.tls = config.tls;
    a.fingerprint = server.tlsFingerprint();
    a.tokenRequired = !config.token.isEmpty();
    // The legacy protocol has no authentication and no TLS: with either it is refused.
    a.protocols = {QStringLiteral("v2")};
    if (!a.tls && !a.tokenRequired)
        a.protocols.append(QStringLiteral("legacy"));
    for (const Listener *listener : server.listeners()) {
        if (listener->kind().startsWith(QLatin1String("http"))) {
            a.httpPort = listener->serverPort();
            a.protocols.append(QStringLiteral("deepstack"));
            break;
        }
    }
    if (server.plainPort() != 0)
        a.plainPort = server.plainPort();
    a.model = server.modelNames().value(0);
    return a;
}

bool DeviceAnnouncer::start(const DetectionServer &server, QString *why)
{
    const QHostAddress host = server.config().host;
    ServiceAnnouncer::Service service;
    service.type = QString::fromLatin1(DeviceAnnouncement::kServiceType);
    service.port = server.serverPort();
    service.txt = describe(server).toTxt();
    if (host.isLoopback()) {
        if (why)
            *why = QStringLiteral("listening on loopback only, nothing to announce");
        return false;
    }
    if (host == QHostAddress::AnyIPv4) {
        service.family = ServiceAnnouncer::Family::IPv4;
    } else if (host != QHostAddress::Any && host != QHostAddress::AnyIPv6) {
        // One address: announced on its interface only, where clients can reach it.
        service.family = host.protocol() == QAbstractSocket::IPv4Protocol ? ServiceAnnouncer::Family::IPv4
                                                                           : ServiceAnnouncer::Family::IPv6;
        const QList<QNetworkInterface> interfaces = QNetworkInterface::allInterfaces();
        for (const QNetworkInterface &interface : interfaces) {
            for (const QNetworkAddressEntry &entry : interface.addressEntries()) {
                if (entry.ip().isEqual(host, QHostAddress::StrictConversion))
                    service.interfaceIndex = interface.index();
            }
        }
        if (service.interfaceIndex < 0) {
            if (why)
                *why = QStringLiteral("no interface has the address %1").arg(host.toString());
            return false;
        }
    }
    QString error;
    if (!m_announcer->announce(service, &error)) {
        if (why)
            *why = QStringLiteral("no mDNS: %1").arg(error);
        return false;
    }
    qCDebug(lcDeviceAnnouncer) << "announcing" << service.txt;
    return true;
}

void DeviceAnnouncer::withdraw()
{
    m_announcer->withdraw();
}

} // namespace edgelens
