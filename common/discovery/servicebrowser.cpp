#include "discovery/servicebrowser.h"

#include "discovery/avahisession.h"

#include <QLoggingCategory>
#include <QNetworkInterface>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>

#include <algorithm>

Q_LOGGING_CATEGORY(lcBrowser, "edgelens.discovery.browser")

namespace edgelens {

namespace {

QMap<QString, QString> readTxt(AvahiStringList *txt)
{
    QMap<QString, QString> map;
    for (AvahiStringList *item = txt; item; item = avahi_string_list_get_next(item)) {
        char *key = nullptr;
        char *value = nullptr;
        size_t size = 0;
        if (avahi_string_list_get_pair(item, &key, &value, &size) < 0)
            continue;
        // RFC 6763 6.4: keys are case-insensitive, the first occurrence wins.
        const QString name = QString::fromUtf8(key).toLower();
        if (!name.isEmpty() && !map.contains(name))
            map.insert(name, value ? QString::fromUtf8(value, qsizetype(size)) : QString());
        avahi_free(key);
        avahi_free(value);
    }
    return map;
}

QHostAddress toHostAddress(const AvahiAddress *address, AvahiIfIndex interface)
{
    char text[AVAHI_ADDRESS_STR_MAX] = {};
    avahi_address_snprint(text, sizeof text, address);
    QHostAddress host(QString::fromLatin1(text));
    // A link-local IPv6 address is only reachable through the interface it was seen on.
    if (host.protocol() == QAbstractSocket::IPv6Protocol && host.isLinkLocal())
        host.setScopeId(QNetworkInterface::interfaceNameFromIndex(interface));
    return host;
}

} // namespace

struct ServiceBrowserCallbacks
{
    static void browse(AvahiServiceBrowser *, AvahiIfIndex interface, AvahiProtocol protocol, AvahiBrowserEvent event,
                       const char *name, const char *type, const char *domain, AvahiLookupResultFlags, void *userdata)
    {
        auto *self = static_cast<ServiceBrowser *>(userdata);
        switch (event) {
        case AVAHI_BROWSER_NEW:
            self->instanceNew(interface, protocol, QString::fromUtf8(name), QString::fromUtf8(type),
                              QString::fromUtf8(domain));
            break;
        case AVAHI_BROWSER_REMOVE:
            self->instanceRemoved(interface, protocol, QString::fromUtf8(name));
            break;
        case AVAHI_BROWSER_FAILURE:
            qCWarning(lcBrowser) << "browsing failed:"
                                 << avahi_strerror(avahi_client_errno(self->m_session->client()));
            break;
        case AVAHI_BROWSER_CACHE_EXHAUSTED:
        case AVAHI_BROWSER_ALL_FOR_NOW:
            break;
        }
    }

    static void resolve(AvahiServiceResolver *, AvahiIfIndex interface, AvahiProtocol protocol,
                        AvahiResolverEvent event, const char *name, const char *, const char *, const char *hostName,
                        const AvahiAddress *address, uint16_t port, AvahiStringList *txt, AvahiLookupResultFlags,
                        void *userdata)
    {
        auto *self = static_cast<ServiceBrowser *>(userdata);
        if (event == AVAHI_RESOLVER_FOUND && address) {
            ServiceBrowser::Instance found;
            found.resolved = true;
            found.hostName = QString::fromUtf8(hostName);
            found.port = port;
            found.address = toHostAddress(address, interface);
            found.txt = readTxt(txt);
            self->instanceResolved(interface, protocol, QString::fromUtf8(name), found);
        } else {
            self->instanceFailed(interface, protocol, QString::fromUtf8(name),
                                 QString::fromUtf8(avahi_strerror(avahi_client_errno(self->m_session->client()))));
        }
    }
};

ServiceBrowser::ServiceBrowser(QObject *parent)
    : QObject(parent)
    , m_session(new AvahiSession(this))
{
    connect(m_session, &AvahiSession::running, this, &ServiceBrowser::startBrowsing);
    connect(m_session, &AvahiSession::lost, this, [this] {
        // The client frees browser and resolvers with itself; what they found is unknown now.
        m_browser = nullptr;
        for (Entry &entry : m_entries) {
            for (Instance &instance : entry.instances)
                instance.resolver = nullptr;
        }
        forgetAll();
    });
}

ServiceBrowser::~ServiceBrowser()
{
    for (Entry &entry : m_entries) {
        for (Instance &instance : entry.instances) {
            if (instance.resolver)
                avahi_service_resolver_free(instance.resolver);
        }
    }
    if (m_browser)
        avahi_service_browser_free(m_browser);
}

bool ServiceBrowser::start(const QString &type)
{
    m_type = type;
    if (!m_session->start())
        return false;
    if (m_session->isRunning())
        startBrowsing();
    return true;
}

QString ServiceBrowser::lastError() const
{
    return m_session->lastError();
}

QList<DiscoveredService> ServiceBrowser::services() const
{
    QList<DiscoveredService> list;
    for (const Entry &entry : m_entries) {
        if (entry.reported)
            list.append(entry.last);
    }
    std::sort(list.begin(), list.end(),
              [](const DiscoveredService &a, const DiscoveredService &b) { return a.name < b.name; });
    return list;
}

void ServiceBrowser::startBrowsing()
{
    if (m_browser || m_type.isEmpty())
        return;
    m_browser = avahi_service_browser_new(m_session->client(), AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                          m_type.toUtf8().constData(), nullptr, AvahiLookupFlags(0),
                                          &ServiceBrowserCallbacks::browse, this);
    if (!m_browser)
        qCWarning(lcBrowser) << "cannot browse" << m_type << ":"
                             << avahi_strerror(avahi_client_errno(m_session->client()));
}

void ServiceBrowser::instanceNew(int interface, int protocol, const QString &name, const QString &type,
                                 const QString &domain)
{
    Entry &entry = m_entries[name];
    entry.type = type;
    entry.domain = domain;
    Instance &instance = entry.instances[{interface, protocol}];
    if (instance.resolver)
        return;
    // Resolved for the family it was seen on, so an instance seen over IPv4 and IPv6 yields
    // both addresses. The resolver stays: it reports again when the TXT or address changes.
    instance.resolver = avahi_service_resolver_new(
        m_session->client(), interface, protocol, name.toUtf8().constData(), type.toUtf8().constData(),
        domain.toUtf8().constData(), protocol, AvahiLookupFlags(0), &ServiceBrowserCallbacks::resolve, this);
    if (!instance.resolver)
        qCWarning(lcBrowser) << "cannot resolve" << name << ":"
                             << avahi_strerror(avahi_client_errno(m_session->client()));
}

void ServiceBrowser::instanceResolved(int interface, int protocol, const QString &name, const Instance &resolved)
{
    auto entry = m_entries.find(name);
    if (entry == m_entries.end())
        return;
    auto instance = entry->instances.find({interface, protocol});
    if (instance == entry->instances.end())
        return;
    AvahiServiceResolver *resolver = instance->resolver;
    *instance = resolved;
    instance->resolver = resolver;
    report(name);
}

void ServiceBrowser::instanceFailed(int interface, int protocol, const QString &name, const QString &reason)
{
    // A timeout on one family or interface; others may still resolve.
    qCDebug(lcBrowser).noquote() << "resolving" << name << "on interface" << interface << "protocol" << protocol
                                 << "failed:" << reason;
}

void ServiceBrowser::instanceRemoved(int interface, int protocol, const QString &name)
{
    auto entry = m_entries.find(name);
    if (entry == m_entries.end())
        return;
    auto instance = entry->instances.find({interface, protocol});
    if (instance != entry->instances.end()) {
        if (instance->resolver)
            avahi_service_resolver_free(instance->resolver);
        entry->instances.erase(instance);
    }
    report(name);
}

void ServiceBrowser::report(const QString &name)
{
    auto entry = m_entries.find(name);
    if (entry == m_entries.end())
        return;
    DiscoveredService service;
    service.name = name;
    service.type = entry->type;
    service.domain = entry->domain;
    // The lowest (interface, protocol) that resolved gives host, port and TXT: the same
    // registration is seen on every path, so they agree unless it is changing right now.
    bool any = false;
    for (const Instance &instance : std::as_const(entry->instances)) {
        if (!instance.resolved)
            continue;
        if (!any) {
            service.hostName = instance.hostName;
            service.port = instance.port;
            service.txt = instance.txt;
            any = true;
        }
        if (!service.addresses.contains(instance.address))
            service.addresses.append(instance.address);
    }
    std::stable_sort(service.addresses.begin(), service.addresses.end(),
                     [](const QHostAddress &a, const QHostAddress &b) {
                         return DiscoveredService::addressRank(a) < DiscoveredService::addressRank(b);
                     });
    if (!any) {
        const bool wasReported = entry->reported;
        if (entry->instances.isEmpty())
            m_entries.erase(entry);
        else
            entry->reported = false;
        if (wasReported) {
            qCDebug(lcBrowser).noquote() << "gone:" << name;
            Q_EMIT removed(name);
        }
        return;
    }
    if (!entry->reported) {
        entry->reported = true;
        entry->last = service;
        qCDebug(lcBrowser).noquote() << "found:" << name << service.preferredHost() << service.port;
        Q_EMIT found(service);
    } else if (entry->last != service) {
        entry->last = service;
        Q_EMIT updated(service);
    }
}

void ServiceBrowser::forgetAll()
{
    const QList<DiscoveredService> gone = services();
    m_entries.clear();
    for (const DiscoveredService &service : gone)
        Q_EMIT removed(service.name);
}

} // namespace edgelens
