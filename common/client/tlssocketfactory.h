#pragma once

// TLS connections to devices (QSslSocket, TLS 1.2 or later) and the decision whether a device
// is who it claims to be, made after the handshake and before a transport may write a byte:
//
// 1. A pinned fingerprint (DeviceSpec::tlsFingerprint) accepts exactly that certificate.
// 2. Otherwise a certificate that verifies for the host name against the CAs is accepted.
// 3. Otherwise the fingerprint remembered in KnownDevices must match; a different one is
//    refused (fingerprintChanged) until the user forgets the old one.
// 4. Otherwise the device is new: trustNeeded asks (the CLI trusts and records it like ssh,
//    the app shows a dialog) and decide() answers, now or later. Without anyone listening the
//    certificate is refused.
//
// A refused device gets Transport::Loss::Refused: the pool stops using it and says why.

#include "client/devicespec.h"
#include "client/knowndevices.h"
#include "client/socketfactory.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>

class QSslSocket;

namespace edgelens {

class TlsSocketFactory final : public QObject, public SocketFactory
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TlsSocketFactory)

public:
    enum class Decision {
        Reject,       // do not connect
        AcceptOnce,   // connect for as long as this program runs; not recorded
        AcceptAlways, // connect and record it in the known-devices file
    };
    Q_ENUM(Decision)

    explicit TlsSocketFactory(QObject *parent = nullptr);
    ~TlsSocketFactory() override;

    void setKnownDevices(const KnownDevices &known);
    KnownDevices knownDevices() const { return m_known; }
    // Trusted in addition to the system's CAs (a private CA; tests).
    void addCaCertificates(const QList<QSslCertificate> &certificates);

    QTcpSocket *connectTo(const DeviceSpec &device, QObject *parent, std::function<void()> established,
                          std::function<void(const QString &reason)> rejected) override;

    // The answer to trustNeeded for a device key (DeviceSpec::key()) and the fingerprint asked about.
    void decide(const QString &deviceKey, const QString &fingerprint, Decision decision);

Q_SIGNALS:
    // A device not seen before offers a certificate no CA vouches for: call decide().
    void trustNeeded(const edgelens::DeviceSpec &device, const QString &fingerprint);
    // The device's certificate is not the one pinned or remembered: it is not used.
    void fingerprintChanged(const edgelens::DeviceSpec &device, const QString &expected, const QString &offered,
                            bool pinned);
    // AcceptAlways recorded a device in the known-devices file.
    void deviceRemembered(const edgelens::DeviceSpec &device, const QString &fingerprint, const QString &file);

private:
    struct Waiting
    {
        QPointer<QSslSocket> socket;
        DeviceSpec device;
        QString fingerprint;
        std::function<void()> established;
        std::function<void(const QString &)> rejected;
    };

    void check(const DeviceSpec &device, QSslSocket *socket, bool caValid, const std::function<void()> &established,
               const std::function<void(const QString &)> &rejected);

    KnownDevices m_known;
    QList<QSslCertificate> m_extraCas;
    QHash<QString, QList<Waiting>> m_waiting;  // device key -> connections waiting for decide()
    QHash<QString, QString> m_acceptedOnce;    // device key -> fingerprint
};

} // namespace edgelens
