#include "legacybenchclient.h"

#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTimer>

Q_LOGGING_CATEGORY(lcLegacyBench, "edgelens.bench.legacy")

namespace edgelens {

LegacyBenchClient::LegacyBenchClient(const QString &host, quint16 port, std::function<QByteArray()> nextImage,
                                     QObject *parent)
    : QObject(parent)
    , m_host(host)
    , m_port(port)
    , m_nextImage(std::move(nextImage))
{
}

LegacyBenchClient::~LegacyBenchClient()
{
    closeSocket();
}

void LegacyBenchClient::start()
{
    sendNext();
}

void LegacyBenchClient::sendNext()
{
    closeSocket();
    m_image = m_nextImage();
    if (m_image.isEmpty()) {
        emit finished();
        return;
    }
    m_reader = std::make_unique<protocol::FrameReader>(protocol::FrameReader::Mode::Legacy);
    m_socket = new QTcpSocket(this);
    connect(m_socket, &QTcpSocket::connected, this, &LegacyBenchClient::sendRequest);
    connect(m_socket, &QTcpSocket::readyRead, this, &LegacyBenchClient::readReply);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &LegacyBenchClient::reportError);
    connect(m_socket, &QTcpSocket::disconnected, m_socket, &QObject::deleteLater);
    m_timer.start();
    m_awaitingReply = true;
    m_socket->connectToHost(m_host, m_port);
}

void LegacyBenchClient::sendRequest()
{
    m_socket->write(protocol::encodeLegacyFrame(m_image));
}

void LegacyBenchClient::readReply()
{
    if (!m_awaitingReply)
        return;
    m_reader->append(m_socket->readAll());
    const protocol::FrameReader::Status status = m_reader->poll();
    if (status == protocol::FrameReader::Status::NeedMore)
        return;
    if (status == protocol::FrameReader::Status::Error) {
        emit imageFailed(QStringLiteral("bad reply: %1").arg(m_reader->errorString()));
    } else if (m_reader->takeLegacyPayload().isEmpty()) {
        emit imageFailed(QStringLiteral("the server answered with an empty image"));
    } else {
        emit imageDone(double(m_timer.nsecsElapsed()) / 1e6);
    }
    finishImage();
}

void LegacyBenchClient::finishImage()
{
    m_awaitingReply = false;
    // Leave the socket's slot before it goes away, then start the next image.
    QTimer::singleShot(0, this, &LegacyBenchClient::sendNext);
}

void LegacyBenchClient::reportError(QAbstractSocket::SocketError error)
{
    // The server closing after its answer is the protocol, not an error.
    if (!m_awaitingReply)
        return;
    QString reason;
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        reason = QStringLiteral("connection refused: is the server running on %1:%2?").arg(m_host).arg(m_port);
        break;
    case QAbstractSocket::RemoteHostClosedError:
        reason = QStringLiteral("the server closed the connection before answering");
        break;
    case QAbstractSocket::HostNotFoundError:
        reason = QStringLiteral("host %1 not found").arg(m_host);
        break;
    case QAbstractSocket::SocketTimeoutError:
        reason = QStringLiteral("timed out");
        break;
    default:
        reason = m_socket ? m_socket->errorString() : QStringLiteral("socket error %1").arg(int(error));
        break;
    }
    qCDebug(lcLegacyBench) << reason;
    emit imageFailed(reason);
    finishImage();
}

void LegacyBenchClient::closeSocket()
{
    if (!m_socket)
        return;
    m_socket->disconnect(this);
    m_socket->abort();
    m_socket->deleteLater();
    m_socket = nullptr;
}

} // namespace edgelens
