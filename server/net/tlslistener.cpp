#include "tlslistener.h"

#include "clientconnection.h"

#include <QLoggingCategory>
#include <QSslConfiguration>
#include <QSslServer>
#include <QSslSocket>

Q_LOGGING_CATEGORY(lcTlsListener, "edgelens.server.tls")

namespace edgelens {

namespace {

// A client that has not finished its handshake by then is dropped; it holds no slot meanwhile.
constexpr int kHandshakeTimeoutMs = 10'000;

} // namespace

TlsListener::TlsListener(const TlsIdentity &identity, DetectionService *service, const ServerConfig *config,
                         QObject *parent)
    : TcpListener(service, config, parent)
    , m_identity(identity)
{
}

QTcpServer *TlsListener::createServer()
{
    auto *server = new QSslServer(this);
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(m_identity.certificate);
    configuration.setPrivateKey(m_identity.key);
    configuration.setProtocol(QSsl::TlsV1_2OrLater);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // clients authenticate with the token
    server->setSslConfiguration(configuration);
    server->setHandshakeTimeout(kHandshakeTimeoutMs);
    connect(server, &QSslServer::errorOccurred, this, [](QSslSocket *socket, QAbstractSocket::SocketError error) {
        if (error == QAbstractSocket::RemoteHostClosedError && !socket->isEncrypted()) {
            qCWarning(lcTlsListener).noquote() << ClientConnection::peerName(socket)
                                               << "closed the connection during the TLS handshake";
            return;
        }
        qCWarning(lcTlsListener).noquote() << ClientConnection::peerName(socket)
                                           << "TLS handshake failed:" << socket->errorString();
    });
    return server;
}

} // namespace edgelens
