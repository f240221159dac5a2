#include "httplistener.h"

#include "http/deepstackanswer.h"
#include "http/deepstackapi.h"
#include "http/httpconnection.h"
#include "net/auththrottle.h"
#include "net/clientconnection.h"
#include "net/detectionengine.h"
#include "net/detectionservice.h"
#include "net/tlsidentity.h"

#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSslSocket>
#include <QTcpServer>
#include <QTimer>

Q_LOGGING_CATEGORY(lcHttp, "edgelens.http")

namespace edgelens {

namespace {

// As TlsListener: a client that has not finished its TLS handshake by then is dropped.
constexpr int kHandshakeTimeoutMs = 10'000;
// Refused connections get their short answer (a few hundred bytes, flushed at once on a
// working network) while at most this many are flushing; past it new ones are dropped without
// a word, so a connection flood costs a bounded amount.
constexpr int kMaxRefusing = 256;
constexpr int kRefusalGraceMs = 2000;

} // namespace

// Hands each accepted descriptor straight to the listener, which decides before any socket
// object reads a byte.
class HttpListener::AcceptingServer final : public QTcpServer
{
public:
    explicit AcceptingServer(HttpListener *listener)
        : QTcpServer(listener)
        , m_listener(listener)
    {
    }

protected:
    void incomingConnection(qintptr handle) override { m_listener->accept(handle); }

private:
    HttpListener *m_listener;
};

HttpListener::HttpListener(DetectionService *service, const HttpLimits &limits, QObject *parent)
    : Listener(parent)
    , m_service(service)
    , m_limits(limits)
    , m_api(std::make_unique<DeepStackApi>(service, this))
    , m_bodyBudget(limits.bodyBudgetBytes)
{
}

HttpListener::~HttpListener()
{
    stop();
    // Before this object's members go: a connection's last words reach back into them.
    qDeleteAll(findChildren<HttpConnection *>(QString(), Qt::FindDirectChildrenOnly));
}

void HttpListener::useTls(const TlsIdentity &identity)
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setLocalCertificate(identity.certificate);
    configuration.setPrivateKey(identity.key);
    configuration.setProtocol(QSsl::TlsV1_2OrLater);
    configuration.setPeerVerifyMode(QSslSocket::VerifyNone); // clients authenticate with the api_key
    configuration.setAllowedNextProtocols({QSslConfiguration::NextProtocolHttp1_1});
    m_tls = configuration;
}

bool HttpListener::listen(const QHostAddress &host, quint16 port, QString *error)
{
    if (m_tls && m_limits.proxyProtocol) {
        *error = QStringLiteral("the PROXY protocol works on plaintext ports only");
        return false;
    }
    if (!m_server)
        m_server = new AcceptingServer(this);
    if (!m_server->listen(host, port)) {
        *error = m_server->errorString();
        return false;
    }
    qCInfo(lcHttp).noquote() << (m_tls ? "HTTPS" : "HTTP") << "API (DeepStack / CodeProject.AI) on"
                             << m_server->serverAddress().toString() << m_server->serverPort() << "(at most"
                             << m_limits.maxConnections << "connections," << m_limits.maxPerAddress << "per address,"
                             << m_limits.bodyBudgetBytes / (1024 * 1024) << "MiB of request bodies)";
    return true;
}

bool HttpListener::isListening() const
{
    return m_server && m_server->isListening();
}

quint16 HttpListener::serverPort() const
{
    return isListening() ? m_server->serverPort() : 0;
}

QHostAddress HttpListener::serverAddress() const
{
    return isListening() ? m_server->serverAddress() : QHostAddress();
}

int HttpListener::connectionCount() const
{
    return int(m_connections.size());
}

int HttpListener::runningRequests() const
{
    int running = 0;
    for (const HttpConnection *c : m_connections)
        running += c->isHandling() ? 1 : 0;
    return running;
}

bool HttpListener::isReady() const
{
    return !m_draining && isListening() && m_service->engine() && m_service->engine()->modelCount() > 0;
}

QTcpSocket *HttpListener::createSocket(qintptr handle)
{
    QTcpSocket *socket = m_tls ? new QSslSocket : new QTcpSocket;
    if (!socket->setSocketDescriptor(handle)) {
        delete socket;
        return nullptr;
    }
    auto *ssl = qobject_cast<QSslSocket *>(socket);
    if (!ssl)
        return socket;
    ssl->setSslConfiguration(*m_tls);
    connect(ssl, &QSslSocket::sslErrors, ssl, [ssl](const QList<QSslError> &errors) {
        qCWarning(lcHttp).noquote() << ssl->peerAddress().toString() << "TLS errors:" << errors.value(0).errorString();
    });
    connect(ssl, &QAbstractSocket::errorOccurred, ssl, [ssl](QAbstractSocket::SocketError error) {
        if (ssl->isEncrypted())
            return;
        qCWarning(lcHttp).noquote() << ssl->peerAddress().toString()
                                    << (error == QAbstractSocket::RemoteHostClosedError
                                            ? QStringLiteral("closed the connection during the TLS handshake")
                                            : QStringLiteral("TLS handshake failed: ") + ssl->errorString());
    });
    QTimer::singleShot(kHandshakeTimeoutMs, ssl, [ssl] {
        if (!ssl->isEncrypted())
            ssl->abort();
    });
    return socket;
}

void HttpListener::accept(qintptr handle)
{
    QTcpSocket *socket = createSocket(handle);
    if (!socket)
        return;
    const QHostAddress peer = AuthThrottle::normalized(socket->peerAddress());
    if (m_draining) {
        refuseEarly(socket, 503, QStringLiteral("the server is shutting down"), 5);
        return;
    }
    if (m_connections.size() >= m_limits.maxConnections) {
        refuseEarly(socket, 503,
                    QStringLiteral("the HTTP port already has %1 connections (its limit); try again later")
                        .arg(m_connections.size()),
                    5);
        return;
    }
    // A direct client holds a per-address slot for its connection's life; behind a balancer
    // (PROXY header) or a trusted reverse proxy the client is known later.
    QHostAddress slot;
    if (!m_limits.proxyProtocol && !m_limits.trustedProxies.contains(peer)) {
        if (!takeAddressSlot(peer)) {
            refuseEarly(socket, 429,
                        QStringLiteral("too many connections from %1 (the limit is %2)")
                            .arg(peer.toString())
                            .arg(m_limits.maxPerAddress),
                        5);
            return;
        }
        slot = peer;
    }
    auto *connection = new HttpConnection(socket, this, m_service, m_limits, slot);
    m_connections.insert(connection);
    connect(connection, &HttpConnection::answered, this, &HttpListener::checkDrained);
    connect(connection, &HttpConnection::closed, this, [this](HttpConnection *closed) {
        m_connections.remove(closed);
        checkDrained();
    });
    if (auto *ssl = qobject_cast<QSslSocket *>(socket))
        ssl->startServerEncryption();
}

void HttpListener::refuseEarly(QTcpSocket *socket, int status, const QString &message, int retryAfterSeconds)
{
    if (m_refusing >= kMaxRefusing || qobject_cast<QSslSocket *>(socket)) {
        // Under a flood, or before a TLS handshake (no plaintext answer can be read there).
        socket->abort();
        socket->deleteLater();
        return;
    }
    qCInfo(lcHttp).noquote() << ClientConnection::peerName(socket) << "refused:" << status << message;
    ++m_refusing;
    socket->setParent(this);
    HttpResponse response;
    response.status = status;
    response.retryAfterSeconds = retryAfterSeconds;
    response.body = QJsonDocument(DeepStackAnswer::error(status, message, 0)).toJson(QJsonDocument::Compact);
    // What the client already sent is read and dropped, so closing does not reset the answer away.
    connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->skip(socket->bytesAvailable()); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        --m_refusing;
        socket->deleteLater();
        checkDrained();
    });
    QTimer::singleShot(kRefusalGraceMs, socket, [socket] { socket->abort(); });
    socket->write(response.serialize(true));
    socket->disconnectFromHost();
}

bool HttpListener::takeAddressSlot(const QHostAddress &client)
{
    int &count = m_perAddress[AuthThrottle::normalized(client).toString()];
    if (count >= m_limits.maxPerAddress)
        return false;
    ++count;
    return true;
}

void HttpListener::releaseAddressSlot(const QHostAddress &client)
{
    const QString key = AuthThrottle::normalized(client).toString();
    const auto it = m_perAddress.find(key);
    if (it != m_perAddress.end() && --it.value() <= 0)
        m_perAddress.erase(it);
}

void HttpListener::dispatch(HttpConnection *connection, HttpRequest &&request)
{
    m_api->handle(connection, std::move(request));
}

void HttpListener::drain()
{
    m_draining = true;
    if (m_server)
        m_server->close();
    for (HttpConnection *connection : QSet<HttpConnection *>(m_connections))
        connection->drain(); // may close at once
    checkDrained();
}

void HttpListener::checkDrained()
{
    if (m_draining && !m_drainReported && m_connections.isEmpty() && m_refusing == 0) {
        m_drainReported = true;
        emit drained();
    }
}

void HttpListener::stop()
{
    m_draining = true;
    if (m_server)
        m_server->close();
    for (HttpConnection *connection : QSet<HttpConnection *>(m_connections))
        connection->abort();
}

} // namespace edgelens
