#include "detectionclient.h"

#include "protocol/softassert.h"

#include <QBuffer>
#include <QImageReader>
#include <QLoggingCategory>
#include <QMutex>
#include <QMutexLocker>
#include <QTcpSocket>

#include <algorithm>

Q_LOGGING_CATEGORY(lcClient, "edgelens.client", QtInfoMsg)

namespace edgelens {

namespace {

// Replies carry a JPEG of the marked-up original; far larger than any request the server accepts
// is still refused so a confused peer cannot make us buffer without bound.
constexpr quint32 kMaxReplyBytes = 512u * 1024u * 1024u;

// Auto answers per "host:port". Clients normally live in one thread, but two windows or a test
// may use several, so the cache is guarded.
QMutex s_detectedMutex;
QHash<QString, DetectionClient::Protocol> s_detected;

QString secondsText(int milliseconds)
{
    return QString::number(milliseconds / 1000.0, 'g', 3) + QStringLiteral(" s");
}

double elapsedMs(const QElapsedTimer &timer)
{
    return timer.isValid() ? double(timer.nsecsElapsed()) / 1e6 : 0.0;
}

} // namespace

DetectionClient::DetectionClient(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<edgelens::ClientResult>();
    m_probeTimer.setSingleShot(true);
    m_reconnectTimer.setSingleShot(true);
    m_watchdog.setInterval(100);
    connect(&m_probeTimer, &QTimer::timeout, this, &DetectionClient::handleProbeTimeout);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &DetectionClient::pump);
    connect(&m_watchdog, &QTimer::timeout, this, &DetectionClient::checkDeadlines);
}

DetectionClient::~DetectionClient()
{
    // Sockets are children; detach them first so their last signals find no slots.
    for (auto it = m_legacySockets.cbegin(); it != m_legacySockets.cend(); ++it)
        it.key()->disconnect(this);
    if (m_session)
        m_session->disconnect(this);
}

void DetectionClient::setTarget(const QString &host, quint16 port)
{
    if (host == m_host && port == m_port)
        return;
    closeSession(true);
    m_host = host;
    m_port = port;
    m_connectFailures = 0;
    m_legacyFailures = 0;
    m_reconnectTimer.stop();
    schedulePump();
}

QString DetectionClient::host() const
{
    return m_host;
}

quint16 DetectionClient::port() const
{
    return m_port;
}

void DetectionClient::setProtocol(Protocol protocol)
{
    if (protocol == m_protocol)
        return;
    closeSession(true);
    m_protocol = protocol;
    m_reconnectTimer.stop();
    schedulePump();
}

DetectionClient::Protocol DetectionClient::protocol() const
{
    return m_protocol;
}

void DetectionClient::setMaxInFlight(int count)
{
    m_maxInFlight = std::max(1, count);
    schedulePump();
}

int DetectionClient::maxInFlight() const
{
    return m_maxInFlight;
}

void DetectionClient::setTimeout(int milliseconds)
{
    m_timeoutMs = std::max(1, milliseconds);
}

int DetectionClient::timeout() const
{
    return m_timeoutMs;
}

void DetectionClient::setMaxRetries(int retries)
{
    m_maxRetries = std::max(0, retries);
}

int DetectionClient::maxRetries() const
{
    return m_maxRetries;
}

void DetectionClient::setProbeTimeout(int milliseconds)
{
    m_probeTimeoutMs = std::max(1, milliseconds);
}

void DetectionClient::setToken(const QString &token)
{
    if (token == m_token)
        return;
    closeSession(true);
    m_token = token;
    schedulePump();
}

void DetectionClient::setRetryBackoff(int initialMs, int maxMs)
{
    m_backoffInitialMs = std::max(0, initialMs);
    m_backoffMaxMs = std::max(m_backoffInitialMs, maxMs);
}

DetectionClient::Protocol DetectionClient::activeProtocol() const
{
    return resolvedProtocol();
}

DetectionClient::ConnectionState DetectionClient::connectionState() const
{
    return m_state;
}

int DetectionClient::pendingCount() const
{
    return int(m_requests.size());
}

quint64 DetectionClient::submit(const QByteArray &imageBytes, const DetectOptions &options)
{
    return enqueue(Kind::Detect, imageBytes, options);
}

quint64 DetectionClient::requestServerInfo()
{
    return enqueue(Kind::Info, QByteArray(), DetectOptions());
}

quint64 DetectionClient::ping()
{
    return enqueue(Kind::Ping, QByteArray(), DetectOptions());
}

bool DetectionClient::cancel(quint64 id)
{
    if (!m_requests.contains(id))
        return false;
    finishRequest(id);
    schedulePump();
    return true;
}

QList<quint64> DetectionClient::cancelAll()
{
    QList<quint64> ids = m_requests.keys();
    std::sort(ids.begin(), ids.end());
    for (quint64 id : std::as_const(ids))
        finishRequest(id);
    m_reconnectTimer.stop();
    return ids;
}

QString DetectionClient::describeSocketError(QAbstractSocket::SocketError error, const QString &host, quint16 port,
                                             const QString &detail)
{
    const QString where = host + QLatin1Char(':') + QString::number(port);
    switch (error) {
    case QAbstractSocket::ConnectionRefusedError:
        return QStringLiteral("Connection refused: is the server running on %1?").arg(where);
    case QAbstractSocket::HostNotFoundError:
        return QStringLiteral("Host not found: check the host name \"%1\".").arg(host);
    case QAbstractSocket::RemoteHostClosedError:
        return QStringLiteral("The server at %1 closed the connection.").arg(where);
    case QAbstractSocket::SocketTimeoutError:
        return QStringLiteral("Timed out talking to %1.").arg(where);
    case QAbstractSocket::NetworkError:
        return QStringLiteral("Network error while talking to %1: %2").arg(where, detail);
    case QAbstractSocket::SocketAccessError:
        return QStringLiteral("Not allowed to open a connection to %1: %2").arg(where, detail);
    case QAbstractSocket::SocketResourceError:
        return QStringLiteral("Out of sockets or memory while connecting to %1.").arg(where);
    case QAbstractSocket::UnsupportedSocketOperationError:
        return QStringLiteral("This system cannot reach %1 (unsupported address type).").arg(where);
    case QAbstractSocket::ProxyConnectionRefusedError:
    case QAbstractSocket::ProxyConnectionClosedError:
    case QAbstractSocket::ProxyConnectionTimeoutError:
    case QAbstractSocket::ProxyNotFoundError:
    case QAbstractSocket::ProxyProtocolError:
    case QAbstractSocket::ProxyAuthenticationRequiredError:
        return QStringLiteral("The proxy refused or failed the connection to %1: %2").arg(where, detail);
    default:
        break;
    }
    return detail.isEmpty() ? QStringLiteral("The connection to %1 failed.").arg(where)
                            : QStringLiteral("The connection to %1 failed: %2").arg(where, detail);
}

void DetectionClient::forgetDetectedProtocols()
{
    QMutexLocker lock(&s_detectedMutex);
    s_detected.clear();
}

quint64 DetectionClient::enqueue(Kind kind, const QByteArray &image, const DetectOptions &options)
{
    auto request = std::make_shared<Request>();
    request->id = m_nextId++;
    request->kind = kind;
    request->image = image;
    request->options = options;
    m_requests.insert(request->id, request);
    m_queue.push_back(request->id);
    schedulePump();
    return request->id;
}

void DetectionClient::schedulePump()
{
    if (m_pumpScheduled)
        return;
    m_pumpScheduled = true;
    // Deferred so that submit() never emits or touches sockets inside the caller's stack.
    QTimer::singleShot(0, this, [this] {
        m_pumpScheduled = false;
        pump();
    });
}

QString DetectionClient::targetKey() const
{
    return m_host.toLower() + QLatin1Char(':') + QString::number(m_port);
}

QString DetectionClient::target() const
{
    return m_host + QLatin1Char(':') + QString::number(m_port);
}

DetectionClient::Protocol DetectionClient::resolvedProtocol() const
{
    if (m_protocol != Protocol::Auto)
        return m_protocol;
    QMutexLocker lock(&s_detectedMutex);
    return s_detected.value(targetKey(), Protocol::Auto);
}

void DetectionClient::rememberProtocol(Protocol protocol)
{
    {
        QMutexLocker lock(&s_detectedMutex);
        s_detected.insert(targetKey(), protocol);
    }
    qCInfo(lcClient) << "server at" << target() << "speaks" << (protocol == Protocol::V2 ? "v2" : "legacy");
    Q_EMIT protocolDetected(protocol);
}

void DetectionClient::setConnectionState(ConnectionState state)
{
    if (state == m_state)
        return;
    m_state = state;
    Q_EMIT connectionStateChanged(state);
}

int DetectionClient::backoffDelay(int failures) const
{
    qint64 delay = m_backoffInitialMs;
    for (int i = 1; i < failures && delay < m_backoffMaxMs; ++i)
        delay *= 2;
    return int(std::min<qint64>(delay, m_backoffMaxMs));
}

void DetectionClient::pump()
{
    if (m_queue.empty() || m_reconnectTimer.isActive())
        return;
    if (!m_watchdog.isActive())
        m_watchdog.start();

    if (resolvedProtocol() == Protocol::Legacy) {
        while (!m_queue.empty()) {
            const quint64 id = m_queue.front();
            const auto request = m_requests.value(id);
            if (!request) {
                m_queue.pop_front();
                continue;
            }
            if (request->kind != Kind::Detect) {
                m_queue.pop_front();
                failRequest(id,
                            QStringLiteral("The server at %1 speaks only the legacy protocol: it has no server "
                                           "information or ping.")
                                .arg(target()),
                            false);
                continue;
            }
            if (m_legacySockets.size() >= m_maxInFlight)
                break;
            m_queue.pop_front();
            startLegacyExchange(*request);
        }
        return;
    }

    if (m_sessionState == SessionState::Idle) {
        openSession();
        return;
    }
    if (m_sessionState != SessionState::Ready)
        return;
    const int window = m_sessionWindow > 0 ? std::min(m_sessionWindow, m_maxInFlight) : m_maxInFlight;
    while (!m_queue.empty() && m_wireToId.size() < window) {
        const quint64 id = m_queue.front();
        m_queue.pop_front();
        if (const auto request = m_requests.value(id))
            sendOverSession(*request);
    }
}

// ---- v2 session -------------------------------------------------------------------------------

void DetectionClient::openSession()
{
    EL_RETURN_IF_FAIL(!m_session);
    m_session = new QTcpSocket(this);
    m_sessionReader = std::make_unique<protocol::FrameReader>(protocol::FrameReader::Mode::V2, kMaxReplyBytes);
    m_sessionState = SessionState::Connecting;
    m_sessionProbing = m_protocol == Protocol::Auto && resolvedProtocol() == Protocol::Auto;
    m_authWireId = 0;
    m_sessionWindow = 0;
    m_sessionClock.start();
    QTcpSocket *socket = m_session;
    connect(socket, &QTcpSocket::connected, this, [this, socket] {
        if (socket == m_session)
            handleSessionConnected();
    });
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] {
        if (socket == m_session)
            handleSessionReadyRead();
    });
    connect(socket, &QTcpSocket::errorOccurred, this, [this, socket](QAbstractSocket::SocketError error) {
        if (socket == m_session)
            handleSessionError(error);
    });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        if (socket == m_session)
            handleSessionDisconnected();
    });
    setConnectionState(ConnectionState::Connecting);
    if (!m_watchdog.isActive())
        m_watchdog.start();
    qCDebug(lcClient) << "connecting to" << target() << (m_sessionProbing ? "(probing for v2)" : "");
    socket->connectToHost(m_host, m_port);
}

void DetectionClient::closeSession(bool requeueWithoutPenalty)
{
    m_probeTimer.stop();
    if (m_session) {
        QTcpSocket *socket = m_session;
        m_session = nullptr;
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
    m_sessionReader.reset();
    m_sessionState = SessionState::Idle;
    m_authWireId = 0;

    // Put what was in flight back at the head of the queue, oldest first.
    QList<quint64> inFlight = m_wireToId.values();
    m_wireToId.clear();
    std::sort(inFlight.begin(), inFlight.end());
    for (auto it = inFlight.crbegin(); it != inFlight.crend(); ++it) {
        if (const auto request = m_requests.value(*it)) {
            if (requeueWithoutPenalty)
                request->attempts = std::max(0, request->attempts - 1);
            request->wireId = 0;
            request->sent.invalidate();
            m_queue.push_front(*it);
        }
    }
    // Legacy exchanges for an old target are started again for the new one.
    if (requeueWithoutPenalty) {
        QList<quint64> legacy = m_legacySockets.values();
        std::sort(legacy.begin(), legacy.end());
        for (auto it = legacy.crbegin(); it != legacy.crend(); ++it) {
            if (const auto request = m_requests.value(*it)) {
                releaseLegacySocket(*request);
                request->attempts = std::max(0, request->attempts - 1);
                m_queue.push_front(*it);
            }
        }
    }
    setConnectionState(ConnectionState::Disconnected);
}

void DetectionClient::handleSessionConnected()
{
    m_sessionState = SessionState::AwaitingPreamble;
    setConnectionState(ConnectionState::Negotiating);
    m_session->write(protocol::encodePreamble());
    if (m_sessionProbing)
        m_probeTimer.start(m_probeTimeoutMs);
}

void DetectionClient::handleSessionReadyRead()
{
    QTcpSocket *socket = m_session;
    m_sessionReader->append(socket->readAll());
    for (;;) {
        const protocol::FrameReader::Status status = m_sessionReader->poll();
        if (m_sessionState == SessionState::AwaitingPreamble && m_sessionReader->preambleSeen()) {
            m_probeTimer.stop();
            m_connectFailures = 0;
            if (m_sessionProbing) {
                m_sessionProbing = false;
                rememberProtocol(Protocol::V2);
            }
            qCDebug(lcClient) << "v2 session with" << target() << "peer version" << m_sessionReader->peerVersion();
            if (!m_token.isEmpty()) {
                m_authWireId = m_nextWireId++;
                m_session->write(protocol::encodeMessage(protocol::makeAuth(m_authWireId, m_token)));
                m_sessionState = SessionState::Authenticating;
            } else {
                m_sessionState = SessionState::Ready;
                setConnectionState(ConnectionState::Connected);
                schedulePump();
            }
        }
        if (status == protocol::FrameReader::Status::NeedMore)
            return;
        if (status == protocol::FrameReader::Status::Error) {
            if (m_sessionState == SessionState::AwaitingPreamble && m_sessionProbing) {
                fallBackToLegacy(QStringLiteral("the server's first bytes are not a v2 preamble"));
            } else {
                sessionLost(QStringLiteral("The server at %1 sent a malformed reply: %2")
                                .arg(target(), m_sessionReader->errorString()),
                            false);
            }
            return;
        }
        handleMessage(m_sessionReader->takeMessage());
        if (socket != m_session || !m_sessionReader)
            return; // the message closed the session
    }
}

void DetectionClient::handleSessionError(QAbstractSocket::SocketError error)
{
    // Take whatever arrived before the close: it may complete a reply.
    if (m_session->bytesAvailable() > 0 && m_sessionReader) {
        QTcpSocket *socket = m_session;
        handleSessionReadyRead();
        if (socket != m_session)
            return;
    }
    if (m_sessionState == SessionState::AwaitingPreamble && m_sessionProbing) {
        fallBackToLegacy(QStringLiteral("the server closed the connection instead of answering the v2 preamble"));
        return;
    }
    // A session that never became ready failed to connect; only a ready one was "dropped".
    sessionLost(describeSocketError(error, m_host, m_port, m_session->errorString()),
                m_sessionState != SessionState::Ready);
}

void DetectionClient::handleSessionDisconnected()
{
    handleSessionError(QAbstractSocket::RemoteHostClosedError);
}

void DetectionClient::handleProbeTimeout()
{
    if (m_session && m_sessionState == SessionState::AwaitingPreamble && m_sessionProbing)
        fallBackToLegacy(QStringLiteral("no v2 preamble within %1").arg(secondsText(m_probeTimeoutMs)));
}

void DetectionClient::fallBackToLegacy(const QString &why)
{
    qCInfo(lcClient) << "falling back to the legacy protocol for" << target() << "-" << why;
    closeSession(true);
    rememberProtocol(Protocol::Legacy);
    pump();
}

void DetectionClient::sessionLost(const QString &reason, bool connectFailure)
{
    qCInfo(lcClient) << "session with" << target() << "lost:" << reason;
    const bool hadInFlight = !m_wireToId.isEmpty();
    // closeSession() requeues in-flight requests at the front; those that used up their
    // retries are failed right after, the rest wait for the backoff.
    QList<quint64> inFlight = m_wireToId.values();
    std::sort(inFlight.begin(), inFlight.end());
    closeSession(false);

    if (connectFailure) {
        ++m_connectFailures;
        if (m_connectFailures > m_maxRetries) {
            m_connectFailures = 0;
            failQueued(reason, true);
            setConnectionState(ConnectionState::Disconnected);
            return;
        }
    } else {
        for (quint64 id : std::as_const(inFlight)) {
            const auto request = m_requests.value(id);
            if (!request)
                continue;
            if (request->attempts > m_maxRetries) {
                failRequest(id,
                            reason + QStringLiteral(" Gave up after %1 attempts.").arg(request->attempts), true);
            } else {
                Q_EMIT requestRetrying(id, request->attempts + 1, reason);
            }
        }
        if (hadInFlight)
            ++m_connectFailures;
        if (m_connectFailures > m_maxRetries + 1) {
            // Dropped again and again even with nothing left to retry: the server is unusable.
            m_connectFailures = 0;
            failQueued(reason, true);
        }
    }
    if (m_queue.empty()) {
        setConnectionState(ConnectionState::Disconnected);
        return;
    }
    setConnectionState(ConnectionState::Reconnecting);
    m_reconnectTimer.start(backoffDelay(std::max(1, m_connectFailures)));
}

void DetectionClient::sendOverSession(Request &request)
{
    protocol::Message message;
    switch (request.kind) {
    case Kind::Detect:
        message.type = protocol::MessageType::Detect;
        message.meta = toJson(request.options);
        message.blob = request.image;
        break;
    case Kind::Info:
        message.type = protocol::MessageType::InfoRequest;
        break;
    case Kind::Ping:
        message.type = protocol::MessageType::Ping;
        break;
    }
    if (m_nextWireId == 0)
        m_nextWireId = 1; // 0 is reserved for connection-level errors
    message.requestId = m_nextWireId++;
    request.wireId = message.requestId;
    ++request.attempts;
    request.sent.start();
    m_wireToId.insert(message.requestId, request.id);
    m_session->write(protocol::encodeMessage(message));
}

void DetectionClient::handleMessage(const protocol::Message &message)
{
    using protocol::MessageType;

    if (message.type == MessageType::AuthOk && message.requestId == m_authWireId
        && m_sessionState == SessionState::Authenticating) {
        m_sessionState = SessionState::Ready;
        setConnectionState(ConnectionState::Connected);
        schedulePump();
        return;
    }

    if (message.type == MessageType::Error) {
        const protocol::ErrorInfo error = protocol::errorFromMessage(message);
        const protocol::ErrorCode code = error.code;
        const QString text = error.message.isEmpty() ? error.name
                                                     : QStringLiteral("%1 (%2)").arg(error.message, error.name);
        const bool sessionWide = message.requestId == 0 || message.requestId == m_authWireId
            || code == protocol::ErrorCode::Unauthorized || code == protocol::ErrorCode::UnsupportedVersion;
        if (sessionWide && !m_wireToId.contains(message.requestId) && code == protocol::ErrorCode::Busy) {
            // Too many connections: a passing condition, so try again later like a refused connect.
            sessionLost(QStringLiteral("The server at %1 is busy: %2").arg(target(), text), true);
            return;
        }
        if (sessionWide && !m_wireToId.contains(message.requestId)) {
            // Nothing will succeed on this session: report it on everything waiting, don't retry.
            qCWarning(lcClient) << "server" << target() << "refused the session:" << text;
            QList<quint64> inFlight = m_wireToId.values();
            closeSession(false);
            for (quint64 id : std::as_const(inFlight))
                failRequest(id, QStringLiteral("The server at %1 refused the session: %2").arg(target(), text), false);
            failQueued(QStringLiteral("The server at %1 refused the session: %2").arg(target(), text), false);
            return;
        }
        const quint64 id = m_wireToId.take(message.requestId);
        const auto request = m_requests.value(id);
        if (!request)
            return; // cancelled or timed out already
        m_connectFailures = 0;
        if (code == protocol::ErrorCode::Busy && request->attempts <= m_maxRetries) {
            // More in flight than this server allows per connection: stay below what it took.
            m_sessionWindow = std::max(1, int(m_wireToId.size()));
            request->wireId = 0;
            m_queue.push_front(id);
            Q_EMIT requestRetrying(id, request->attempts + 1, text);
            m_reconnectTimer.start(backoffDelay(request->attempts));
            return;
        }
        const bool retryable = code == protocol::ErrorCode::Busy || code == protocol::ErrorCode::Timeout
            || code == protocol::ErrorCode::Internal;
        failRequest(id, text, retryable);
        schedulePump();
        return;
    }

    const quint64 id = m_wireToId.take(message.requestId);
    const auto request = m_requests.value(id);
    if (!request) {
        qCDebug(lcClient) << "ignoring a reply for request" << message.requestId << "(cancelled or timed out)";
        return;
    }
    m_connectFailures = 0;
    const double rtt = elapsedMs(request->sent);
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
        result.attempts = request->attempts;
        finishRequest(id);
        Q_EMIT resultReady(id, result);
        break;
    }
    case MessageType::Info:
        finishRequest(id);
        Q_EMIT serverInfoReceived(id, message.meta, rtt);
        break;
    case MessageType::Pong:
        finishRequest(id);
        Q_EMIT pongReceived(id, rtt);
        break;
    default:
        failRequest(id,
                    QStringLiteral("The server at %1 answered with an unexpected message type 0x%2.")
                        .arg(target())
                        .arg(quint16(message.type), 4, 16, QLatin1Char('0')),
                    false);
        break;
    }
    schedulePump();
}

// ---- legacy -----------------------------------------------------------------------------------

void DetectionClient::startLegacyExchange(Request &request)
{
    auto *socket = new QTcpSocket(this);
    request.legacySocket = socket;
    request.legacyReader = std::make_unique<protocol::FrameReader>(protocol::FrameReader::Mode::Legacy, kMaxReplyBytes);
    request.legacyBytesReceived = 0;
    request.legacyConnected = false;
    ++request.attempts;
    request.sent.start();
    m_legacySockets.insert(socket, request.id);

    connect(socket, &QTcpSocket::connected, this, [this, socket] { handleLegacyConnected(socket); });
    connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleLegacyReadyRead(socket); });
    connect(socket, &QTcpSocket::errorOccurred, this, [this, socket](QAbstractSocket::SocketError error) {
        if (!m_legacySockets.contains(socket))
            return;
        if (socket->bytesAvailable() > 0) {
            handleLegacyReadyRead(socket);
            if (!m_legacySockets.contains(socket))
                return;
        }
        handleLegacyFailure(socket, describeSocketError(error, m_host, m_port, socket->errorString()),
                            error == QAbstractSocket::RemoteHostClosedError);
    });
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        if (m_legacySockets.contains(socket))
            handleLegacyFailure(socket, describeSocketError(QAbstractSocket::RemoteHostClosedError, m_host, m_port),
                                true);
    });
    if (m_state == ConnectionState::Disconnected)
        setConnectionState(ConnectionState::Connecting);
    socket->connectToHost(m_host, m_port);
}

void DetectionClient::handleLegacyConnected(QTcpSocket *socket)
{
    const auto request = m_requests.value(m_legacySockets.value(socket));
    if (!request)
        return;
    request->legacyConnected = true;
    socket->write(protocol::encodeLegacyFrame(request->image));
}

void DetectionClient::handleLegacyReadyRead(QTcpSocket *socket)
{
    const quint64 id = m_legacySockets.value(socket);
    const auto request = m_requests.value(id);
    if (!request)
        return;
    const QByteArray bytes = socket->readAll();
    request->legacyBytesReceived += bytes.size();
    request->legacyReader->append(bytes);
    const protocol::FrameReader::Status status = request->legacyReader->poll();
    if (status == protocol::FrameReader::Status::NeedMore)
        return;
    if (status == protocol::FrameReader::Status::Error) {
        const QString reason = QStringLiteral("The server at %1 sent a malformed legacy reply: %2")
                                   .arg(target(), request->legacyReader->errorString());
        releaseLegacySocket(*request);
        failRequest(id, reason, false);
        schedulePump();
        return;
    }

    ClientResult result;
    result.jpeg = request->legacyReader->takeLegacyPayload();
    result.hasDetectionData = false;
    result.legacy = true;
    result.roundTripMs = elapsedMs(request->sent);
    result.attempts = request->attempts;
    // The legacy reply is the marked-up original, so its size is the image size.
    QBuffer buffer(&result.jpeg);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    const QSize size = reader.size();
    result.result.imageWidth = size.width();
    result.result.imageHeight = size.height();
    releaseLegacySocket(*request);
    m_legacyFailures = 0;
    m_connectFailures = 0;
    setConnectionState(ConnectionState::Connected);
    finishRequest(id);
    Q_EMIT resultReady(id, result);
    schedulePump();
}

void DetectionClient::handleLegacyFailure(QTcpSocket *socket, const QString &reason, bool closedByServer)
{
    const quint64 id = m_legacySockets.value(socket);
    const auto request = m_requests.value(id);
    if (!request) {
        m_legacySockets.remove(socket);
        socket->disconnect(this);
        socket->deleteLater();
        return;
    }
    const bool connected = request->legacyConnected;
    const qint64 received = request->legacyBytesReceived;
    releaseLegacySocket(*request);

    if (!connected) {
        // Never reached the server, so it does not count against the request; several
        // exchanges refused in the same round count as one failure of the target.
        --request->attempts;
        if (!m_reconnectTimer.isActive())
            ++m_connectFailures;
        if (m_connectFailures > m_maxRetries) {
            m_connectFailures = 0;
            failRequest(id, reason, true);
            failQueued(reason, true);
            if (m_requests.isEmpty())
                setConnectionState(ConnectionState::Disconnected);
            return;
        }
        m_queue.push_front(id);
        setConnectionState(ConnectionState::Reconnecting);
        if (!m_reconnectTimer.isActive())
            m_reconnectTimer.start(backoffDelay(m_connectFailures));
        return;
    }
    if (closedByServer && received == 0) {
        // A tutorial server closes without a word when it cannot decode or accept the image;
        // sending it again would only repeat that, so the caller decides.
        failRequest(id,
                    QStringLiteral("The server at %1 closed the connection without a reply: the image may be "
                                   "unreadable or too large for it, or the server requires a token.")
                        .arg(target()),
                    true);
        schedulePump();
        return;
    }
    ++m_legacyFailures;
    if (request->attempts > m_maxRetries) {
        failRequest(id, reason + QStringLiteral(" Gave up after %1 attempts.").arg(request->attempts), true);
        if (m_requests.isEmpty())
            setConnectionState(ConnectionState::Disconnected);
        schedulePump();
        return;
    }
    Q_EMIT requestRetrying(id, request->attempts + 1, reason);
    m_queue.push_front(id);
    setConnectionState(ConnectionState::Reconnecting);
    if (!m_reconnectTimer.isActive())
        m_reconnectTimer.start(backoffDelay(m_legacyFailures));
}

void DetectionClient::releaseLegacySocket(Request &request)
{
    if (QTcpSocket *socket = request.legacySocket) {
        m_legacySockets.remove(socket);
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
    request.legacySocket = nullptr;
    request.legacyReader.reset();
}

// ---- bookkeeping ------------------------------------------------------------------------------

void DetectionClient::checkDeadlines()
{
    // A probing session waiting for the preamble has the shorter probe timer instead.
    const bool probing = m_sessionProbing && m_sessionState == SessionState::AwaitingPreamble;
    if (m_session && m_sessionState != SessionState::Ready && !probing && m_sessionClock.elapsed() > m_timeoutMs) {
        sessionLost(QStringLiteral("Timed out after %1 connecting to %2.").arg(secondsText(m_timeoutMs), target()),
                    true);
    }

    const QString late = QStringLiteral("No answer from %1 within %2.").arg(target(), secondsText(m_timeoutMs));
    QList<quint64> expired;
    for (auto it = m_requests.cbegin(); it != m_requests.cend(); ++it) {
        const Request &request = *it.value();
        const bool inFlight = request.wireId != 0 || request.legacySocket;
        if (inFlight && request.sent.isValid() && request.sent.elapsed() > m_timeoutMs)
            expired.append(it.key());
    }
    std::sort(expired.begin(), expired.end());
    for (quint64 id : std::as_const(expired)) {
        const auto request = m_requests.value(id);
        if (!request)
            continue;
        // Not re-sent: the server may still be working on it, and a second copy would be
        // processed twice.
        if (request->wireId)
            m_wireToId.remove(request->wireId);
        releaseLegacySocket(*request);
        failRequest(id, late, true);
    }
    if (!expired.isEmpty())
        schedulePump();

    if (m_requests.isEmpty() && (!m_session || m_sessionState == SessionState::Ready))
        m_watchdog.stop();
}

void DetectionClient::failRequest(quint64 id, const QString &reason, bool retryable)
{
    if (!m_requests.contains(id))
        return;
    finishRequest(id);
    qCDebug(lcClient) << "request" << id << "failed:" << reason;
    Q_EMIT requestFailed(id, reason, retryable);
}

void DetectionClient::finishRequest(quint64 id)
{
    const auto request = m_requests.take(id);
    if (!request)
        return;
    if (request->wireId)
        m_wireToId.remove(request->wireId);
    releaseLegacySocket(*request);
    const auto it = std::find(m_queue.begin(), m_queue.end(), id);
    if (it != m_queue.end())
        m_queue.erase(it);
}

void DetectionClient::failQueued(const QString &reason, bool retryable)
{
    while (!m_queue.empty()) {
        const quint64 id = m_queue.front();
        m_queue.pop_front();
        failRequest(id, reason, retryable);
    }
}

} // namespace edgelens
