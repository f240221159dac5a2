#include "discovery/serviceannouncer.h"

#include "discovery/avahisession.h"

#include <QLoggingCategory>

#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>

Q_LOGGING_CATEGORY(lcAnnouncer, "edgelens.discovery.announcer")

namespace edgelens {

struct ServiceAnnouncerCallbacks
{
    static void group(AvahiEntryGroup *group, AvahiEntryGroupState state, void *userdata)
    {
        static_cast<ServiceAnnouncer *>(userdata)->onGroupState(group, int(state));
    }
};

ServiceAnnouncer::ServiceAnnouncer(QObject *parent)
    : QObject(parent)
    , m_session(new AvahiSession(this))
{
    connect(m_session, &AvahiSession::running, this, &ServiceAnnouncer::registerService);
    connect(m_session, &AvahiSession::reregister, this, &ServiceAnnouncer::resetGroup);
    connect(m_session, &AvahiSession::lost, this, [this] {
        // The client frees the group with itself.
        m_group = nullptr;
        m_name.clear();
    });
}

ServiceAnnouncer::~ServiceAnnouncer()
{
    withdraw();
}

bool ServiceAnnouncer::announce(const Service &service, QString *error)
{
    m_service = service;
    m_tryName = service.name;
    if (!m_session->start()) {
        if (error)
            *error = m_session->lastError();
        return false;
    }
    if (m_session->isRunning())
        registerService();
    return true;
}

void ServiceAnnouncer::withdraw()
{
    if (m_group) {
        avahi_entry_group_free(m_group); // removes the records: the daemon sends goodbyes
        m_group = nullptr;
    }
    m_service.type.clear();
    m_name.clear();
}

void ServiceAnnouncer::resetGroup()
{
    if (m_group)
        avahi_entry_group_reset(m_group);
    m_name.clear();
}

void ServiceAnnouncer::registerService()
{
    AvahiClient *client = m_session->client();
    if (m_service.type.isEmpty() || !client || !m_session->isRunning())
        return;
    if (!m_group) {
        m_group = avahi_entry_group_new(client, &ServiceAnnouncerCallbacks::group, this);
        if (!m_group) {
            const QString reason = QString::fromUtf8(avahi_strerror(avahi_client_errno(client)));
            qCWarning(lcAnnouncer).noquote() << "cannot announce:" << reason;
            Q_EMIT failed(reason);
            return;
        }
    }
    if (!avahi_entry_group_is_empty(m_group))
        return; // already registered; the daemon re-announces it itself
    if (m_tryName.isEmpty())
        m_tryName = QStringLiteral("%1 on %2").arg(m_service.namePrefix, m_session->hostName());

    AvahiStringList *txt = nullptr;
    for (auto it = m_service.txt.crbegin(); it != m_service.txt.crend(); ++it) // prepend keeps the order
        txt = avahi_string_list_add_pair(txt, it->first.toUtf8().constData(), it->second.toUtf8().constData());
    const AvahiProtocol protocol = m_service.family == Family::IPv4 ? AVAHI_PROTO_INET
        : m_service.family == Family::IPv6                         ? AVAHI_PROTO_INET6
                                                                   : AVAHI_PROTO_UNSPEC;
    const AvahiIfIndex interface = m_service.interfaceIndex < 0 ? AVAHI_IF_UNSPEC : m_service.interfaceIndex;
    int result = avahi_entry_group_add_service_strlst(m_group, interface, protocol, AvahiPublishFlags(0),
                                                      m_tryName.toUtf8().constData(),
                                                      m_service.type.toUtf8().constData(), nullptr, nullptr,
                                                      m_service.port, txt);
    avahi_string_list_free(txt);
    if (result == AVAHI_ERR_COLLISION) {
        // Taken by a service registered on this machine: pick the next name at once.
        char *next = avahi_alternative_service_name(m_tryName.toUtf8().constData());
        m_tryName = QString::fromUtf8(next);
        avahi_free(next);
        avahi_entry_group_reset(m_group);
        registerService();
        return;
    }
    if (result >= 0)
        result = avahi_entry_group_commit(m_group);
    if (result < 0) {
        const QString reason = QString::fromUtf8(avahi_strerror(result));
        qCWarning(lcAnnouncer).noquote() << "cannot announce" << m_tryName << ":" << reason;
        Q_EMIT failed(reason);
    }
}


void ServiceAnnouncer::onGroupState(AvahiEntryGroup *group, int state)
{
    switch (AvahiEntryGroupState(state)) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
        m_name = m_tryName;
        qCInfo(lcAnnouncer).noquote() << "announced as" << m_name << m_service.type << "port" << m_service.port;
        Q_EMIT established(m_name);
        break;
    case AVAHI_ENTRY_GROUP_COLLISION: {
        // Another machine on the network has this name.
        char *next = avahi_alternative_service_name(m_tryName.toUtf8().constData());
        qCInfo(lcAnnouncer).noquote() << "the name" << m_tryName << "is taken; trying" << next;
        m_tryName = QString::fromUtf8(next);
        avahi_free(next);
        avahi_entry_group_reset(group);
        registerService();
        break;
    }
    case AVAHI_ENTRY_GROUP_FAILURE: {
        const QString reason =
            QString::fromUtf8(avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
        qCWarning(lcAnnouncer).noquote() << "announcement failed:" << reason;
        Q_EMIT failed(reason);
        break;
    }
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
        break;
    }
}

} // namespace edgelens
