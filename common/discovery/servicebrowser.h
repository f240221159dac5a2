#pragma once

// Watches the network for DNS-SD services of one type through avahi-daemon and reports each
// instance resolved (address, port, TXT) as it appears, changes and goes. Avahi reports an
// instance once per interface and IP family it was seen on; they are merged into one
// DiscoveredService per name, with every address, best first (DiscoveredService::addresses).
// Runs on Qt's event loop (AvahiSession); without a daemon it finds nothing and says so in
// lastError(), and starts finding when the daemon comes.

#include "discovery/discoveredservice.h"

#include <QHash>
#include <QMap>
#include <QObject>
#include <QPair>
#include <QString>

struct AvahiServiceBrowser;
struct AvahiServiceResolver;

namespace edgelens {

class AvahiSession;

class ServiceBrowser final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServiceBrowser)

public:
    explicit ServiceBrowser(QObject *parent = nullptr);
    ~ServiceBrowser() override;

    // False when Avahi cannot be reached at all (no system D-Bus); lastError() says why.
    bool start(const QString &type);
    QString lastError() const;
    QList<DiscoveredService> services() const; // resolved ones, by name

Q_SIGNALS:
    void found(const DiscoveredService &service);
    void updated(const DiscoveredService &service);
    void removed(const QString &name);

private:
    struct Instance
    {
        AvahiServiceResolver *resolver = nullptr;
        bool resolved = false;
        QString hostName;
        quint16 port = 0;
        QHostAddress address;
        QMap<QString, QString> txt;
    };
    struct Entry
    {
        QString type;
        QString domain;
        QMap<QPair<int, int>, Instance> instances; // (interface, protocol)
        bool reported = false;
        DiscoveredService last;
    };

    friend struct ServiceBrowserCallbacks; // Avahi's C callbacks, with Avahi's types

    void startBrowsing();
    void instanceNew(int interface, int protocol, const QString &name, const QString &type, const QString &domain);
    void instanceRemoved(int interface, int protocol, const QString &name);
    void instanceResolved(int interface, int protocol, const QString &name, const Instance &resolved);
    void instanceFailed(int interface, int protocol, const QString &name, const QString &reason);
    void report(const QString &name);
    void forgetAll();

    AvahiSession *m_session = nullptr;
    AvahiServiceBrowser *m_browser = nullptr;
    QString m_type;
    QHash<QString, Entry> m_entries;
};

} // namespace edgelens
