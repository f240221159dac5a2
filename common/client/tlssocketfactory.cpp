#include "tlssocketfactory.h"

#include "protocol/tlsfingerprint.h"

#include <QLoggingCategory>
#include <QMetaMethod>
#include <QSslConfiguration>
#include <QSslSocket>

#include <memory>

Q_LOGGING_CATEGORY(lcClientTls, "edgelens.client.tls", QtInfoMsg)

namespace edgelens {

TlsSocketFactory::TlsSocketFactory(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<edgelens::DeviceSpec>();
}

TlsSocketFactory::~TlsSocketFactory() = default;

void TlsSocketFactory::setKnownDevices(const KnownDevices &known)
{
    m_known = known;
}

void TlsSocketFactory::addCaCertificates(const QList<QSslCertificate> &certificates)
{
    m_extraCas += certificates;
}

QTcpSocket *TlsSocketFactory::connectTo(const DeviceSpec &device, QObject *parent, std::function<void()> established,
                                        std::function<void(const QString &reason)> rejected)
{
    auto *socket = new QSslSocket(parent);
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setProtocol(QSsl::TlsV1_2OrLater);
    config.setPeerVerifyMode(QSslSocket::VerifyPeer);
    if (!m_extraCas.isEmpty())
        config.addCaCertificates(m_extraCas);
    socket->setSslConfiguration(config);
    // CA verification errors do not stop the handshake: what they mean (pin, known device,
    // first use) is decided once it is done, and nothing is written before that.
    auto caErrors = std::make_shared<QList<QSslError>>();
    connect(socket, &QSslSocket::sslErrors, socket, [socket, caErrors](const QList<QSslError> &errors) {
        *caErrors += errors;
        socket->ignoreSslErrors();
    });
    connect(socket, &QSslSocket::encrypted, this, [this, device, socket, caErrors, established, rejected] {
        check(device, socket, caErrors->isEmpty(), established, rejected);
    });
    socket->connectToHostEncrypted(device.host, device.port);
    return socket;
}

void TlsSocketFactory::check(const DeviceSpec &device, QSslSocket *socket, bool caValid,
                             const std::function<void()> &established,
                             const std::function<void(const QString &)> &rejected)
{
    const QList<QSslCertificate> chain = socket->peerCertificateChain();
    if (chain.isEmpty()) {
        rejected(QStringLiteral("The device at %1 sent no TLS certificate.").arg(device.name()));
        return;
    }
    const QString offered = TlsFingerprint::ofDer(chain.first().toDer());
    if (!device.tlsFingerprint.isEmpty()) {
        const QString pinned = TlsFingerprint::normalize(device.tlsFingerprint);
        if (offered == pinned) {
            established();
            return;
        }
        qCWarning(lcClientTls).noquote() << device.name() << "offered" << offered << "but" << pinned << "is pinned";
        Q_EMIT fingerprintChanged(device, pinned, offered, true);
        rejected(QStringLiteral("The TLS certificate of %1 does not have the pinned fingerprint: expected %2, "
                                "offered %3. Nothing was sent to it.")
                     .arg(device.name(), pinned.isEmpty() ? device.tlsFingerprint : pinned, offered));
        return;
    }
    if (caValid) {
        established();
        return;
    }
    if (const auto known = m_known.fingerprint(device.key())) {
        if (*known == offered) {
            established();
            return;
        }
        qCWarning(lcClientTls).noquote() << device.name() << "offered" << offered << "but" << *known << "is known";
        Q_EMIT fingerprintChanged(device, *known, offered, false);
        rejected(QStringLiteral("WARNING: THE TLS CERTIFICATE OF %1 HAS CHANGED. Known fingerprint %2, offered "
                                "fingerprint %3. Someone may be impersonating the device, or it has a new "
                                "certificate. Nothing was sent to it. If you trust the change, forget the old "
                                "one with: edgelens-cli devices forget %1")
                     .arg(device.name(), *known, offered));
        return;
    }
    if (m_acceptedOnce.value(device.key()) == offered) {
        established();
        return;
    }
    if (!isSignalConnected(QMetaMethod::fromSignal(&TlsSocketFactory::trustNeeded))) {
        rejected(QStringLiteral("The TLS certificate of %1 (fingerprint %2) is not signed by a trusted authority and "
                                "the device is not known.")
                     .arg(device.name(), offered));
        return;
    }
    QList<Waiting> &waiting = m_waiting[device.key()];
    const bool alreadyAsked = std::any_of(waiting.cbegin(), waiting.cend(),
                                          [&offered](const Waiting &w) { return w.fingerprint == offered; });
    waiting.append({socket, device, offered, established, rejected});
    if (!alreadyAsked)
        Q_EMIT trustNeeded(device, offered);
}

void TlsSocketFactory::decide(const QString &deviceKey, const QString &fingerprint, Decision decision)
{
    const QString key = deviceKey.toLower();
    const QString normalized = TlsFingerprint::normalize(fingerprint);
    const QList<Waiting> waiting = m_waiting.take(key);
    if (decision == Decision::AcceptAlways) {
        QString error;
        if (m_known.remember(key, normalized, &error)) {
            DeviceSpec device = waiting.isEmpty() ? DeviceSpec() : waiting.first().device;
            Q_EMIT deviceRemembered(device, normalized, m_known.path());
        } else {
            qCWarning(lcClientTls).noquote() << error;
        }
    }
    if (decision != Decision::Reject)
        m_acceptedOnce.insert(key, normalized);
    for (const Waiting &w : waiting) {
        if (!w.socket)
            continue;
        if (decision != Decision::Reject && w.fingerprint == normalized)
            w.established();
        else
            w.rejected(QStringLiteral("The TLS certificate of %1 (fingerprint %2) was not trusted.")
                           .arg(w.device.name(), w.fingerprint));
    }
}

} // namespace edgelens
