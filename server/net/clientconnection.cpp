#include "clientconnection.h"

#include "legacysession.h"
#include "protocolsniffer.h"
#include "proxyheader.h"
#include "serverconfig.h"
#include "v2session.h"

#include <QLoggingCategory>
#include <QSslSocket>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcConnection, "edgelens.server.connection")

namespace edgelens {

using namespace protocol;

namespace {

// Above this many unsent reply bytes the connection stops reading requests until the client
// catches up, so a client that never reads cannot make the server buffer without bound.
constexpr qint64 kMaxPendingWrite = 16 * 1024 * 1024;
constexpr qint64 kSocketReadBuffer = 1024 * 1024;
constexpr int kCloseGraceMs = 5000;  // a closing socket that cannot flush is aborted after this
constexpr int kRefusalWaitMs = 2000; // how long a refused client gets to show its protocol

QString seconds(int ms)
{
    return QString::number(ms / 1000.0, 'g', 3) + QStringLiteral(" s");
}

} // namespace

ClientConnection::ClientConnection(QTcpSocket *socket, const Context &context, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_context(context)
    , m_peer(peerName(socket))
    , m_clientAddress(AuthThrottle::normalized(socket->peerAddress()))
    , m_awaitingProxyHeader(context.config->proxyProtocol)
{
    m_socket->setParent(this);
    m_socket->setReadBufferSize(kSocketReadBuffer);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);

    m_idleTimer.setSingleShot(true);
    m_idleTimer.setInterval(m_context.config->idleTimeoutMs);
    m_frameTimer.setSingleShot(true);
    m_frameTimer.setInterval(m_context.config->effectiveFrameTimeoutMs());
    m_closeTimer.setSingleShot(true);
    m_closeTimer.setInterval(kCloseGraceMs);

    connect(m_socket, &QTcpSocket::readyRead, this, &ClientConnection::readIncoming);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &ClientConnection::resumeAfterWrite);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &ClientConnection::reportSocketError);
    connect(m_socket, &QTcpSocket::disconnected, this, &ClientConnection::handleDisconnected);
    connect(&m_idleTimer, &QTimer::timeout, this, &ClientConnection::handleIdleTimeout);
    connect(&m_frameTimer, &QTimer::timeout, this, &ClientConnection::handleFrameTimeout);
    connect(&m_closeTimer, &QTimer::timeout, this, &ClientConnection::abort);

    m_idleTimer.start();
    qCDebug(lcConnection).noquote() << m_peer << "connected";
    QMetaObject::invokeMethod(this, &ClientConnection::begin, Qt::QueuedConnection);
}

void ClientConnection::begin()
{
    // Behind a balancer the socket's address is the balancer's: the check waits for the header.
    if (!m_awaitingProxyHeader && refuseIfThrottled())
        return;
    // Bytes may already be waiting (the client wrote before we were set up).
    readIncoming();
}

bool ClientConnection::refuseIfThrottled()
{
    QString why;
    if (!m_context.service->isThrottled(m_clientAddress, &why))
        return false;
    log(QStringLiteral("? connect 0 B -> refused: ") + why, true);
    abort();
    return true;
}

ClientConnection::~ClientConnection() = default;

QString ClientConnection::peerName(const QTcpSocket *socket)
{
    return peerName(socket->peerAddress(), socket->peerPort());
}

QString ClientConnection::peerName(const QHostAddress &peer, quint16 port)
{
    const QHostAddress address = AuthThrottle::normalized(peer); // unwraps ::ffff:a.b.c.d on dual-stack sockets
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
        ? QLatin1Char('[') + address.toString() + QLatin1Char(']')
        : address.toString();
    return host + QLatin1Char(':') + QString::number(port);
}

bool ClientConnection::isEncrypted() const
{
    const auto *tls = qobject_cast<const QSslSocket *>(m_socket);
    return tls && tls->isEncrypted();
}

int ClientConnection::inFlight() const
{
    return m_session ? m_session->inFlight() : 0;
}

void ClientConnection::refuse(ErrorCode code, const QString &message)
{
    m_refusal = std::make_pair(code, message);
    m_idleTimer.setInterval(qMin(m_idleTimer.interval(), kRefusalWaitMs));
    m_idleTimer.start();
}

void ClientConnection::drain()
{
    m_draining = true;
    if (m_session)
        m_session->drain();
    else
        closeGracefully();
}

void ClientConnection::abort()
{
    m_closing = true;
    m_idleTimer.stop();
    m_frameTimer.stop();
    m_closeTimer.stop();
    if (m_socket->state() != QAbstractSocket::UnconnectedState)
        m_socket->abort(); // emits disconnected -> handleDisconnected
    else
        handleDisconnected();
}

void ClientConnection::readIncoming()
{
    if (m_closing || m_draining || m_paused)
        return;
    const QByteArray bytes = m_socket->readAll();
    if (bytes.isEmpty())
        return;
    m_idleTimer.start();
    if (m_session)
        m_context.service->metrics()->bytesReceived(metricsProtocol(), bytes.size());
    if (m_session)
        m_session->receive(bytes);
    else if (m_awaitingProxyHeader)
        takeProxyHeader(bytes);
    else
        sniff(bytes);
}

void ClientConnection::takeProxyHeader(const QByteArray &bytes)
{
    m_sniffed += bytes;
    ProxyHeader header;
    QString error;
    switch (ProxyHeader::parse(m_sniffed.left(ProxyHeader::kMaxV2), &header, &error)) {
    case ProxyHeader::Status::NeedMore:
        return;
    case ProxyHeader::Status::Invalid:
        log(QStringLiteral("? connect %1 B -> closed: %2 (with --proxy-protocol every connection must come through the "
                           "load balancer)")
                .arg(m_sniffed.size())
                .arg(error),
            true);
        abort();
        return;
    case ProxyHeader::Status::Done:
        break;
    }
    m_awaitingProxyHeader = false;
    m_sniffed.remove(0, header.length);
    if (header.local) {
        qCDebug(lcConnection).noquote() << m_peer << "PROXY v" + QString::number(header.version)
                                        << "header without a client address (a health check?)";
    } else {
        const QString balancer = m_peer;
        m_clientAddress = AuthThrottle::normalized(header.source);
        m_peer = peerName(header.source, header.sourcePort);
        qCDebug(lcConnection).noquote() << m_peer << "connected through" << balancer;
    }
    if (refuseIfThrottled())
        return;
    if (!m_sniffed.isEmpty())
        sniff(std::exchange(m_sniffed, QByteArray()));
}

bool ClientConnection::sniff(const QByteArray &bytes)
{
    m_sniffed += bytes;
    const ProtocolSniffer::Kind kind = ProtocolSniffer::classify(m_sniffed.left(ProtocolSniffer::kMaxPrefix));
    switch (kind) {
    case ProtocolSniffer::Kind::NeedMore:
        return false;
    case ProtocolSniffer::Kind::Legacy:
    case ProtocolSniffer::Kind::V2:
        startSession(kind == ProtocolSniffer::Kind::Legacy);
        return true;
    case ProtocolSniffer::Kind::TlsHandshake:
    case ProtocolSniffer::Kind::Http:
    case ProtocolSniffer::Kind::ProxyV1:
    case ProtocolSniffer::Kind::ProxyV2:
        break;
    }
    QString hint;
    if (kind == ProtocolSniffer::Kind::TlsHandshake)
        hint = QStringLiteral(" (this port speaks EdgeLens without TLS)");
    else if (kind == ProtocolSniffer::Kind::ProxyV1 || kind == ProtocolSniffer::Kind::ProxyV2)
        hint = QStringLiteral(" (start the server with --proxy-protocol to accept it from a load balancer)");
    else if (kind == ProtocolSniffer::Kind::Http)
        hint = QStringLiteral(" (this port speaks the EdgeLens protocols, not HTTP)");
    log(QStringLiteral("sent %1 on the %2 port%3; closing").arg(ProtocolSniffer::describe(kind), m_context.listenerKind, hint),
        true);
    abort();
    return false;
}

void ClientConnection::startSession(bool legacy)
{
    if (legacy)
        m_session = new LegacySession(this, m_context.service);
    else
        m_session = new V2Session(this, m_context.service);
    if (m_refusal) {
        m_session->refuse(m_refusal->first, m_refusal->second);
        return;
    }
    const QByteArray first = std::exchange(m_sniffed, QByteArray());
    m_context.service->metrics()->connectionOpened(metricsProtocol());
    m_countedOpen = true;
    m_context.service->metrics()->bytesReceived(metricsProtocol(), first.size());
    m_session->receive(first);
}

ServerMetrics::Protocol ClientConnection::metricsProtocol() const
{
    return m_session && m_session->protocolName() == QLatin1String("legacy") ? ServerMetrics::Protocol::Legacy
                                                                              : ServerMetrics::Protocol::V2;
}

void ClientConnection::write(const QByteArray &bytes)
{
    if (m_session)
        m_context.service->metrics()->bytesSent(metricsProtocol(), bytes.size());
    m_socket->write(bytes);
    if (!m_closing)
        m_idleTimer.start();
}

void ClientConnection::closeGracefully()
{
    if (m_closing)
        return;
    m_closing = true;
    m_idleTimer.stop();
    m_frameTimer.stop();
    m_closeTimer.start();
    m_socket->disconnectFromHost(); // flushes what was written, then emits disconnected
}

bool ClientConnection::writeBacklogged() const
{
    return m_socket->bytesToWrite() > kMaxPendingWrite;
}

void ClientConnection::pauseReading()
{
    m_paused = true;
}

void ClientConnection::noteFrameState(bool midFrame, bool completedFrame)
{
    // The frame deadline runs from the first byte of a frame to its last, so a client
    // trickling bytes cannot hold a connection forever by staying just under the idle timeout.
    if (m_closing || !midFrame)
        m_frameTimer.stop();
    else if (completedFrame || !m_frameTimer.isActive())
        m_frameTimer.start();
}

void ClientConnection::resumeAfterWrite()
{
    if (!m_closing)
        m_idleTimer.start(); // the client is taking replies: that is activity too
    if (!m_paused || m_socket->bytesToWrite() > kMaxPendingWrite / 2)
        return;
    m_paused = false;
    if (m_session)
        m_session->resume();
    readIncoming();
}

void ClientConnection::handleIdleTimeout()
{
    if (m_closing)
        return;
    if (m_paused) {
        // Replies are piling up and the client has not taken a byte of them for a whole idle
        // period; flushing is hopeless, so do not wait for it.
        log(QStringLiteral("%1 - 0 B -> timeout: the client stopped reading replies (%2 bytes unsent); dropping it")
                .arg(m_session ? m_session->protocolName() : QStringLiteral("?"))
                .arg(m_socket->bytesToWrite()),
            true);
        abort();
        return;
    }
    if (inFlight() > 0) {
        m_idleTimer.start(); // the wait is ours, not the client's
        return;
    }
    if (!m_session) {
        const QString why = m_refusal ? errorCodeName(m_refusal->first) + QStringLiteral(": ") + m_refusal->second
                                      : QStringLiteral("timeout: no request within %1").arg(seconds(m_idleTimer.interval()));
        log(QStringLiteral("? connect %1 B -> %2; closing").arg(m_sniffed.size()).arg(why), true);
        closeGracefully();
        return;
    }
    const QString why = m_session->midFrame()
        ? QStringLiteral("no data for %1 in the middle of a frame (%2 bytes received); closing")
              .arg(seconds(m_idleTimer.interval()))
              .arg(m_session->bufferedBytes())
        : QStringLiteral("idle for %1; closing").arg(seconds(m_idleTimer.interval()));
    m_session->timedOut(why);
}

void ClientConnection::handleFrameTimeout()
{
    if (m_closing || !m_session || !m_session->midFrame())
        return;
    m_session->timedOut(QStringLiteral("frame not completed within %1 (%2 bytes received); closing")
                            .arg(seconds(m_frameTimer.interval()))
                            .arg(m_session->bufferedBytes()));
}

void ClientConnection::reportSocketError(QAbstractSocket::SocketError socketError)
{
    QString message;
    switch (socketError) {
    case QAbstractSocket::RemoteHostClosedError:
        if (m_session && m_session->midFrame() && !m_closing) {
            message = QStringLiteral("closed the connection in the middle of a frame (%1 bytes received)")
                          .arg(m_session->bufferedBytes());
            break;
        }
        if (inFlight() > 0 && !m_closing) {
            message = QStringLiteral("closed the connection with %1 requests still running or queued").arg(inFlight());
            break;
        }
        return; // an ordinary goodbye
    case QAbstractSocket::SocketTimeoutError:
        message = QStringLiteral("socket timed out");
        break;
    case QAbstractSocket::NetworkError:
        message = QStringLiteral("network error: %1").arg(m_socket->errorString());
        break;
    default:
        message = m_socket->errorString();
        break;
    }
    qCWarning(lcConnection).noquote() << m_peer << (m_session ? m_session->protocolName() : QStringLiteral("?"))
                                      << message;
}

void ClientConnection::handleDisconnected()
{
    if (m_gone)
        return;
    m_gone = true;
    m_closing = true;
    m_idleTimer.stop();
    m_frameTimer.stop();
    m_closeTimer.stop();
    if (m_session) {
        m_session->end(); // cancels its queued work now, not when deleteLater() gets to it
        if (std::exchange(m_countedOpen, false))
            m_context.service->metrics()->connectionClosed(metricsProtocol());
    }
    qCDebug(lcConnection).noquote() << m_peer << "disconnected";
    emit closed();
    deleteLater();
}

void ClientConnection::log(const QString &line, bool failed) const
{
    if (failed)
        qCWarning(lcConnection).noquote() << m_peer + QLatin1Char(' ') + line;
    else
        qCInfo(lcConnection).noquote() << m_peer + QLatin1Char(' ') + line;
}

} // namespace edgelens
