#pragma once

// Announces a running DetectionServer on the local network as _edgelens._tcp (DNS-SD over
// mDNS, through avahi-daemon): on the interfaces it listens on, with what a client needs before
// connecting in the TXT record (DeviceAnnouncement). Without Avahi the server runs as before;
// that is a log line.

#include <QObject>
#include <QString>

namespace edgelens {

class DetectionServer;
class ServiceAnnouncer;
struct DeviceAnnouncement;

class DeviceAnnouncer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeviceAnnouncer)

public:
    explicit DeviceAnnouncer(QObject *parent = nullptr);
    ~DeviceAnnouncer() override;

    // Call once the server listens (and its HTTP listener, if any, was added). False when
    // nothing is announced: loopback only, or Avahi unreachable; *why says which.
    bool start(const DetectionServer &server, QString *why = nullptr);
    // Goodbye on the network (SIGTERM: no new clients should come).
    void withdraw();

    static DeviceAnnouncement describe(const DetectionServer &server);

Q_SIGNALS:
    void established(const QString &name);

private:
    ServiceAnnouncer *m_announcer = nullptr;
};

} // namespace edgelens
