#include "discovery/avahisession.h"

#include <QLoggingCategory>
#include <QTimer>

#include <avahi-client/client.h>
#include <avahi-common/error.h>

Q_LOGGING_CATEGORY(lcAvahiSession, "edgelens.discovery.avahi")

namespace edgelens {

struct AvahiSessionCallbacks
{
    static void client(AvahiClient *client, AvahiClientState state, void *userdata)
    {
        static_cast<AvahiSession *>(userdata)->onState(client, int(state));
    }
};

AvahiSession::AvahiSession(QObject *parent)
    : QObject(parent)
    , m_poll(std::make_unique<QtAvahiPoll>())
{
}

AvahiSession::~AvahiSession()
{
    // The client's watches and timeouts live in m_poll: the client goes first.
    if (m_client)
        avahi_client_free(m_client);
}

bool AvahiSession::start()
{
    return m_client || connectClient();
}

bool AvahiSession::isRunning() const
{
    return m_running;
}

QString AvahiSession::hostName() const
{
    const char *name = m_client && m_running ? avahi_client_get_host_name(m_client) : nullptr;
    return name ? QString::fromUtf8(name) : QString();
}

bool AvahiSession::connectClient()
{
    int error = 0;
    // NO_FAIL: without a running daemon the client waits for one instead of failing, so a
    // server started before avahi-daemon still gets announced once it is up.
    AvahiClient *client = avahi_client_new(m_poll->api(), AVAHI_CLIENT_NO_FAIL, &AvahiSessionCallbacks::client,
                                           this, &error);
    if (!client) {
        m_client = nullptr; // the callback may have seen it before it was freed
        m_lastError = QString::fromUtf8(avahi_strerror(error));
        qCInfo(lcAvahiSession).noquote() << "no mDNS (Avahi):" << m_lastError;
        return false;
    }
    m_client = client;
    return true;
}

void AvahiSession::dropClient()
{
    if (m_running) {
        m_running = false;
        Q_EMIT lost(m_lastError);
    }
    if (m_client) {
        avahi_client_free(m_client);
        m_client = nullptr;
    }
}


void AvahiSession::onState(AvahiClient *client, int state)
{
    // Called from inside avahi_client_new too, before m_client is set.
    switch (AvahiClientState(state)) {
    case AVAHI_CLIENT_S_RUNNING:
        if (!m_client)
            m_client = client;
        if (!m_running) {
            m_running = true;
            qCDebug(lcAvahiSession) << "avahi-daemon ready, host name" << avahi_client_get_host_name(client);
            Q_EMIT running();
        }
        break;
    case AVAHI_CLIENT_S_COLLISION:
    case AVAHI_CLIENT_S_REGISTERING:
        // The daemon is (re)establishing its host name; registrations are redone once running.
        if (m_running) {
            m_running = false; // running() comes again when the name is settled
            Q_EMIT reregister();
        }
        break;
    case AVAHI_CLIENT_CONNECTING:
        qCInfo(lcAvahiSession) << "waiting for avahi-daemon (not running)";
        break;
    case AVAHI_CLIENT_FAILURE: {
        const int error = avahi_client_errno(client);
        m_lastError = QString::fromUtf8(avahi_strerror(error));
        if (error == AVAHI_ERR_DISCONNECTED) {
            // The daemon went away (restart): a new client waits for it to return. Not from
            // inside the client's own callback, which still uses it.
            qCInfo(lcAvahiSession) << "avahi-daemon went away; waiting for it";
            QTimer::singleShot(0, this, [this] {
                dropClient();
                connectClient();
            });
        } else {
            qCWarning(lcAvahiSession).noquote() << "Avahi client failed:" << m_lastError;
            QTimer::singleShot(0, this, &AvahiSession::dropClient);
        }
        if (m_running) {
            m_running = false;
            Q_EMIT lost(m_lastError);
        }
        break;
    }
    }
}

} // namespace edgelens
