#pragma once

// One connection to the system's avahi-daemon (over D-Bus, through libavahi-client), driven by
// Qt's event loop (QtAvahiPoll). A daemon that is not running yet, or that restarts, is waited
// for: running() comes whenever it is (again) ready, lost() whenever what was registered or
// browsed through it is gone. Nothing here fails the program: problems are log lines and
// lastError().

#include "discovery/qtavahipoll.h"

#include <QObject>
#include <QString>

#include <memory>

struct AvahiClient;

namespace edgelens {

class AvahiSession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AvahiSession)

public:
    explicit AvahiSession(QObject *parent = nullptr);
    ~AvahiSession() override;

    // Connects (or starts waiting for the daemon). False when even that cannot be done, e.g.
    // no system D-Bus: lastError() says why.
    bool start();
    bool isRunning() const;
    AvahiClient *client() const { return m_client; } // valid between running() and lost()
    QString lastError() const { return m_lastError; }
    QString hostName() const; // the daemon's host name, e.g. "pi" (empty when not running)

Q_SIGNALS:
    void running();
    // Registrations and browsers made through client() are invalid from here on (the client
    // may be freed right after); running() follows when the daemon is back.
    void lost(const QString &reason);
    // The daemon's host name changed or collided: announcements must be registered again.
    void reregister();

private:
    friend struct AvahiSessionCallbacks; // Avahi's C callback, with Avahi's types
    void onState(AvahiClient *client, int state);
    bool connectClient();
    void dropClient();

    std::unique_ptr<QtAvahiPoll> m_poll;
    AvahiClient *m_client = nullptr;
    bool m_running = false;
    QString m_lastError;
};

} // namespace edgelens
