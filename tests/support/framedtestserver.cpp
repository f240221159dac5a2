#include "framedtestserver.h"

#include <QSslSocket>

namespace edgelens::test {

FramedTestServer::FramedTestServer(protocol::FrameReader::Mode mode, QObject *parent, quint32 maxFrameBytes)
    : QTcpServer(parent)
    , m_mode(mode)
    , m_maxFrameBytes(maxFrameBytes)
{
}

FramedTestServer::~FramedTestServer()
{
    // The sockets die with QObject's children, after the subclass's state: cut them loose now
    // so no handler runs against members that are already gone.
    const auto sockets = findChildren<QTcpSocket *>();
    for (QTcpSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
    }
}

bool FramedTestServer::listenOnLoopback(quint16 port)
{
    return listen(QHostAddress::LocalHost, port);
}

void FramedTestServer::dropAllConnections()
{
    const QList<QTcpSocket *> sockets = m_peers.keys();
    for (QTcpSocket *socket : sockets)
        socket->abort(); // emits disconnected: the usual clean-up runs
}

void FramedTestServer::setTls(const QSslConfiguration &configuration)
{
    m_tls = configuration;
}

void FramedTestServer::incomingConnection(qintptr handle)
{
    QTcpSocket *socket = m_tls ? new QSslSocket(this) : new QTcpSocket(this);
    if (!socket->setSocketDescriptor(handle)) {
        qWarning("FramedTestServer: cannot adopt a connection: %s", qPrintable(socket->errorString()));
        socket->deleteLater();
        return;
    }
    ++connections;
    if (m_tls) {
        auto *ssl = static_cast<QSslSocket *>(socket);
        ssl->setSslConfiguration(*m_tls);
        connect(ssl, &QSslSocket::encrypted, this, [this, ssl] { adopt(ssl); });
        connect(ssl, &QSslSocket::disconnected, ssl, &QObject::deleteLater);
        ssl->startServerEncryption();
        return;
    }
    adopt(socket);
}

void FramedTestServer::adopt(QTcpSocket *socket)
{
    auto peer = std::make_shared<Peer>();
    peer->reader = std::make_unique<protocol::FrameReader>(m_mode, m_maxFrameBytes);
    m_peers.insert(socket, peer);
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { readFrom(socket); });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        if (m_peers.remove(socket))
            connectionClosed(socket);
        socket->deleteLater();
    });
    connectionOpened(socket);
}

void FramedTestServer::connectionOpened(QTcpSocket *) {}

void FramedTestServer::connectionClosed(QTcpSocket *) {}

bool FramedTestServer::bytesArrived(QTcpSocket *, const protocol::FrameReader &, const QByteArray &)
{
    return true;
}

void FramedTestServer::preambleArrived(QTcpSocket *) {}

void FramedTestServer::messageArrived(QTcpSocket *socket, const protocol::Message &)
{
    qWarning("FramedTestServer: a v2 message this server does not expect; closing");
    socket->abort();
}

void FramedTestServer::legacyFrameArrived(QTcpSocket *socket, const QByteArray &)
{
    qWarning("FramedTestServer: a legacy frame this server does not expect; closing");
    socket->abort();
}

void FramedTestServer::ignoreInputFrom(QTcpSocket *socket)
{
    if (const auto peer = m_peers.value(socket))
        peer->reader.reset();
}

bool FramedTestServer::isOpen(QTcpSocket *socket) const
{
    return m_peers.contains(socket) && socket->state() == QAbstractSocket::ConnectedState;
}

void FramedTestServer::readFrom(QTcpSocket *socket)
{
    // Held by value: a hook may close the connection, which drops the map's reference.
    const std::shared_ptr<Peer> peer = m_peers.value(socket);
    if (!peer || !peer->reader)
        return;
    const QByteArray bytes = socket->readAll();
    bytesReceived += bytes.size();
    if (!bytesArrived(socket, *peer->reader, bytes) || !peer->reader)
        return;
    peer->reader->append(bytes);
    while (isOpen(socket) && peer->reader) {
        const protocol::FrameReader::Status status = peer->reader->poll();
        if (peer->reader->preambleSeen() && !peer->preambleReported) {
            peer->preambleReported = true;
            preambleArrived(socket);
        }
        if (status == protocol::FrameReader::Status::NeedMore)
            return;
        if (status == protocol::FrameReader::Status::Error) {
            socket->abort();
            return;
        }
        if (peer->reader->mode() == protocol::FrameReader::Mode::Legacy)
            legacyFrameArrived(socket, peer->reader->takeLegacyPayload());
        else
            messageArrived(socket, peer->reader->takeMessage());
    }
}

} // namespace edgelens::test
