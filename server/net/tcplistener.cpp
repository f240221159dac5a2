#include "tcplistener.h"

#include "clientconnection.h"
#include "detectionservice.h"
#include "serverconfig.h"

#include <QLoggingCategory>
#include <QTcpServer>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcListener, "edgelens.server.listener")

namespace edgelens {

namespace {

// Refused connections are held only long enough to learn their protocol; past this many
// more, new ones are dropped without a word so a connection flood costs nothing.
constexpr int kMaxRefusedConnections = 32;

} // namespace

TcpListener::TcpListener(DetectionService *service, const ServerConfig *config, QObject *parent)
    : Listener(parent)
    , m_service(service)
    , m_config(config)
{
}

TcpListener::~TcpListener()
{
    stop();
}

QTcpServer *TcpListener::createServer()
{
    return new QTcpServer(this);
}

bool TcpListener::listen(const QHostAddress &host, quint16 port, QString *error)
{
    if (!m_server) {
        m_server = createServer();
        if (!m_server) {
            *error = QStringLiteral("no %1 listener could be set up").arg(kind());
            return false;
        }
        m_server->setMaxPendingConnections(m_config->maxConnections + kMaxRefusedConnections);
        connect(m_server, &QTcpServer::pendingConnectionAvailable, this, &TcpListener::acceptConnections);
    }
    if (!m_server->listen(host, port)) {
        *error = m_server->errorString();
        return false;
    }
    return true;
}

bool TcpListener::isListening() const
{
    return m_server && m_server->isListening();
}

quint16 TcpListener::serverPort() const
{
    return isListening() ? m_server->serverPort() : 0;
}

QHostAddress TcpListener::serverAddress() const
{
    return isListening() ? m_server->serverAddress() : QHostAddress();
}

int TcpListener::connectionCount() const
{
    return int(m_connections.size());
}

int TcpListener::runningRequests() const
{
    int running = 0;
    for (ClientConnection *c : std::as_const(m_connections))
        running += c->inFlight();
    return running;
}

void TcpListener::acceptConnections()
{
    while (m_server && m_server->hasPendingConnections()) {
        QTcpSocket *socket = m_server->nextPendingConnection();
        if (m_draining) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        const bool full = m_service->connectionCount() >= m_config->maxConnections;
        if (full && m_refused.size() >= kMaxRefusedConnections) {
            qCWarning(lcListener).noquote() << ClientConnection::peerName(socket)
                                            << "dropped: connection limit reached and too many refusals pending";
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto *connection = new ClientConnection(socket, ClientConnection::Context{m_service, m_config, kind()}, this);
        connect(connection, &ClientConnection::closed, this, [this, connection] { forgetConnection(connection); });
        if (full) {
            m_refused.insert(connection);
            connection->refuse(protocol::ErrorCode::Busy,
                               QStringLiteral("the server already has %1 connections (its limit); try again later")
                                   .arg(m_service->connectionCount()));
        } else {
            m_connections.insert(connection);
            m_service->connectionOpened();
        }
    }
}

void TcpListener::forgetConnection(ClientConnection *connection)
{
    if (m_connections.remove(connection))
        m_service->connectionClosed();
    m_refused.remove(connection);
    checkDrained();
}

void TcpListener::checkDrained()
{
    if (m_draining && m_connections.isEmpty() && m_refused.isEmpty()) {
        m_draining = false;
        emit drained();
    }
}

void TcpListener::drain()
{
    if (m_draining)
        return;
    m_draining = true;
    if (m_server)
        m_server->close();
    const QList<ClientConnection *> all = (m_connections + m_refused).values();
    for (ClientConnection *c : all)
        c->drain(); // may close synchronously and call forgetConnection
    checkDrained();
}

void TcpListener::stop()
{
    m_draining = false;
    if (m_server) {
        m_server->close();
        m_server->deleteLater();
        m_server = nullptr;
    }
    const QList<ClientConnection *> all = (m_connections + m_refused).values();
    for (qsizetype i = 0; i < m_connections.size(); ++i)
        m_service->connectionClosed();
    m_connections.clear();
    m_refused.clear();
    for (ClientConnection *c : all) {
        disconnect(c, nullptr, this, nullptr);
        c->abort();
    }
}

} // namespace edgelens
