#include "legacytransport.h"

#include "client/socketfactory.h"
#include "protocol/softassert.h"

#include <QBuffer>
#include <QImageReader>
#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTimer>

Q_LOGGING_CATEGORY(lcLegacyTransport, "edgelens.client.legacy", QtInfoMsg)

namespace edgelens {

namespace {

constexpr quint32 kMaxReplyBytes = 512u * 1024u * 1024u;

} // namespace

LegacyTransport::LegacyTransport(const TransportSettings &settings, QObject *parent)
    : Transport(settings, parent)
{
}

LegacyTransport::~LegacyTransport()
{
    for (auto it = m_exchanges.cbegin(); it != m_exchanges.cend(); ++it) {
        it.key()->disconnect(this);
        it.key()->abort();
    }
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->abort();
    }
}

void LegacyTransport::open()
{
    if (m_probe || m_closed)
        return;
    // Connect and hang up: a tutorial server reads zero bytes and closes its side.
    probeDevice(
        &m_probe, [this](QTcpSocket *) { Q_EMIT ready(); },
        [this](const QString &reason, Loss loss) { fail(reason, loss); });
}

bool LegacyTransport::reachedDevice(quint64 id) const
{
    for (const auto &exchange : m_exchanges) {
        if (exchange->id == id)
            return exchange->connected;
    }
    return false;
}

void LegacyTransport::send(const OutgoingRequest &request)
{
    EL_RETURN_IF_FAIL(request.kind == RequestKind::Detect); // the channel answers the rest
    auto exchange = std::make_shared<Exchange>();
    exchange->id = request.id;
    exchange->reader = std::make_unique<protocol::FrameReader>(protocol::FrameReader::Mode::Legacy, kMaxReplyBytes);
    exchange->sent.start();
    const QByteArray frame = protocol::encodeLegacyFrame(request.image);
    QTcpSocket *socket = m_settings.sockets->connectTo(
        m_settings.device, this,
        [this, exchange, frame] {
            if (QTcpSocket *s = exchange->socket; s && m_exchanges.contains(s)) {
                exchange->connected = true;
                s->write(frame);
            }
        },
        [this](const QString &reason) { fail(reason, Loss::Refused); });
    exchange->socket = socket;
    m_exchanges.insert(socket, exchange);
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleReadyRead(socket); });
    connect(socket, &QTcpSocket::errorOccurred, this,
            [this, socket](QAbstractSocket::SocketError error) { handleClose(socket, error); });
    connect(socket, &QTcpSocket::disconnected, this,
            [this, socket] { handleClose(socket, QAbstractSocket::RemoteHostClosedError); });
}

void LegacyTransport::forget(quint64 id)
{
    for (auto it = m_exchanges.cbegin(); it != m_exchanges.cend(); ++it) {
        if (it.value()->id == id) {
            release(it.key());
            return;
        }
    }
}

void LegacyTransport::handleReadyRead(QTcpSocket *socket)
{
    const auto exchange = m_exchanges.value(socket);
    if (!exchange)
        return;
    const QByteArray bytes = socket->readAll();
    exchange->bytesReceived += bytes.size();
    exchange->reader->append(bytes);
    const protocol::FrameReader::Status status = exchange->reader->poll();
    if (status == protocol::FrameReader::Status::NeedMore)
        return;
    if (status == protocol::FrameReader::Status::Error) {
        const QString reason = QStringLiteral("The server at %1 sent a malformed legacy reply: %2")
                                   .arg(deviceName(), exchange->reader->errorString());
        release(socket);
        Q_EMIT requestFailed(exchange->id, reason, false);
        return;
    }
    ClientResult result;
    result.jpeg = exchange->reader->takeLegacyPayload();
    result.hasDetectionData = false;
    result.legacy = true;
    result.roundTripMs = double(exchange->sent.nsecsElapsed()) / 1e6;
    // The legacy reply is the marked-up original, so its size is the image size.
    QBuffer buffer(&result.jpeg);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    const QSize size = reader.size();
    result.result.imageWidth = size.width();
    result.result.imageHeight = size.height();
    release(socket);
    Q_EMIT replied(exchange->id, result);
}

void LegacyTransport::handleClose(QTcpSocket *socket, QAbstractSocket::SocketError error)
{
    if (!m_exchanges.contains(socket))
        return;
    if (socket->bytesAvailable() > 0) {
        handleReadyRead(socket);
        if (!m_exchanges.contains(socket))
            return;
    }
    const auto exchange = m_exchanges.value(socket);
    const QString reason = describeSocketError(error, m_settings.device.host, m_settings.device.port,
                                               socket->errorString());
    if (!exchange->connected) {
        fail(reason, Loss::ConnectFailed);
        return;
    }
    if (error == QAbstractSocket::RemoteHostClosedError && exchange->bytesReceived == 0) {
        // A tutorial server closes without a word when it cannot decode or accept the image;
        // sending it again would only repeat that, so the caller decides.
        release(socket);
        Q_EMIT requestFailed(exchange->id,
                             QStringLiteral("The server at %1 closed the connection without a reply: the image may "
                                            "be unreadable or too large for it, or the server requires a token.")
                                 .arg(deviceName()),
                             true);
        return;
    }
    fail(reason, Loss::Dropped);
}

void LegacyTransport::release(QTcpSocket *socket)
{
    m_exchanges.remove(socket);
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
}

void LegacyTransport::fail(const QString &reason, Loss loss)
{
    if (m_closed)
        return;
    m_closed = true;
    const QList<QTcpSocket *> sockets = m_exchanges.keys();
    // Keep the records until lost() is handled: the channel asks which requests reached the device.
    for (QTcpSocket *socket : sockets) {
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
    if (m_probe) {
        m_probe->disconnect(this);
        m_probe->abort();
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    qCDebug(lcLegacyTransport) << "legacy exchange with" << deviceName() << "failed:" << reason;
    Q_EMIT lost(reason, loss);
    m_exchanges.clear();
}

} // namespace edgelens
