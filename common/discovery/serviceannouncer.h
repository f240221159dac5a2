#pragma once

// Announces one DNS-SD service (name, type, port, TXT) through avahi-daemon, on every interface
// or one, and keeps it announced: a name already taken on the network gets Avahi's alternative
// ("EdgeLens on pi #2"), a restarted daemon gets it again. withdraw() (or destruction) says
// goodbye, so browsers drop it at once rather than when its records expire.

#include <QList>
#include <QObject>
#include <QPair>
#include <QString>

struct AvahiEntryGroup;

namespace edgelens {

class AvahiSession;

class ServiceAnnouncer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServiceAnnouncer)

public:
    enum class Family { Any, IPv4, IPv6 };

    struct Service
    {
        QString name;             // instance name; empty: "<prefix> on <host name>" (see namePrefix)
        QString namePrefix = QStringLiteral("EdgeLens");
        QString type;             // "_edgelens._tcp"
        quint16 port = 0;
        QList<QPair<QString, QString>> txt; // key=value, in this order
        int interfaceIndex = -1;  // -1: all interfaces
        Family family = Family::Any;
    };

    explicit ServiceAnnouncer(QObject *parent = nullptr);
    ~ServiceAnnouncer() override;

    // Starts announcing; false (with *error) only when there is no way to reach Avahi at all
    // (no system D-Bus). A daemon that is not running yet is waited for.
    bool announce(const Service &service, QString *error = nullptr);
    void withdraw();
    QString announcedName() const { return m_name; } // empty until established

Q_SIGNALS:
    void established(const QString &name);
    void failed(const QString &reason);

private:
    friend struct ServiceAnnouncerCallbacks; // Avahi's C callback, with Avahi's types
    void onGroupState(AvahiEntryGroup *group, int state);
    void registerService();
    void resetGroup();

    AvahiSession *m_session = nullptr;
    AvahiEntryGroup *m_group = nullptr;
    Service m_service;
    QString m_tryName;
    QString m_name;
};

} // namespace edgelens
