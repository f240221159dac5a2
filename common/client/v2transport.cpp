#include "v2transport.h"

#include "client/socketfactory.h"
#include "protocol/softassert.h"

#include <QLoggingCategory>
#include <QTcpSocket>

Q_LOGGING_CATEGORY(lcV2Transport, "edgelens.client.v2", QtInfoMsg)

namespace edgelens {

namespace {

// Replies carry a JPEG of the marked-up original; anything far larger than a request the
// server accepts is refused so a confused peer cannot make us buffer without bound.
constexpr quint32 kMaxReplyBytes = 512u * 1024u * 1024u;

double elapsedMs(const QElapsedTimer &timer)
{
    return timer.isValid() ? double(timer.nsecsElapsed()) / 1e6 : 0.0;
}

QString secondsText(int milliseconds)
{
    return QString::number(milliseconds / 1000.0, 'g', 3) + QStringLiteral(" s");
}

} // namespace

V2Transport::V2Transport(const TransportSettings &settings, bool probing, QObject *parent)
    : Transport(settings, parent)
    , m_probing(probing)
{
    m_connectTimer.setSingleShot(true);
    m_probeTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("Timed out after %1 connecting to %2.")
                 .arg(secondsText(m_settings.connectTimeoutMs), target()),
             Loss::ConnectFailed);
    });
    connect(&m_probeTimer, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("no v2 preamble from %1 within %2").arg(target(), secondsText(m_settings.probeTimeoutMs)),
             Loss::NoPreamble);
    });
}

V2Transport::~V2Transport()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void V2Transport::open()
{
    EL_RETURN_IF_FAIL(m_state == State::Idle);
    m_state = State::Connecting;
    m_reader = std::make_unique<protocol::FrameReader>(protocol::FrameReader::Mode::V2, kMaxReplyBytes);
    QTcpSocket *socket = m_settings.sockets->connectTo(
        m_settings.device, this,
        [this] {
            if (m_state == State::Connecting)
                handleEstablished();
        },
        [this](const QString &reason) { fail(reason, Loss::Refused); });
    m_socket = socket;
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
        if (socket == m_socket)
            handleReadyRead();
    });
    connect(socket, &QTcpSocket::errorOccurred, this, [this, socket](QAbstractSocket::SocketError error) {
        if (socket == m_socket)
            handleSocketError(error);
    });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        if (socket == m_socket)
            handleSocketError(QAbstractSocket::RemoteHostClosedError);
    });
    m_connectTimer.start(m_settings.connectTimeoutMs);
    qCDebug(lcV2Transport) << "connecting to" << target() << (m_probing ? "(probing for v2)" : "");
}

bool V2Transport::isReady() const
{
    return m_state == State::Ready;
}

int V2Transport::inFlight() const
{
    return int(m_pending.size());
}

int V2Transport::window() const
{
    return m_window;
}

bool V2Transport::reachedDevice(quint64 id) const
{
    Q_UNUSED(id)
    return true; // requests are written only on a ready session
}

void V2Transport::handleEstablished()
{
    m_state = State::AwaitingPreamble;
    m_socket->write(protocol::encodePreamble());
    if (m_probing)
        m_probeTimer.start(m_settings.probeTimeoutMs);
    // The server may have spoken while its identity was being checked (TLS).
    if (m_socket->bytesAvailable() > 0)
        handleReadyRead();
}

void V2Transport::handleReadyRead()
{
    if (m_state == State::Connecting)
        return; // nothing is read before the connection is established (and verified)
    QPointer<QTcpSocket> socket = m_socket;
    m_reader->append(socket->readAll());
    for (;;) {
        const protocol::FrameReader::Status status = m_reader->poll();
        if (m_state == State::AwaitingPreamble && m_reader->preambleSeen()) {
            m_probeTimer.stop();
            qCDebug(lcV2Transport) << "v2 session with" << target() << "peer version" << m_reader->peerVersion();
            if (!m_settings.token.isEmpty()) {
                m_authWireId = m_nextWireId++;
                m_socket->write(protocol::encodeMessage(protocol::makeAuth(m_authWireId, m_settings.token)));
                m_state = State::Authenticating;
            } else {
                becomeReady();
                if (socket != m_socket)
                    return;
            }
        }
        if (status == protocol::FrameReader::Status::NeedMore)
            return;
        if (status == protocol::FrameReader::Status::Error) {
            if (m_state == State::AwaitingPreamble && m_probing)
                fail(QStringLiteral("the first bytes from %1 are not a v2 preamble").arg(target()), Loss::NoPreamble);
            else
                fail(QStringLiteral("The server at %1 sent a malformed reply: %2").arg(target(), m_reader->errorString()),
                     m_state == State::Ready ? Loss::Dropped : Loss::ConnectFailed);
            return;
        }
        handleMessage(m_reader->takeMessage());
        if (socket != m_socket || m_state == State::Closed)
            return;
    }
}

void V2Transport::handleSocketError(QAbstractSocket::SocketError error)
{
    // Take whatever arrived before the close: it may complete replies.
    if (m_socket->bytesAvailable() > 0 && m_state != State::Closed) {
        QPointer<QTcpSocket> socket = m_socket;
        handleReadyRead();
        if (socket != m_socket || m_state == State::Closed)
            return;
    }
    const QString reason = describeSocketError(error, m_settings.device.host, m_settings.device.port,
                                               m_socket->errorString());
    switch (m_state) {
    case State::AwaitingPreamble:
        fail(reason, Loss::ClosedBeforePreamble);
        break;
    case State::Ready:
        fail(reason, Loss::Dropped);
        break;
    default:
        fail(reason, Loss::ConnectFailed);
        break;
    }
}

void V2Transport::becomeReady()
{
    m_connectTimer.stop();
    m_state = State::Ready;
    Q_EMIT ready();
}

void V2Transport::send(const OutgoingRequest &request)
{
    EL_RETURN_IF_FAIL(m_state == State::Ready);
    protocol::Message message;
    switch (request.kind) {
    case RequestKind::Detect:
        message = protocol::makeDetect(0, request.options, request.image);
        break;
    case RequestKind::Info:
        message.type = protocol::MessageType::InfoRequest;
        break;
    case RequestKind::Ping:
        message.type = protocol::MessageType::Ping;
        break;
    }
    if (m_nextWireId == 0)
        m_nextWireId = 1; // 0 is reserved for connection-level errors
    message.requestId = m_nextWireId++;
    Pending pending;
    pending.id = request.id;
    pending.kind = request.kind;
    pending.sent.start();
    m_pending.insert(message.requestId, pending);
    m_socket->write(protocol::encodeMessage(message));
}

void V2Transport::forget(quint64 id)
{
    for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
        if (it->id == id) {
            m_pending.erase(it);
            return;
        }
    }
}

void V2Transport::handleMessage(const protocol::Message &message)
{
    using protocol::MessageType;

    if (message.type == MessageType::AuthOk && message.requestId == m_authWireId
        && m_state == State::Authenticating) {
        becomeReady();
        return;
    }

    if (message.type == MessageType::Error) {
        const protocol::ErrorInfo error = protocol::errorFromMessage(message);
        const protocol::ErrorCode code = error.code;
        const QString text = error.message.isEmpty() ? error.name
                                                     : QStringLiteral("%1 (%2)").arg(error.message, error.name);
        const bool sessionWide = message.requestId == 0 || message.requestId == m_authWireId
            || code == protocol::ErrorCode::Unauthorized || code == protocol::ErrorCode::UnsupportedVersion;
        if (sessionWide && !m_pending.contains(message.requestId)) {
            if (code == protocol::ErrorCode::Busy) {
                // Too many connections: a passing condition, like a refused connect.
                fail(QStringLiteral("The server at %1 is busy: %2").arg(target(), text), Loss::ConnectFailed);
            } else if (code == protocol::ErrorCode::Timeout && m_state == State::Ready) {
                fail(QStringLiteral("The server at %1 closed an idle session: %2").arg(target(), text), Loss::Dropped);
            } else {
                qCWarning(lcV2Transport) << "server" << target() << "refused the session:" << text;
                fail(QStringLiteral("The server at %1 refused the session: %2").arg(target(), text), Loss::Refused);
            }
            return;
        }
        if (!m_pending.contains(message.requestId))
            return; // forgotten already
        const Pending pending = m_pending.take(message.requestId);
        if (code == protocol::ErrorCode::Busy) {
            // More in flight than this server allows per connection: stay below what it took.
            m_window = std::max(1, int(m_pending.size()));
            m_cleanRun = 0;
            Q_EMIT requestBusy(pending.id, QStringLiteral("The server at %1 is busy: %2").arg(target(), text));
            return;
        }
        const bool retryable = code == protocol::ErrorCode::Timeout || code == protocol::ErrorCode::Internal;
        Q_EMIT requestFailed(pending.id, text, retryable);
        return;
    }

    if (!m_pending.contains(message.requestId)) {
        qCDebug(lcV2Transport) << "ignoring a reply for request" << message.requestId << "(forgotten)";
        return;
    }
    const Pending pending = m_pending.take(message.requestId);
    const double rtt = elapsedMs(pending.sent);
    if (m_window > 0 && ++m_cleanRun >= growthRun(m_window)) {
        m_cleanRun = 0;
        ++m_window;
        if (m_window >= m_settings.maxInFlight)
            m_window = 0; // back to the client's own limit
    }
    switch (message.type) {
    case MessageType::Result: {
        ClientResult result;
        // Accept the result either as the whole meta or under "result".
        const QJsonObject body = message.meta.contains(QStringLiteral("result"))
            ? message.meta.value(QStringLiteral("result")).toObject()
            : message.meta;
        result.result = detectionResultFromJson(body);
        result.jpeg = message.blob;
        result.hasDetectionData = true;
        result.roundTripMs = rtt;
        Q_EMIT replied(pending.id, result);
        break;
    }
    case MessageType::Info:
        Q_EMIT infoReceived(pending.id, message.meta, rtt);
        break;
    case MessageType::Pong:
        Q_EMIT pongReceived(pending.id, rtt);
        break;
    default:
        Q_EMIT requestFailed(pending.id,
                             QStringLiteral("The server at %1 answered with an unexpected message type 0x%2.")
                                 .arg(target())
                                 .arg(quint16(message.type), 4, 16, QLatin1Char('0')),
                             false);
        break;
    }
}

void V2Transport::fail(const QString &reason, Loss loss)
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_connectTimer.stop();
    m_probeTimer.stop();
    if (m_socket) {
        QTcpSocket *socket = m_socket;
        m_socket = nullptr;
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
    m_pending.clear();
    qCDebug(lcV2Transport) << "session with" << target() << "lost:" << reason;
    Q_EMIT lost(reason, loss);
}

} // namespace edgelens
